// The node's replica-set view for its memory: the placement scope of its committed voter
// configuration (src/placement/replica-scope.ts), handed to the sync engine as its SyncScope
// (pushes and anti-entropy among co-replicas only, no document stored off its replica set), and
// the write path's per-document checks (a reachable replica majority before anything is applied,
// and the ack plan of each pushed update). While a document's move is incomplete (replica-moves.ts),
// its writes need a majority of each previous set too (joint quorum), so they are pushed to those
// sets as well, and an old replica takes them.
import { placementKeyOf, ReplicaScope } from '../placement/replica-scope.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import { allAckPlan, assertSetsReachable, jointAckPlan, replicaAckPlan, type QuorumSet, type WriteConsistency } from '../quorum/replica-quorum.js';
import type { Logger } from '../runtime/types.js';
import type { SyncScope } from '../sync/replica-filter.js';
import type { AckPlan } from './ack-tracker.js';
import { ReplicaMoves, setOf, type MoveStore } from './replica-moves.js';

type GateView = Pick<QuorumGate, 'voterConfig' | 'pending' | 'reachableVoters' | 'ackPlan'> & Partial<Pick<QuorumGate, 'staleVoters' | 'reach'>>;

export class ReplicaView implements SyncScope {
  private scope: ReplicaScope | undefined;
  private before: ReplicaScope | undefined;
  /** The previous configurations whose moves may be unfinished (persisted). */
  readonly moves: ReplicaMoves;
  private pendingScope: ReplicaScope | undefined;
  /** Scopes of the committed configuration with one learner added (pre-warm), by learner name. */
  private prospects = new Map<string, ReplicaScope>();
  /** Set by a graceful leave's drain: off the voters for good, so nothing is kept for an admission (willHold). */
  leaving = false;
  private prospectsOf: unknown;
  /**
   * Documents in use here though this node may not be their replica: a read pulling them, or a
   * write waiting for its acks (accepted from peers, and not dropped by handoff meanwhile).
   */
  readonly pulling = new Map<string, number>();

  constructor(
    private readonly self: string,
    private readonly gate: GateView,
    store?: MoveStore,
    log?: Logger,
  ) {
    this.moves = new ReplicaMoves(self, store, log ?? silent);
  }

  /** The scope of the committed configuration (rebuilt when it changes: configurations are immutable). */
  current(): ReplicaScope {
    const c = this.gate.voterConfig();
    if (!this.scope || this.scope.config !== c) {
      if (this.scope && this.scope.epoch < c.epoch) this.before = this.scope;
      this.scope = new ReplicaScope(this.self, c);
      this.moves.observe(c);
    }
    return this.scope;
  }

  /** The scope of the previous configuration, when this process saw one (not across a restart). */
  previous(): ReplicaScope | undefined {
    this.current();
    return this.before;
  }

  /** The previous sets a write of `docId` still needs a majority of (its move is incomplete here). */
  previousSets(docId: string): QuorumSet[] {
    return this.moves.previousSets(docId, this.current());
  }

  pushTargets(docId: string, peers: readonly string[]): string[] {
    const scope = this.current();
    const prev = this.moves.previousSets(docId, scope);
    if (prev.length === 0) return scope.pushTargets(docId, peers);
    const to = new Set([...setOf(scope, docId), ...prev.flatMap((p) => p.replicas)]);
    return peers.filter((p) => to.has(p));
  }

  /**
   * Anti-entropy with `peer` compares the documents both should hold. A stray (held here, not ours)
   * is left out: the peer leaves it out of its side too, so comparing it would send the peer the
   * whole document as if it lacked it; handoff gives strays away (push to new replicas,
   * hold-check of continuing ones).
   */
  sharedWith(peer: string): ((docId: string) => boolean) | undefined {
    const scope = this.current();
    const theirs = scope.sharedWith(peer);
    return theirs && ((docId) => theirs(docId) && scope.isReplica(docId));
  }

  /**
   * A document this node does not hold may be created here by a remote update when it is a
   * replica on its configuration, or on the one it accepted and awaits (a writer already on it
   * must not time out on us), or while a read pulls it.
   */
  accepts(docId: string): boolean {
    if (this.current().isReplica(docId) || this.pulling.has(docId) || this.willHold(docId)) return true;
    this.current();
    if (this.moves.inPreviousSet(docId)) return true; // an old replica: a writer whose move is incomplete needs its ack
    const p = this.gate.pending();
    if (!p) return false;
    if (!this.pendingScope || this.pendingScope.config !== p) this.pendingScope = new ReplicaScope(this.self, p);
    return this.pendingScope.isReplica(docId);
  }

  /**
   * The scope of our configuration with `learner` added as a voter: where its admission would
   * place it (a later change may place it elsewhere; pre-warm is best effort, the move still
   * catches it up). Undefined when `learner` is a voter or replica sets are not enforced.
   */
  private prospective(learner: string): ReplicaScope | undefined {
    const scope = this.current();
    const c = scope.config;
    if (!scope.enforced || c.voters.some((v) => v.name === learner)) return undefined;
    if (this.prospectsOf !== c) [this.prospects, this.prospectsOf] = [new Map(), c];
    let p = this.prospects.get(learner);
    if (!p) {
      if (this.prospects.size >= 64) this.prospects.clear();
      this.prospects.set(learner, (p = new ReplicaScope(learner, { epoch: c.epoch, voters: [...c.voters, { name: learner }], replicationFactor: c.replicationFactor })));
    }
    return p;
  }

  /**
   * Pre-warm: this node is a learner (not a voter) and would be a replica of `docId` once
   * admitted. It takes such documents before its admission (a full snapshot carries them) and
   * does not hand them off meanwhile, so the writes that need it once it is a replica do not
   * wait for it to take in whole documents. Its copy counts for nothing until it is a voter.
   */
  willHold(docId: string): boolean {
    return !this.leaving && placementKeyOf(docId) !== undefined && this.prospective(this.self)?.isReplica(docId) === true;
  }

  /**
   * A full snapshot for `peer`: a voter gets what it shares with us (sharedWith); a learner also
   * the documents we are a replica of that it will hold once admitted (pre-warm).
   */
  snapshotFor(peer: string): ((docId: string) => boolean) | undefined {
    const shared = this.sharedWith(peer);
    const p = this.prospective(peer);
    if (!p || !shared) return shared;
    const scope = this.current();
    return (docId) => shared(docId) || (scope.isReplica(docId) && p.isReplica(docId));
  }

  /**
   * QuorumError (nothing applied yet) when the replica set of `docId` has no reachable majority
   * (at `all`: any replica unreachable), or a previous set it is still moving from has none.
   * `reachable`: the voters counted as reachable (default: the gate's). A previous set counts,
   * besides those, its members that can still acknowledge though off our voters or configuration
   * (GateReach.previousSetReach: a leaver still draining). `suspects`: the would-pass check of a
   * write waiting for them (adoption-wait.ts): every set also counts the members SWIM only
   * suspects (a starved process, often the joiner catching up), so such a write waits, bounded,
   * instead of failing at once; it is never admitted on them.
   */
  assertReachable(docId: string, level: WriteConsistency = 'majority', reachable: ReadonlySet<string> = this.gate.reachableVoters(), suspects = false): void {
    const agent = placementKeyOf(docId);
    if (agent === undefined) return;
    const scope = this.current();
    const set = scope.replicasOf(docId);
    const prev = this.moves.previousSets(docId, scope);
    if (!set && level === 'majority' && prev.length === 0) return; // every voter holds it: the gate's check is the one
    const current: QuorumSet = { replicas: setOf(scope, docId), epoch: scope.epoch, role: 'current' };
    const wide = suspects ? this.gate.reach?.previousSetReach(true) : undefined;
    if (wide) reachable = new Set([...reachable, ...wide]);
    if (set || level === 'all') assertSetsReachable(agent, [current], reachable, level);
    if (prev.length === 0) return;
    try {
      assertSetsReachable(agent, prev, reachable, level);
    } catch (err) {
      const more = this.gate.reach?.previousSetReach(suspects);
      if (!more) throw err;
      assertSetsReachable(agent, prev, new Set([...reachable, ...more]), level);
    }
  }

  /**
   * What an update of `docId` needs: its replica set's majority (at `all`: every replica), or the
   * voters' (unplaced documents), and, during a move, a majority of each previous set too.
   */
  planFor(docId: string, level: WriteConsistency = 'majority'): AckPlan {
    const scope = this.current();
    const set = scope.replicasOf(docId);
    const placed = placementKeyOf(docId) !== undefined;
    const base = level === 'all' && placed ? allAckPlan(this.self, setOf(scope, docId)) : set ? replicaAckPlan(this.self, set, this.gate.staleVoters?.()) : this.gate.ackPlan();
    // The move completing here meanwhile (move-settle.ts) settles the previous sets' part too.
    return jointAckPlan(this.self, base, this.moves.previousSets(docId, scope), () => this.moves.isDone(docId, scope.epoch));
  }

  /** Marks `docId` as in use by a read or a write (nested uses count); returns the release. */
  startPull(docId: string): () => void {
    this.pulling.set(docId, (this.pulling.get(docId) ?? 0) + 1);
    return () => {
      const n = (this.pulling.get(docId) ?? 1) - 1;
      if (n <= 0) this.pulling.delete(docId);
      else this.pulling.set(docId, n);
    };
  }
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
