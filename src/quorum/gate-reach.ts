// Which members the quorum gate counts, read from the live member table: the voters reachable on
// its configuration (memoised, or kept per row change once a member directory feeds it), voters
// listed under another incarnation (stale), and voters alive but on another configuration word
// (adopting: a write waits for them a moment instead of failing, src/memory/adoption-wait.ts).
// Split out of quorum-gate.ts, which owns the configuration and the Paxos acceptor state; this
// part only reads them, through the `GateConfigView` it is given.
import { ReachIndex } from './reach-index.js';
import type { QuorumMember } from './quorum-member.js';
import { configWord } from './voter-config.js';

/** What the counting reads of the gate: its configuration as indexed now. */
export interface GateConfigView {
  /** Bumped on every change of what decides the counts (the configuration, a proposal held, an operator removal). */
  version(): number;
  epoch(): number;
  /** Whether this node holds a proposal for the next epoch (joint). */
  joint(): boolean;
  /** Whether `name` is listed as a voter (by name only). */
  listed(name: string): boolean;
  /** Whether the entry listing `name` may be voted as by a member carrying `nodeId` (ourselves: whether we vote). */
  votesAs(name: string, nodeId: string | undefined): boolean;
}

export class GateReach {
  private staleMemo: { members: QuorumMember[]; version: number; stale: Set<string> } | undefined;
  private reachMemo: { members: QuorumMember[] | undefined; fed: number; version: number; reach: Set<string> } | undefined;
  /** Member-row changes reported (memberChanged): the version caches of the table key on, once fed. */
  rowChanges = 0;
  /** Reachable voters kept per row change, once a member directory reports rows (memberChanged). */
  fed: ReachIndex<QuorumMember> | undefined;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    private readonly cfg: GateConfigView,
  ) {}

  /**
   * Voters whose entry names another incarnation than the member the table shows under that name
   * (a wiped node back under its old name): they count as unreachable voters and their
   * acknowledgements do not count until a configuration change replaces the entry.
   */
  staleVoters(): ReadonlySet<string> {
    const members = this.members();
    const version = this.cfg.version();
    const m = this.staleMemo;
    if (m && m.members === members && m.version === version) return m.stale;
    const stale = new Set<string>();
    for (const x of members) if (x.name !== this.self && this.cfg.listed(x.name) && !this.cfg.votesAs(x.name, x.nodeId)) stale.add(x.name);
    if (this.cfg.listed(this.self) && !this.cfg.votesAs(this.self, undefined)) stale.add(this.self);
    this.staleMemo = { members, version, stale };
    return stale;
  }

  /** See QuorumGate.reachableVoters. */
  reachableVoters(): Set<string> {
    const version = this.cfg.version();
    const fed = this.fed;
    if (fed) {
      const live = fed.read(version, this.members);
      const m = this.reachMemo;
      if (m && m.fed === fed.version && m.version === version) return m.reach;
      const reach = new Set(live); // a copy the caller may keep: the index changes with the table
      this.reachMemo = { members: undefined, fed: fed.version, version, reach };
      return reach;
    }
    const members = this.members();
    const m = this.reachMemo;
    if (m && m.members === members && m.version === version) return m.reach;
    const reach = new Set<string>();
    for (const x of members) if (this.countsAsReachable(x)) reach.add(x.name);
    this.reachMemo = { members, fed: -1, version, reach };
    return reach;
  }

  /**
   * Voters of our configuration (under their listed incarnation) that SWIM shows alive but that
   * advertise another configuration word than those we count: behind ours (a member just
   * admitted, or one the commit notice has not reached yet) or ahead of it (pending on a proposal
   * for the next epoch, or on a configuration whose commit notice is on its way to us). Either
   * way one of us adopts the other's configuration within a round trip, after which they count.
   */
  adoptingVoters(): Set<string> {
    const out = new Set<string>();
    for (const x of this.members()) {
      if (x.name === this.self || !x.reachable || x.state === 'LEAVING' || x.state === 'LEFT') continue;
      if (this.cfg.votesAs(x.name, x.nodeId) && !this.onOurConfig(x)) out.add(x.name);
    }
    return out;
  }

  /**
   * Members that can acknowledge an update of a replica set a document is moving from
   * (replica-view.ts): SWIM alive, a leaver still draining included (off the voters, it takes the
   * set's updates until it exits), but not one that left, nor a voter of ours listed under another
   * incarnation (a wiped node: its acks never count). `suspects`: members SWIM only suspects too
   * (probes failed, not confirmed dead: a starved process answers late); a write waits for those
   * instead of failing (adoption-wait.ts), it is not admitted on them.
   */
  previousSetReach(suspects = false): Set<string> {
    const out = new Set<string>([this.self]);
    for (const x of this.members()) {
      if (x.name === this.self || x.state === 'LEFT' || !(x.reachable || (suspects && x.suspect === true))) continue;
      if (this.cfg.listed(x.name) && !this.cfg.votesAs(x.name, x.nodeId)) continue;
      out.add(x.name);
    }
    return out;
  }

  /** Members in the table that are not voters of our configuration (learners, or not caught up yet). */
  learners(): string[] {
    return this.members()
      .filter((m) => !this.cfg.votesAs(m.name, m.nodeId) && m.state !== 'LEFT')
      .map((m) => m.name)
      .sort();
  }

  /** Whether member row `x` counts as a reachable voter under our configuration (see reachableVoters). */
  countsAsReachable(x: QuorumMember): boolean {
    return this.cfg.votesAs(x.name, x.nodeId) && this.onOurConfig(x);
  }

  /**
   * Whether member row `x` is reachable on our configuration (voter or not): on it, or pending on
   * the one before it, or, while we hold a proposal ourselves, pending on ours like us.
   */
  onOurConfig(x: QuorumMember): boolean {
    if (x.name === this.self) return true;
    if (!x.reachable || x.state === 'LEAVING' || x.state === 'LEFT') return false;
    const epoch = this.cfg.epoch();
    const w = x.configWord ?? 0;
    return w === configWord(epoch, false) || (epoch > 0 && x.configWord === configWord(epoch - 1, true)) || (this.cfg.joint() && w === configWord(epoch, true));
  }

  /** See QuorumGate.memberChanged. */
  memberChanged(row: QuorumMember, gone: boolean): void {
    this.rowChanges++;
    (this.fed ??= new ReachIndex<QuorumMember>(this.self, (x) => this.countsAsReachable(x))).note(row, gone, this.cfg.version());
  }
}
