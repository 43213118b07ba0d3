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
   * What plan() reads of the member table, kept until a row or the gate changes (their version
   * numbers): it runs on every quorum check of every node, and rescanning 1,000 members each time
   * was a fifth of a large simulation's time.
   */
  private planFacts(gate: PlannerGate): PlanFacts {
    const m = this.planMemo;
    if (m && gate.rowsVersion !== undefined && m.rows === gate.rowsVersion && m.version === gate.version) return m;
    const members = this.members();
    const word = configWord(gate.config.epoch, false);
    const admit: Voter[] = [];
    const left: string[] = [];
    const failed: string[] = [];
    let unsettled = false;
    let lastChange = -Infinity;
    let listedVoters = 0;
    for (const x of members) {
      if (x.name === this.self) {
        // Our own entry from a version before node ids: re-admitted under ours (see below).
        if (gate.voterRoles.has(x.name) && gate.voterIds.get(x.name) === undefined && x.nodeId !== undefined) admit.push(learner(x));
        continue;
      }
      if (x.stateChangedAt > lastChange) lastChange = x.stateChangedAt;
      if (!x.reachable && x.state !== 'FAILED' && x.state !== 'LEFT') unsettled = true;
      const caughtUp = x.reachable && (x.state === 'ACTIVE' || x.state === 'DEGRADED') && (x.configWord ?? 0) === word;
      if (gate.voterRoles.has(x.name)) {
        listedVoters++;
        if (x.state === 'LEFT') left.push(x.name);
        else if (x.state === 'FAILED') failed.push(x.name);
        else if (caughtUp && !sameIncarnation(gate.voterIds.get(x.name), x.nodeId)) {
          // Another incarnation under a voter's name (its data directory was wiped): the entry's
          // own can never answer again, so admit this one in its place once it caught up.
          admit.push(learner(x));
        } else if (caughtUp && gate.voterIds.get(x.name) === undefined && x.nodeId !== undefined) {
          // An entry of a version before node ids (it matches by name): re-admitted under the
          // member's node id, so a later wipe of that member is told apart. No less safe than now.
          admit.push(learner(x));
        }
      } else if (caughtUp) {
        // A learner caught up (SYNCING and JOINING never vote) and holding our configuration.
        admit.push(learner(x));
      }
    }
    // Voters missing from the member table (reaped, or not relearnt after a restart) are failed
    // for good as far as this view goes: candidates as well. (None when every voter is listed;
    // the set of names is built only when one may be missing.)
    const otherVoters = gate.voterRoles.size - (gate.voterRoles.has(this.self) ? 1 : 0);
    if (listedVoters < otherVoters) {
      const listed = new Set(members.map((x) => x.name));
      for (const n of gate.voterRoles.keys()) if (n !== this.self && !listed.has(n)) failed.push(n);
    }
    const facts = { admit, left, failed, unsettled, lastChange };
    this.planMemo = gate.rowsVersion === undefined ? undefined : { ...facts, rows: gate.rowsVersion, version: gate.version };
    return facts;
  }
}

/** The voter entry that admits member row `x`: under its node id, so only this incarnation votes as it. */
function learner(x: QuorumMember): Voter {
  return { name: x.name, role: x.role, ...(x.nodeId ? { nodeId: x.nodeId } : {}) };
}
