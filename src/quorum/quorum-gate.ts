// Applies the quorum rules to the live member table: whether this node may write now, which
// voters must acknowledge, and changes of the voter set (admitting learners: members ACTIVE but
// not on the configuration; downing: the writable side removes voters that stayed FAILED for
// `stable-after`; removing voters that left). The voters are exactly the committed configuration's
// list, and every change of it is the next numbered configuration, agreed by a writable set of the
// old one (see voter-config.ts for the rules and why); this class holds the state and decides
// (change-planner.ts plans the next change, gate-record.ts reads and writes its record), while
// reconfiguration.ts runs the protocol that carries proposals, commits and fetches between nodes.
import { ConfigError } from '../errors.js';
import { countListed, notVotingReason, readOnlyError } from './gate-verdict.js';
import type { LifecycleState, Role } from '../vocabulary.js';
import type { Logger } from '../runtime/types.js';
import { countedVerdict, type AckPlan, type WritableVerdict } from './rules.js';
import { GateReach } from './gate-reach.js';
import { acksCount, voterAckPlan } from './gate-acks.js';
import { PaxosAcceptor } from './gate-acceptor.js';
import { ChangePlanner, type PlannerGate } from './change-planner.js';
import { gateRecordJson, readGateRecord, type GateState } from './gate-record.js';
import { proposedVerdict } from './joint-config.js';
import type { AcceptorAnswer, ChangePlan, QuorumMember } from './quorum-member.js';
import { checkReplicationFactor, DEFAULT_REPLICATION_FACTOR } from '../placement/replication-factor.js';
import { configTiebreaker, configWord, EMPTY_CONFIG, genesisConfig, type Ballot, type VoterChange, type VoterConfig } from './voter-config.js';
import { sameIncarnation } from './voter-identity.js';

export type { AcceptorAnswer, ChangePlan, QuorumMember } from './quorum-member.js';

export class QuorumGate {
  private config: VoterConfig = EMPTY_CONFIG;
  /** The configuration's voters by name, and its tiebreaker: rebuilt when the configuration changes. */
  private voterRoles = new Map<string, Role>();
  /** Each voter entry's node id (voter-identity.ts); undefined for an entry of an older version. */
  private voterIds = new Map<string, string | undefined>();
  /** Whether this node votes: listed, under its own node id, and not fenced. */
  private selfVotes = false;
  /**
   * Set when our saved record was unreadable: we may have promised or accepted values we no longer
   * know, so we must not answer as the entry listing us until a configuration without us (after a
   * graceful stop the others remove us) is adopted; re-admitted after that we vote again. Persisted.
   */
  private fenced = false;
  /** Voters an operator asked to remove (`tri operator remove-voter`): downed without waiting for stable-after. */
  private readonly operatorDown = new Set<string>();
  private tiebreakerName: string | undefined;
  /** Paxos acceptor state for the next epoch (gate-acceptor.ts), persisted in our record. */
  private readonly acceptor: PaxosAcceptor;
  /**
   * The last verdict and what it was computed from, so a check on an unchanged table costs O(1)
   * (at 1,000 nodes that is most of the idle cost): fed by a member directory (memberChanged), it
   * keys on the reach index's version and the count of row changes; a gate nobody feeds (unit
   * tests, micro benchmarks) on the members() array.
   */
  private memo: { members: QuorumMember[] | undefined; fed: number; version: number; verdict: WritableVerdict; rows: number } | undefined;
  /** Counting members: reachable, stale and adopting voters (gate-reach.ts). */
  readonly reach: GateReach;
  private readonly planner: ChangePlanner;
  private version = 0;
  private readonly configListeners = new Set<() => void>();
  /** The replication factor this node founds a cluster with (see found()); a joiner takes the cluster's. */
  private foundingFactor = DEFAULT_REPLICATION_FACTOR;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    stableAfterMs: number,
    private readonly log: Logger,
    private readonly persisted?: { load(): string | undefined; save(json: string): void },
    /** Our own role: the genesis configuration and a migrated record list us with it. */
    private readonly selfRole: Role = 'hybrid',
    /** The node id of our data directory: we vote only under an entry with it (voter-identity.ts). */
    private readonly selfNodeId?: string,
  ) {
    this.planner = new ChangePlanner(self, members, stableAfterMs);
    this.reach = new GateReach(self, members, {
      version: () => this.version,
      epoch: () => this.config.epoch,
      joint: () => this.acceptor.accepted !== undefined,
      listed: (n) => this.voterRoles.has(n),
      votesAs: (n, id) => this.votesAs(n, id),
    });
    const saved: GateState = { config: undefined, promised: undefined, accepted: undefined };
    let unreadable = false;
    try {
      readGateRecord(persisted?.load(), self, selfRole, saved);
    } catch {
      // We relearn the configuration from the cluster, but not what we promised: fenced (see `fenced`).
      unreadable = true;
    }
    this.config = saved.config ?? EMPTY_CONFIG;
    this.acceptor = new PaxosAcceptor(
      { votes: () => this.selfVotes, epoch: () => this.config.epoch, nodeId: selfNodeId, persist: () => this.persist(), pendingStarted: () => this.changed(), log },
      saved.promised,
      saved.accepted,
    );
    this.fenced = unreadable || saved.fenced === true;
    this.indexConfig();
    if (unreadable) {
      this.log.error({}, 'the saved voter record is unreadable: this node may have made Paxos promises it no longer knows, so it will not vote under its entry until a configuration without it is adopted (stop it gracefully: the others remove it; started again it is admitted anew) or its data directory is wiped (a new node id, replaced automatically)');
      this.persist();
    } else if (saved.migrated) {
      this.log.info(saved.migrated, 'migrated the voter set of the previous version to an explicit configuration');
      this.persist();
    }
  }

  private indexConfig(): void {
    this.voterRoles = new Map(this.config.voters.map((v) => [v.name, v.role]));
    this.voterIds = new Map(this.config.voters.map((v) => [v.name, v.nodeId]));
    this.tiebreakerName = configTiebreaker(this.config);
    this.selfVotes = !this.fenced && this.voterRoles.has(this.self) && sameIncarnation(this.voterIds.get(this.self), this.selfNodeId);
  }

  /** Whether our configuration lists `name` under an entry that `nodeId` (a member's, an answer's) may vote as. */
  votesAs(name: string, nodeId: string | undefined): boolean {
    if (name === this.self) return this.selfVotes;
    return this.voterRoles.has(name) && sameIncarnation(this.voterIds.get(name), nodeId);
  }

  /** Voters listed under another incarnation than the member of that name shows: never reachable, their acks never count (gate-reach.ts). */
  staleVoters(): ReadonlySet<string> {
    return this.reach.staleVoters();
  }

  /** The committed voter configuration. */
  voterConfig(): VoterConfig {
    return this.config;
  }

  /** The value this node accepted for the next epoch and whose outcome it does not know yet. */
  pending(): VoterConfig | undefined {
    return this.acceptor.accepted?.config;
  }

  /** The word this node advertises in its metadata. */
  word(): number {
    return configWord(this.config.epoch, this.acceptor.accepted !== undefined);
  }

  /** Whether `name` is a voter of our committed configuration (ourselves: under our own node id, see votesAs). */
  isVoter(name: string): boolean {
    return name === this.self ? this.selfVotes : this.voterRoles.has(name);
  }

  /** Called whenever the advertised word changes (the node republishes its metadata). */
  onConfigChange(fn: () => void): void {
    this.configListeners.add(fn);
  }

  /**
   * The replication factor this node puts in the first configuration if it founds a cluster
   * (`tri node start --replication-factor`). It changes nothing once the node holds a
   * configuration: the cluster's factor, set by its founder, holds. Returns the configuration's
   * factor when that differs from `n` (the caller warns that its flag is not in force).
   */
  setFoundingReplicationFactor(n: number): number | undefined {
    const bad = checkReplicationFactor(n);
    if (bad) throw new ConfigError(bad);
    this.foundingFactor = n;
    return this.config.epoch > 0 && this.config.replicationFactor !== n ? this.config.replicationFactor : undefined;
  }

  /**
   * Founds a cluster: a node that holds no configuration (never joined one) and has nobody to
   * join creates configuration 1 with itself as the only voter. Does nothing otherwise.
   */
  found(): boolean {
    if (this.config.epoch !== 0 || this.acceptor.accepted) return false;
    this.config = genesisConfig(this.self, this.selfRole, this.foundingFactor, this.selfNodeId);
    this.indexConfig();
    this.persist();
    this.log.info({ epoch: this.config.epoch, replicationFactor: this.config.replicationFactor }, 'founded a cluster: the first voter configuration lists this node alone');
    this.changed();
    return true;
  }

  private persist(): void {
    this.version++;
    if (!this.persisted) return;
    this.persisted.save(gateRecordJson({ config: this.config, promised: this.acceptor.promised, accepted: this.acceptor.accepted, fenced: this.fenced }));
  }

  /**
   * The voters this node counts as reachable (itself included when it votes): voters alive on its
   * own committed configuration, and ones still pending on the epoch before it. Those accepted a
   * value for our epoch, which is decided now (we hold it), so they can only end up on our
   * configuration, and they are not writable until they do; counting them spares the cluster a
   * moment of read-only while the commit notice and their new metadata travel. A voter that is
   * leaving or left is not counted. A voter restarting (JOINING, SYNCING) still counts: it is on
   * the configuration, and both sides of a split must count the same voters.
   */
  reachableVoters(): Set<string> {
    return this.reach.reachableVoters();
  }

  /** Voters alive but still advertising an older configuration than ours (gate-reach.ts): about to be reachable. */
  adoptingVoters(): Set<string> {
    return this.reach.adoptingVoters();
  }

  /**
   * A member directory reports every change of a member row here (`gone` when the member left the
   * table): verdicts then follow the table in O(1) per member event instead of recounting it.
   * Once called, the directory must report every change, as `members()` shows it.
   */
  memberChanged(row: QuorumMember, gone = false): void {
    this.reach.memberChanged(row, gone);
    this.planner.rowChanged(row, gone, () => this.plannerView());
  }

  /** The verdict from `count` reachable voters; `names` answers whether the tiebreaker is among them. */
  private countVerdict(count: number, names: ReadonlySet<string>): WritableVerdict {
    const tb = this.tiebreakerName;
    return countedVerdict(this.voterRoles.size, count, tb, tb !== undefined && names.has(tb));
  }

  verdict(): WritableVerdict {
    const fed = this.reach.fed;
    let members: QuorumMember[] | undefined;
    let verdict: WritableVerdict;
    let own: LifecycleState | undefined;
    if (fed) {
      // The index holds only voters of the configuration it was counted for (this.version).
      const reach = fed.read(this.version, this.members);
      if (this.memo && this.memo.fed === fed.version && this.memo.version === this.version && (!this.acceptor.accepted || this.memo.rows === this.reach.rowChanges)) return this.memo.verdict;
      verdict = this.countVerdict(reach.size, reach);
      own = fed.ownState;
    } else {
      members = this.members();
      if (this.memo && this.memo.members === members && this.memo.version === this.version) return this.memo.verdict;
      const reach = this.reachableVoters();
      verdict = this.countVerdict(countListed(reach, this.voterRoles), reach);
      own = members.find((m) => m.name === this.self)?.state;
    }
    const epoch = this.config.epoch;
    if (!this.selfVotes) {
      const reason = notVotingReason({ listed: this.voterRoles.has(this.self), fenced: this.fenced, epoch, removed: this.config.removed.includes(this.self), nodeId: this.selfNodeId });
      verdict = { ...verdict, writable: false, reason };
    } else if (this.acceptor.accepted && verdict.writable) {
      // Joint: a writable set of the committed voters and of the proposed ones (joint-config.ts).
      const rows = new Map(this.members().map((m) => [m.name, m]));
      const p = proposedVerdict(this.acceptor.accepted.config, (n) => {
        const row = rows.get(n);
        return n === this.self || (row !== undefined && this.reach.onOurConfig(row));
      });
      if (!p.writable) verdict = { ...verdict, writable: false, reason: `is agreeing a change of the voter set (configuration ${this.acceptor.accepted.config.epoch}) and a write needs a writable set of both the current and the proposed voters: of the proposed it ${p.reason}` };
    }
    // A node that is still joining or catching up (or leaving) has a partial view of the voters
    // (it may not know members the cluster holds as failed), so it never accepts writes itself.
    if (verdict.writable && own !== 'ACTIVE' && own !== 'DEGRADED') {
      verdict = { ...verdict, writable: false, reason: `is ${own ?? 'not a member yet'}; it accepts writes once it is ACTIVE` };
    }
    // While a change is pending the verdict also reads the proposed voters' rows: memoised on the table too.
    this.memo = { members, fed: fed ? fed.version : -1, version: this.version, verdict, rows: this.reach.rowChanges };
    return verdict;
  }

  /** Throws QuorumError (nothing applied) when this side may not write. */
  assertWritable(): WritableVerdict {
    const v = this.verdict();
    if (!v.writable) throw readOnlyError(v);
    return v;
  }

  /** The voters a write needs acknowledgements of, how many, and when a set of acks completes it (gate-acks.ts). Learners' acks never count. */
  ackPlan(): AckPlan {
    return voterAckPlan(this.self, this.voterRoles.keys(), this.staleVoters(), this.verdict(), this.acceptor.accepted?.config);
  }

  /**
   * The next voter-set change this node should propose, if any: only a writable node with no
   * proposal pending proposes. One change carries everything due at once: it admits every
   * learner that is ACTIVE (or DEGRADED), reachable and on our configuration (a forming cluster
   * admits its members in a few batches, not one round each), removes voters that left at once,
   * and, once the view has been settled for stable-after (nobody suspect, no member changed SWIM
   * state), removes every FAILED voter. `ask` names the other voters alive on our configuration:
   * the proposal commits only if a writable set of the voters accept it.
   */
  changePlan(now: number): ChangePlan | undefined {
    if (this.acceptor.accepted || !this.verdict().writable) {
      this.planner.idle();
      return undefined;
    }
    return this.planner.plan(now, this.plannerView(), this.operatorDown);
  }

  /** What the change planner reads of this gate. */
  private plannerView(): PlannerGate {
    return { config: this.config, voterRoles: this.voterRoles, voterIds: this.voterIds, version: this.version, rowsVersion: this.reach.fed ? this.reach.rowChanges : undefined };
  }

  /**
   * An operator's removal of voter `name` (gone for good): the next change this node proposes
   * downs it, through the same configuration change as any downing. False when it is no voter.
   */
  requestRemoval(name: string): boolean {
    if (!this.voterRoles.has(name) || name === this.self) return false;
    this.operatorDown.add(name);
    this.version++;
    return true;
  }

  /** When admissions changePlan() holds back (learners still arriving) are due, if any. */
  admissionDueAt(): number | undefined {
    return this.planner.admissionDueAt();
  }

  /**
   * The change a voter that leaves gracefully proposes before it goes: its own removal (so the
   * others need not wait to notice, and a two-voter cluster is not left holding half without
   * the tiebreaker). Undefined when it is not a writable voter: the writable side then removes
   * it once it sees it LEFT.
   */
  leavePlan(): ChangePlan | undefined {
    // (Never the last voter: a configuration always has one.)
    if (this.voterRoles.size < 2) return undefined;
    return this.requestedPlan({ leave: [this.self] });
  }

  /**
   * A change asked for rather than planned (a voter leaving, an operator removing a member):
   * proposed only by a writable voter with nothing pending, and never one that leaves no voter.
   */
  requestedPlan(change: VoterChange): ChangePlan | undefined {
    if (this.acceptor.accepted || !this.selfVotes || !this.verdict().writable) return undefined;
    return this.planner.requested(this.plannerView(), change);
  }

  /** Paxos phase 1 for the next epoch: promise to accept nothing below `ballot` (gate-acceptor.ts). */
  prepare(epoch: number, ballot: Ballot): AcceptorAnswer {
    return this.acceptor.prepare(epoch, ballot);
  }

  /** Paxos phase 2: accept `config` under `ballot` unless a higher ballot was promised; pending from then on. */
  accept(ballot: Ballot, config: VoterConfig): AcceptorAnswer {
    return this.acceptor.accept(ballot, config);
  }

  /** A round number above every ballot this node has seen for the next epoch. */
  nextRound(seen = 0): number {
    return this.acceptor.nextRound(seen);
  }

  /** Whether these members (their names) are a writable set of our current voters: a Paxos quorum. */
  isQuorum(names: ReadonlySet<string>): boolean {
    return this.countVerdict(countListed(names, this.voterRoles), names).writable;
  }

  /** Adopts a committed configuration newer than ours (it supersedes anything pending). */
  adopt(config: VoterConfig): boolean {
    if (config.epoch <= this.config.epoch) return false;
    const before = this.voterRoles;
    const factorBefore = this.config.replicationFactor;
    this.config = config;
    // A configuration without us ends the fence: an entry that admits us later is this life's.
    if (this.fenced && !config.voters.some((v) => v.name === this.self)) this.fenced = false;
    this.indexConfig();
    this.acceptor.reset();
    this.persist();
    const admitted = config.voters.filter((v) => !before.has(v.name)).map((v) => v.name);
    const gone = [...before.keys()].filter((n) => !this.voterRoles.has(n));
    this.log.info({ epoch: config.epoch, id: config.id, voters: config.voters.length, admitted: admitted.slice(0, 32), removed: gone.slice(0, 32), replicationFactor: config.replicationFactor }, 'voter set changed');
    if (config.replicationFactor !== factorBefore) this.log.info({ epoch: config.epoch, from: factorBefore, to: config.replicationFactor }, 'replication factor changed');
    this.changed();
    return true;
  }

  private changed(): void {
    this.version++;
    for (const fn of this.configListeners) fn();
  }

  /**
   * Whether an acknowledgement carrying this config word counts towards our writes (gate-acks.ts).
   * A member we count by stale metadata that has moved on answers with its real word and so adds
   * nothing to what we can acknowledge. (Whether the acker is a voter at all is ackPlan's part.)
   */
  countsAck(word: number): boolean {
    return acksCount(this.config.epoch, this.acceptor.accepted !== undefined, word);
  }

  /**
   * countsAck as it is now, for a write planned now to keep: its plan names the voters of this
   * configuration (and of a proposal we hold), so an ack from a member on it counts even when we
   * moved on before the ack came (the acker stored the update; it catches up on its own).
   */
  ackRule(): (word: number) => boolean {
    const epoch = this.config.epoch;
    const joint = this.acceptor.accepted !== undefined;
    return (word) => acksCount(epoch, joint, word);
  }

  removedMembers(): string[] {
    return this.config.removed;
  }

  /** Members in the table that are not voters of our configuration (learners, or not caught up yet). */
  learners(): string[] {
    return this.reach.learners();
  }
}
