// The node's replica-set view for its memory: the placement scope of its committed voter
// configuration (src/placement/replica-scope.ts), handed to the sync engine as its SyncScope
// (pushes and anti-entropy among co-replicas only, no document stored off its replica set), and
// the write path's per-document checks (a reachable replica majority before anything is applied,
// and the ack plan of each pushed update).
import { placementKeyOf, ReplicaScope } from '../placement/replica-scope.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import { assertReplicaMajority, replicaAckPlan } from '../quorum/replica-quorum.js';
import type { SyncScope } from '../sync/replica-filter.js';
import type { AckPlan } from './ack-tracker.js';

type GateView = Pick<QuorumGate, 'voterConfig' | 'pending' | 'reachableVoters' | 'ackPlan'>;

export class ReplicaView implements SyncScope {
  private scope: ReplicaScope | undefined;
  /** The scope of the configuration before the current one, seen by this process (reads during a move). */
  private before: ReplicaScope | undefined;
  private pendingScope: ReplicaScope | undefined;
  /**
   * Documents in use here though this node may not be their replica: a read pulling them, or a
   * write waiting for its acks (accepted from peers, and not dropped by handoff meanwhile).
   */
  readonly pulling = new Map<string, number>();

  constructor(
    private readonly self: string,
    private readonly gate: GateView,
  ) {}

  /** The scope of the committed configuration (rebuilt when it changes: configurations are immutable). */
  current(): ReplicaScope {
    const c = this.gate.voterConfig();
    if (!this.scope || this.scope.config !== c) {
      if (this.scope && this.scope.epoch < c.epoch) this.before = this.scope;
      this.scope = new ReplicaScope(this.self, c);
    }
    return this.scope;
  }

  /** The scope of the previous configuration, when this process saw one (not across a restart). */
  previous(): ReplicaScope | undefined {
    this.current();
    return this.before;
  }

  pushTargets(docId: string, peers: readonly string[]): string[] {
    return this.current().pushTargets(docId, peers);
  }

  sharedWith(peer: string): ((docId: string) => boolean) | undefined {
    return this.current().sharedWith(peer);
  }

  /**
   * A document this node does not hold may be created here by a remote update when it is a
   * replica on its configuration, or on the one it accepted and awaits (a writer already on it
   * must not time out on us), or while a read pulls it.
   */
  accepts(docId: string): boolean {
    if (this.current().isReplica(docId) || this.pulling.has(docId)) return true;
    const p = this.gate.pending();
    if (!p) return false;
    if (!this.pendingScope || this.pendingScope.config !== p) this.pendingScope = new ReplicaScope(this.self, p);
    return this.pendingScope.isReplica(docId);
  }

  /** QuorumError (nothing applied yet) when the replica set of `docId` has no reachable majority. */
  assertReachable(docId: string): void {
    const set = this.current().replicasOf(docId);
    if (set) assertReplicaMajority(placementKeyOf(docId)!, set, this.gate.reachableVoters());
  }

  /** What an update of `docId` needs: its replica set's majority, or the voters' (unplaced documents). */
  planFor(docId: string): AckPlan {
    const set = this.current().replicasOf(docId);
    return set ? replicaAckPlan(this.self, set) : this.gate.ackPlan();
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
