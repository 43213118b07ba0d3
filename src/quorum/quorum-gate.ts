// Applies the quorum rules to the live member table: whether this node may write now, which
// voters must acknowledge, and changes of the voter set (downing: the writable side removes
// members that stayed FAILED for `stable-after`; a removed member that comes back alive is
// reinstated). Voter-set changes are numbered configurations agreed by a writable set of the old
// one (see voter-config.ts for the rules and why); this class holds the state and decides, while
// src/node/voter-config-sync.ts carries proposals, commits and fetches between nodes.
import { QuorumError } from '../errors.js';
import type { LifecycleState } from '../node/lifecycle.js';
import type { Role } from '../node/meta.js';
import type { Logger } from '../runtime/types.js';
import { majority, voters, writableVerdict, type MemberForQuorum, type WritableVerdict } from './rules.js';
import { compareBallots, configWord, INITIAL_CONFIG, nextConfig, parseBallot, parseVoterConfig, type Ballot, type VoterConfig } from './voter-config.js';

export interface QuorumMember {
  name: string;
  role: Role;
  state: LifecycleState;
  /** SWIM reachability: only alive members count as reachable (suspects do not). */
  reachable: boolean;
  /** When SWIM last changed this member's state (node clock, ms). */
  stateChangedAt: number;
  /** The voter-config word the member advertises (voter-config.ts configWord); absent reads as 0. */
  configWord?: number;
}

/** A Paxos acceptor's answer: ok or not, our committed epoch, and (to a prepare) what we accepted. */
export interface AcceptorAnswer {
  ok: boolean;
  epoch: number;
  accepted?: { ballot: Ballot; config: VoterConfig };
}

interface Persisted {
  known?: Record<string, Role>;
  removed?: string[];
  epoch?: number;
  id?: string;
  promised?: Ballot;
  accepted?: { ballot: Ballot; config: VoterConfig };
}

export class QuorumGate {
  private config: VoterConfig = INITIAL_CONFIG;
  private removed = new Set<string>();
  /**
   * Paxos acceptor state for the next epoch: the highest ballot promised, and the value accepted
   * (whose outcome this node does not know yet: it is pending while it holds one). Persisted
   * before any answer leaves, as Paxos requires.
   */
  private promised: Ballot | undefined;
  private accepted: { ballot: Ballot; config: VoterConfig } | undefined;
  /**
   * The last verdict and what it was computed from. `members()` returns the same array until the
   * member table changes (ClusterNode caches it), so a check on an unchanged table costs O(1)
   * instead of two sorts of the voter set: at 1,000 nodes that is most of the idle cost.
   */
  private memo: { members: QuorumMember[]; version: number; verdict: WritableVerdict } | undefined;
  private version = 0;
  /**
   * Members seen as voters, with their roles; they keep voting while they restart (see table()).
   * Persisted with the configuration, so a restarted node whose member table is still partial
   * counts every voter it knew as an unreachable voter rather than believing the cluster small.
   */
  private readonly knownVoters = new Map<string, Role>();
  private readonly knownJson = new KnownVotersJson();
  private readonly configListeners = new Set<() => void>();
  private knownDirty = false;
  private planMemo: { members: QuorumMember[]; version: number; back: string[]; failed: string[]; unsettled: boolean; lastChange: number } | undefined;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    private readonly stableAfterMs: number,
    private readonly log: Logger,
    private readonly persisted?: { load(): string | undefined; save(json: string): void },
  ) {
    try {
      const saved = JSON.parse(persisted?.load() ?? 'null') as Persisted | null;
      for (const [name, role] of Object.entries(saved?.known ?? {})) if (name !== self) this.knownVoters.set(name, role);
      if (saved) this.config = parseVoterConfig({ epoch: saved.epoch ?? 0, id: saved.id ?? '', removed: saved.removed ?? [] }, 'saved voter config');
      if (saved?.promised) this.promised = parseBallot(saved.promised, 'saved ballot');
      if (saved?.accepted) this.accepted = { ballot: parseBallot(saved.accepted.ballot, 'saved ballot'), config: parseVoterConfig(saved.accepted.config, 'saved accepted config') };
    } catch {
      // An unreadable record only makes this node forget who voted: it relearns from the cluster.
    }
    this.removed = new Set(this.config.removed);
  }

  /** The committed voter configuration. */
  voterConfig(): VoterConfig {
    return this.config;
  }

  /** The value this node accepted for the next epoch and whose outcome it does not know yet. */
  pending(): VoterConfig | undefined {
    return this.accepted?.config;
  }

  /** The word this node advertises in its metadata. */
  word(): number {
    return configWord(this.config.epoch, this.accepted !== undefined);
  }

  /** Called whenever the advertised word changes (the node republishes its metadata). */
  onConfigChange(fn: () => void): void {
    this.configListeners.add(fn);
  }

  /**
   * A member that has voted stays a voter while it restarts and catches up (JOINING, SYNCING):
   * only a member that never was a voter waits until it is ACTIVE. Otherwise the side that saw a
   * voter restart would count one voter fewer than the side that did not, and the two could each
   * believe they hold a majority (or the half with the tiebreaker) at once.
   */
  private table(removed: ReadonlySet<string> = this.removed): MemberForQuorum[] {
    let changed = false;
    const members = this.members();
    // Known voters found in the member table (names are unique there): when that is all of them,
    // nobody is missing, and no set of every name needs building (this runs on every quorum check).
    let seenKnown = 0;
    const out: MemberForQuorum[] = members.map((m) => {
      if (m.name !== this.self && (m.state === 'ACTIVE' || m.state === 'DEGRADED' || m.state === 'FAILED') && this.knownVoters.get(m.name) !== m.role) {
        this.knownJson.note(m.name, this.knownVoters.has(m.name));
        this.knownVoters.set(m.name, m.role);
        changed = true;
      } else if (m.state === 'LEFT' && this.knownVoters.delete(m.name)) {
        this.knownJson.note(m.name, true);
        changed = true;
      }
      const known = this.knownVoters.has(m.name);
      if (known) seenKnown++;
      const rejoining = (m.state === 'JOINING' || m.state === 'SYNCING' || m.state === 'DISCOVERING') && known && m.name !== this.self;
      return { name: m.name, role: m.role, state: rejoining ? 'DEGRADED' : m.state, removed: removed.has(m.name) };
    });
    // Voters we knew but do not see (yet) in the member table count as unreachable voters.
    if (seenKnown < this.knownVoters.size) {
      const seen = new Set(members.map((m) => m.name));
      for (const [name, role] of this.knownVoters) if (!seen.has(name)) out.push({ name, role, state: 'FAILED', removed: removed.has(name) });
    }
    if (changed) {
      // Saved by flush() (every quorum check), not here: a cluster forming changes the known
      // voters once per member, and writing the whole set each time was O(N^2) at start.
      this.knownDirty = true;
      this.version++;
    }
    return out;
  }

  /** Saves the known voters if they changed since the last save. */
  flush(): void {
    if (this.knownDirty) this.persist();
  }

  private persist(): void {
    this.version++;
    this.knownDirty = false;
    if (!this.persisted) return;
    // JSON.stringify of the whole record, with the known voters' part extended rather than
    // rewritten while voters are only added (see KnownVotersJson).
    const rest: Persisted = {
      removed: this.config.removed,
      epoch: this.config.epoch,
      id: this.config.id,
      ...(this.promised ? { promised: this.promised } : {}),
      ...(this.accepted ? { accepted: this.accepted } : {}),
    };
    this.persisted.save(`{"known":${this.knownJson.json(this.knownVoters)},${JSON.stringify(rest).slice(1)}`);
  }

  /**
   * The members this node counts as reachable: alive ones on its own committed configuration, and
   * ones still pending on the epoch before it. Those accepted a value for our epoch, which is
   * decided now (we hold it), so they can only end up on our configuration, and they are not
   * writable until they do; counting them spares the cluster a moment of read-only while the
   * commit notice and their new metadata travel.
   */
  private reachableNames(): Set<string> {
    const word = configWord(this.config.epoch, false);
    const catchingUp = this.config.epoch > 0 ? configWord(this.config.epoch - 1, true) : -1;
    return new Set(this.members().filter((m) => m.name === this.self || (m.reachable && ((m.configWord ?? 0) === word || m.configWord === catchingUp))).map((m) => m.name));
  }

  verdict(): WritableVerdict {
    const members = this.members();
    if (this.memo && this.memo.members === members && this.memo.version === this.version) return this.memo.verdict;
    let verdict = writableVerdict(this.table(), this.reachableNames());
    if (this.removed.has(this.self)) {
      verdict = { ...verdict, writable: false, reason: `was removed from the voter set (configuration ${this.config.epoch}) and waits for a writable side to reinstate it` };
    } else if (this.accepted) {
      verdict = { ...verdict, writable: false, reason: `is agreeing a change of the voter set (configuration ${this.accepted.config.epoch}); writes resume once it is decided` };
    }
    // A node that is still joining or catching up (or leaving) has a partial view of the voters
    // (it may not know members the cluster holds as failed), so it never accepts writes itself.
    const own = members.find((m) => m.name === this.self)?.state;
    if (verdict.writable && own !== 'ACTIVE' && own !== 'DEGRADED') {
      verdict = { ...verdict, writable: false, reason: `is ${own ?? 'not a member yet'}; it accepts writes once it is ACTIVE` };
    }
    this.memo = { members, version: this.version, verdict };
    return verdict;
  }

  /** Throws QuorumError (nothing applied) when this side may not write. */
  assertWritable(): WritableVerdict {
    const v = this.verdict();
    if (!v.writable) {
      throw new QuorumError(`this node is read-only: it ${v.reason}. Writes resume when the partition heals or failed members are removed; reads still work.`);
    }
    return v;
  }

  /**
   * Names of current voters, how many acknowledgements besides our own a write needs, and when a
   * set of acknowledgements completes it. A write needs the same kind of quorum that makes a side
   * writable: a majority of voters, or, while this side is writable only as exactly half holding
   * the tiebreaker, that half. (Two such quorums always intersect, so both cannot happen at once;
   * without this a 2+2 split left the tiebreaker's side writable but unable to acknowledge
   * anything until downing shrank the voter set.)
   */
  ackPlan(): { voters: Set<string>; needed: number; complete: (acks: ReadonlySet<string>) => boolean } {
    const vs = voters(this.table());
    const names = new Set(vs.map((v) => v.name));
    const selfVotes = names.has(this.self);
    const v = this.verdict();
    const byTiebreaker = v.writable && 2 * v.reachable === v.total && v.tiebreaker !== undefined;
    const quorumSize = byTiebreaker ? v.total / 2 : majority(vs.length);
    const complete = (acks: ReadonlySet<string>): boolean => {
      const n = vs.filter((x) => acks.has(x.name) || (x.name === this.self && selfVotes)).length;
      return 2 * n > vs.length || (byTiebreaker && 2 * n === vs.length && (acks.has(v.tiebreaker!) || v.tiebreaker === this.self));
    };
    return { voters: names, needed: Math.max(0, quorumSize - (selfVotes ? 1 : 0)), complete };
  }

  /**
   * The next voter-set change this node should propose, if any: only a writable node with no
   * proposal pending proposes. It reinstates removed members seen alive again (they rejoined with
   * a new incarnation) and, once the view has been settled for stable-after (nobody suspect, no
   * member changed SWIM state), removes every FAILED member. `ask` names the members to ask:
   * every member alive on our configuration (the proposal commits only if enough of them accept).
   */
  changePlan(now: number): { proposal: VoterConfig; down: string[]; back: string[]; ask: string[] } | undefined {
    if (this.accepted || !this.verdict().writable) return undefined;
    const f = this.planFacts();
    const settled = !f.unsettled && now - f.lastChange >= this.stableAfterMs;
    const down = settled ? f.failed : [];
    if (down.length === 0 && f.back.length === 0) return undefined;
    const word = configWord(this.config.epoch, false);
    const ask = this.members()
      .filter((m) => m.name !== this.self && m.reachable && (m.configWord ?? 0) === word)
      .map((m) => m.name);
    return { proposal: nextConfig(this.config, this.self, down, f.back), down, back: f.back, ask };
  }

  /**
   * What changePlan() reads of the member table, kept until the table or our state changes: it
   * runs on every quorum check of every node, and rescanning 1,000 members each time was a fifth
   * of a large simulation's time.
   */
  private planFacts(): { back: string[]; failed: string[]; unsettled: boolean; lastChange: number } {
    const members = this.members();
    const m = this.planMemo;
    if (m && m.members === members && m.version === this.version) return m;
    const others = members.filter((x) => x.name !== this.self);
    const back = others.filter((x) => this.removed.has(x.name) && x.reachable && x.state !== 'FAILED' && x.state !== 'LEFT').map((x) => x.name);
    const unsettled = others.some((x) => !x.reachable && x.state !== 'FAILED' && x.state !== 'LEFT');
    let lastChange = -Infinity;
    for (const x of others) if (x.stateChangedAt > lastChange) lastChange = x.stateChangedAt;
    // Known voters missing from the member table (reaped, or not relearnt after a restart) are
    // failed for good as far as this view goes: candidates as well. (None when every known voter
    // is listed; the set of names is built only when one may be missing.)
    let listedKnown = 0;
    for (const x of others) if (this.knownVoters.has(x.name)) listedKnown++;
    let unlisted: string[] = [];
    if (listedKnown < this.knownVoters.size) {
      const listed = new Set(others.map((x) => x.name));
      unlisted = [...this.knownVoters.keys()].filter((n) => !listed.has(n) && n !== this.self && !this.removed.has(n));
    }
    const failed = [...others.filter((x) => x.state === 'FAILED' && !this.removed.has(x.name)).map((x) => x.name), ...unlisted];
    this.planMemo = { members, version: this.version, back, failed, unsettled, lastChange };
    return this.planMemo;
  }

  /** Paxos phase 1 for the next epoch: promise to accept nothing below `ballot`. */
  prepare(epoch: number, ballot: Ballot): AcceptorAnswer {
    const ok = epoch === this.config.epoch + 1 && compareBallots(ballot, this.promised) >= 0;
    if (ok && compareBallots(ballot, this.promised) > 0) {
      this.promised = ballot;
      this.persist();
    }
    return { ok, epoch: this.config.epoch, ...(ok && this.accepted ? { accepted: this.accepted } : {}) };
  }

  /** Paxos phase 2: accept `config` under `ballot` unless a higher ballot was promised; pending from then on. */
  accept(ballot: Ballot, config: VoterConfig): AcceptorAnswer {
    const ok = config.epoch === this.config.epoch + 1 && compareBallots(ballot, this.promised) >= 0;
    if (ok) {
      const fresh = !this.accepted;
      this.promised = ballot;
      this.accepted = { ballot, config };
      this.persist();
      if (fresh) {
        this.log.info({ epoch: config.epoch, id: config.id, removed: config.removed }, 'accepted a voter-set change; read-only until it is decided');
        this.changed();
      }
    }
    return { ok, epoch: this.config.epoch };
  }

  /** A round number above every ballot this node has seen for the next epoch. */
  nextRound(seen = 0): number {
    return Math.max(seen, this.promised?.round ?? 0, this.accepted?.ballot.round ?? 0) + 1;
  }

  /** Whether these members (their names) are a writable set of our current voters: a Paxos quorum. */
  isQuorum(names: ReadonlySet<string>): boolean {
    return writableVerdict(this.table(), names).writable;
  }

  /** Adopts a committed configuration newer than ours (it supersedes anything pending). */
  adopt(config: VoterConfig): boolean {
    if (config.epoch <= this.config.epoch) return false;
    const before = this.removed;
    this.config = config;
    this.removed = new Set(config.removed);
    this.promised = undefined;
    this.accepted = undefined;
    this.persist();
    const down = config.removed.filter((n) => !before.has(n));
    const back = [...before].filter((n) => !this.removed.has(n));
    this.log.info({ epoch: config.epoch, id: config.id, removed: down, reinstated: back }, 'voter set changed');
    this.changed();
    return true;
  }

  private changed(): void {
    this.version++;
    for (const fn of this.configListeners) fn();
  }

  /**
   * Whether an acknowledgement carrying this config word counts towards our writes: only from
   * members on our configuration (or pending on the one before, which can only end on ours). A
   * member we count by stale metadata that has moved on answers with its real word and so adds
   * nothing to what we can acknowledge.
   */
  countsAck(word: number): boolean {
    const own = configWord(this.config.epoch, false);
    return word === own || (this.config.epoch > 0 && word === own - 1);
  }

  /** The voters this node counts as reachable right now (itself included when it votes). */
  reachableVoters(): Set<string> {
    const reach = this.reachableNames();
    return new Set(voters(this.table()).filter((v) => reach.has(v.name)).map((v) => v.name));
  }

  removedMembers(): string[] {
    return [...this.removed].sort();
  }
}

/**
 * JSON.stringify(Object.fromEntries(known)), kept up to date by appending while voters are only
 * added at the end of the map (a forming cluster adds one per member, and the record is saved at
 * the next quorum check: rewriting all of it each time was O(N^2) per node). A changed or deleted
 * entry, or a name that an object would order first (an array index), rebuilds it in full.
 */
class KnownVotersJson {
  private text = '{}';
  private size = 0;
  private stale = true;

  /** Call before changing the map: `existing` when `name` is already in it (or is being deleted). */
  note(name: string, existing: boolean): void {
    if (existing || /^(0|[1-9][0-9]*)$/.test(name)) this.stale = true;
  }

  json(known: ReadonlyMap<string, Role>): string {
    if (this.stale || known.size < this.size) {
      this.text = JSON.stringify(Object.fromEntries(known));
    } else if (known.size > this.size) {
      let i = 0;
      let added = '';
      for (const [name, role] of known) {
        if (i++ < this.size) continue;
        added += `${added === '' && this.size === 0 ? '' : ','}${JSON.stringify(name)}:${JSON.stringify(role)}`;
      }
      this.text = `${this.text.slice(0, -1)}${added}}`;
    }
    this.size = known.size;
    this.stale = false;
    return this.text;
  }
}
