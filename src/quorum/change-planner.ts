// Plans the next change of the voter set from the member table: which learners to admit, which
// voters to down (FAILED for stable-after, or removed by an operator) and which left. The gate
// (quorum-gate.ts) decides whether this node may propose at all; this part reads the table, holds
// admissions back while learners are still arriving, and builds the next configuration.
import type { Role } from '../vocabulary.js';
import { configWord, nextConfig, type Voter, type VoterChange, type VoterConfig } from './voter-config.js';
import type { ChangePlan, QuorumMember } from './quorum-member.js';
import { sameIncarnation } from './voter-identity.js';

/** Admissions wait for this long without a new learner (see plan)... */
const ADMIT_SETTLE_MS = 200;
/** ...but no longer than this since the first of them was seen. */
const ADMIT_MAX_WAIT_MS = 1500;

/** What the planner reads of the gate: its configuration, indexed, and a version that grows on every change of it. */
export interface PlannerGate {
  readonly config: VoterConfig;
  readonly voterRoles: ReadonlyMap<string, Role>;
  /** Each entry's node id (voter-identity.ts). */
  readonly voterIds: ReadonlyMap<string, string | undefined>;
  readonly version: number;
  /**
   * Grows with every change of a member row (a member directory's count of row changes), so the
   * planner rescans the table only after one; undefined when nobody counts them (rescan per plan).
   */
  readonly rowsVersion: number | undefined;
}

interface PlanFacts {
  admit: Voter[];
  left: string[];
  failed: string[];
  unsettled: boolean;
  lastChange: number;
}

export class ChangePlanner {
  private planMemo: (PlanFacts & { rows: number; version: number }) | undefined;
  /** Each member row's part in the facts, kept per row change while fed (see rowChanged). */
  private index: RowIndex | undefined;
  /** The learners plan() last saw admissible, since when, and when that set last grew. */
  private admitWait: { key: string; first: number; last: number } | undefined;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    private readonly stableAfterMs: number,
  ) {}

  /** Forgets held-back admissions (the node may not propose now). */
  idle(): void {
    this.admitWait = undefined;
  }

  /**
   * The change due now, if any (the caller checked that this node may propose). One change
   * carries everything due at once: every admissible learner, voters that left, and, once the
   * view has been settled for stable-after, every FAILED voter; `operatorDown` are downed at once.
   */
  plan(now: number, gate: PlannerGate, operatorDown: ReadonlySet<string>): ChangePlan | undefined {
    const f = this.planFacts(gate);
    const settled = !f.unsettled && now - f.lastChange >= this.stableAfterMs;
    const asked = [...operatorDown].filter((n) => gate.voterRoles.has(n) && n !== this.self);
    const down = asked.length ? [...new Set([...(settled ? f.failed : []), ...asked])] : settled ? f.failed : [];
    if (down.length === 0 && f.admit.length === 0 && f.left.length === 0) {
      this.admitWait = undefined;
      return undefined;
    }
    // Admissions alone wait until the learners stop arriving (ADMIT_SETTLE_MS without a new one,
    // ADMIT_MAX_WAIT_MS at most): members started together turn ACTIVE within moments of each
    // other, and every change costs each voter two metadata updates sent to many members, so a
    // forming cluster should admit them in a few batches rather than one change per arrival.
    if (down.length === 0 && f.left.length === 0) {
      const key = `${f.admit.length}/${f.admit[f.admit.length - 1]!.name}`;
      if (!this.admitWait) this.admitWait = { key, first: now, last: now };
      else if (this.admitWait.key !== key) this.admitWait = { key, first: this.admitWait.first, last: now };
      if (now - this.admitWait.last < ADMIT_SETTLE_MS && now - this.admitWait.first < ADMIT_MAX_WAIT_MS) return undefined;
    }
    this.admitWait = undefined;
    return this.build(gate, { admit: f.admit, down, leave: f.left });
  }

  /** A change asked for rather than planned (undefined when it would leave no voter). */
  requested(gate: PlannerGate, change: VoterChange): ChangePlan | undefined {
    const plan = this.build(gate, change);
    return plan.proposal.voters.length === 0 ? undefined : plan;
  }

  /** When admissions plan() holds back (learners still arriving) are due, if any. */
  admissionDueAt(): number | undefined {
    const w = this.admitWait;
    return w ? Math.min(w.last + ADMIT_SETTLE_MS, w.first + ADMIT_MAX_WAIT_MS) : undefined;
  }

  /** The next configuration for `change`, and the other voters alive on ours to ask (the Paxos acceptors). */
  private build(gate: PlannerGate, change: VoterChange): ChangePlan {
    const proposal = nextConfig(gate.config, this.self, change);
    const word = configWord(gate.config.epoch, false);
    const ask = this.members()
      .filter((m) => m.name !== this.self && m.reachable && (m.configWord ?? 0) === word && gate.voterRoles.has(m.name) && sameIncarnation(gate.voterIds.get(m.name), m.nodeId))
      .map((m) => m.name);
    const removed = new Set(gate.config.removed);
    const admit = [...(change.admit ?? [])];
    return {
      proposal,
      admit: admit.map((v) => v.name),
      down: [...(change.down ?? [])],
      leave: [...(change.leave ?? [])],
      back: admit.filter((v) => removed.has(v.name)).map((v) => v.name),
      ask,
    };
  }

  /**
   * A member row changed (`gone`: it left the table), as the gate's member directory reports it:
   * the row index behind planFacts follows it in O(1). `view` is read only while an index is kept.
   */
  rowChanged(row: QuorumMember, gone: boolean, view: () => PlannerGate): void {
    const ix = this.index;
    if (!ix) return;
    const gate = view();
    if (gate.version !== ix.version) {
      this.index = undefined; // classified under another configuration: rebuilt by the next rescan
      return;
    }
    let p = ix.rows.get(row.name);
    if (p) countRow(ix, p, -1);
    if (gone) {
      ix.rows.delete(row.name);
      return;
    }
    if (!p) ix.rows.set(row.name, (p = { part: NONE, voter: false }));
    classify(p, row, this.self, gate);
    countRow(ix, p, 1);
  }

  /**
   * What plan() reads of the member table. Fed row changes (rowsVersion defined), it comes from a
   * per-row index in O(1) while nothing is to be admitted, left or failed, which is how a formed
   * cluster spends its time (every voter plans at every quorum check, every 500 ms, and member
   * events never stop at 1,000 nodes, so a rescan per check after any event was O(N) per node
   * per check); otherwise from a rescan, kept until a row or the gate changes.
   */
  private planFacts(gate: PlannerGate): PlanFacts {
    const ix = this.index;
    if (gate.rowsVersion !== undefined && ix && ix.version === gate.version && ix.admit === 0 && ix.left === 0 && ix.failed === 0 && ix.voters >= otherVoters(gate, this.self)) {
      // Nothing to admit, remove or down: plan() proposes only what an operator asked for, which
      // does not wait for a settled view, so whether the view is settled is not worked out here.
      return NOTHING_DUE;
    }
    const m = this.planMemo;
    if (m && gate.rowsVersion !== undefined && m.rows === gate.rowsVersion && m.version === gate.version) return m;
    const members = this.members();
    const index: RowIndex | undefined = gate.rowsVersion === undefined ? undefined : { version: gate.version, rows: new Map(), admit: 0, left: 0, failed: 0, voters: 0 };
    const admit: Voter[] = [];
    const left: string[] = [];
    const failed: string[] = [];
    let unsettled = false;
    let lastChange = -Infinity;
    let listedVoters = 0;
    for (const x of members) {
      const p: RowPart = { part: NONE, voter: false };
      classify(p, x, this.self, gate);
      if (index) {
        index.rows.set(x.name, p);
        countRow(index, p, 1);
      }
      if (x.name !== this.self) {
        if (x.stateChangedAt > lastChange) lastChange = x.stateChangedAt;
        if (!x.reachable && x.state !== 'FAILED' && x.state !== 'LEFT') unsettled = true;
      }
      if (p.voter) listedVoters++;
      if (p.part === ADMIT) admit.push(learner(x));
      else if (p.part === LEFT) left.push(x.name);
      else if (p.part === FAILED) failed.push(x.name);
    }
    this.index = index;
    // Voters missing from the member table (reaped, or not relearnt after a restart) are failed
    // for good as far as this view goes: candidates as well. (None when every voter is listed;
    // the set of names is built only when one may be missing.)
    if (listedVoters < otherVoters(gate, this.self)) {
      const listed = new Set(members.map((x) => x.name));
      for (const n of gate.voterRoles.keys()) if (n !== this.self && !listed.has(n)) failed.push(n);
    }
    const facts = { admit, left, failed, unsettled, lastChange };
    this.planMemo = gate.rowsVersion === undefined ? undefined : { ...facts, rows: gate.rowsVersion, version: gate.version };
    return facts;
  }
}

/** What one member row adds to the plan's facts: NONE, or one of the lists. */
const NONE = 0;
const ADMIT = 1;
const LEFT = 2;
const FAILED = 3;

interface RowPart {
  part: typeof NONE | typeof ADMIT | typeof LEFT | typeof FAILED;
  /** A listed voter other than us (counted against the configuration's voters). */
  voter: boolean;
}

/** The member rows classified under gate version `version`, with the counts planFacts reads. */
interface RowIndex {
  version: number;
  rows: Map<string, RowPart>;
  admit: number;
  left: number;
  failed: number;
  voters: number;
}

function countRow(ix: RowIndex, p: RowPart, d: 1 | -1): void {
  if (p.part === ADMIT) ix.admit += d;
  else if (p.part === LEFT) ix.left += d;
  else if (p.part === FAILED) ix.failed += d;
  if (p.voter) ix.voters += d;
}

/** The facts when no row is to be admitted, removed or downed (frozen: shared by every planner). */
const NOTHING_DUE: PlanFacts = Object.freeze({ admit: [], left: [], failed: [], unsettled: false, lastChange: -Infinity });

/** The voters of the configuration other than `self`. */
function otherVoters(gate: PlannerGate, self: string): number {
  return gate.voterRoles.size - (gate.voterRoles.has(self) ? 1 : 0);
}

/** Sets `p` to what row `x` adds to the facts under `gate` (the rules of a plan, one row at a time). */
function classify(p: RowPart, x: QuorumMember, self: string, gate: PlannerGate): void {
  p.voter = false;
  p.part = NONE;
  if (x.name === self) {
    // Our own entry from a version before node ids: re-admitted under ours (see below).
    if (gate.voterRoles.has(x.name) && gate.voterIds.get(x.name) === undefined && x.nodeId !== undefined) p.part = ADMIT;
    return;
  }
  const caughtUp = x.reachable && (x.state === 'ACTIVE' || x.state === 'DEGRADED') && (x.configWord ?? 0) === configWord(gate.config.epoch, false);
  if (gate.voterRoles.has(x.name)) {
    p.voter = true;
    if (x.state === 'LEFT') p.part = LEFT;
    else if (x.state === 'FAILED') p.part = FAILED;
    // Another incarnation under a voter's name (its data directory was wiped): the entry's own can
    // never answer again, so admit this one in its place once it caught up.
    else if (caughtUp && !sameIncarnation(gate.voterIds.get(x.name), x.nodeId)) p.part = ADMIT;
    // An entry of a version before node ids (it matches by name): re-admitted under the member's
    // node id, so a later wipe of that member is told apart. No less safe than now.
    else if (caughtUp && gate.voterIds.get(x.name) === undefined && x.nodeId !== undefined) p.part = ADMIT;
  } else if (caughtUp) {
    // A learner caught up (SYNCING and JOINING never vote) and holding our configuration.
    p.part = ADMIT;
  }
}

/** The voter entry that admits member row `x`: under its node id, so only this incarnation votes as it. */
function learner(x: QuorumMember): Voter {
  return { name: x.name, role: x.role, ...(x.nodeId ? { nodeId: x.nodeId } : {}) };
}
