// Reads on a node that holds no copy of an agent's memory: before reading, merge what a strict
// majority of the agent's replica set holds (one on_demand pull per replica: our state vector out,
// their diff back). Any majority of the replica set intersects the majority that acknowledged a
// write, so a read after an acknowledged write sees it. The merged copy stays as a handoff stray
// (handoff.ts): it is pushed back to the replicas (read repair) and then dropped.
import { QuorumError, TimeoutError } from '../errors.js';
import type { Scheduler } from '../runtime/types.js';
import type { SyncEffect, SyncMode } from '../sync/types.js';
import { placementKeyOf } from '../placement/replica-scope.js';
import type { ReplicaView } from './replica-view.js';
import { replicaReadPlan } from '../quorum/replica-quorum.js';

export interface ReplicaReadOptions {
  view: ReplicaView;
  /** SyncEngine.syncDocument: one on_demand pull of `docId` from `peer`. */
  pull: (peer: string, docId: string) => SyncEffect[];
  run: (effects: SyncEffect[]) => void;
  /** Subscribes to finished sync sessions; returns the unsubscribe. */
  onSynced: (cb: (e: { peer: string; mode: SyncMode; docs: string[] }) => void) => () => void;
  peers: () => readonly string[];
  scheduler: Scheduler;
  timeoutMs: number;
}

export class ReplicaReads {
  /** Reads served by pulling from replicas (for tests and /status). */
  pulls = 0;

  constructor(private readonly o: ReplicaReadOptions) {}

  /**
   * Merges `docId` from a majority of its replica set; resolves at once on a replica. QuorumError
   * when no majority is reachable, TimeoutError when a majority did not answer in time.
   */
  async pull(docId: string): Promise<void> {
    const scope = this.o.view.current();
    const replicas = scope.replicasOf(docId);
    if (!replicas) return;
    const alive = new Set(this.o.peers());
    // A non-replica, or a replica new since the last configuration change, merges first
    // (replica-quorum.ts replicaReadPlan: the current set's majority, and the previous set's).
    const plan = replicaReadPlan(scope.self, replicas, this.o.view.previous()?.replicasOf(docId), alive);
    if (!plan) return;
    const { targets } = plan;
    const agent = placementKeyOf(docId)!;
    if (!plan.complete(new Set(targets))) {
      const reach = replicas.filter((n) => targets.includes(n)).length;
      throw new QuorumError(
        `cannot read agent ${agent} here: this node is not an up-to-date replica and reaches ${reach} of the other replicas of ${replicas.join(', ')}; a read needs more than half of the replica set. ${QuorumError.replicaSet(replicas)} ${QuorumError.counts(reach, replicas.length)}`,
        { reachable: reach, voters: replicas.length, replicas: [...replicas] },
      );
    }
    const done = this.o.view.startPull(docId);
    this.pulls++;
    try {
      await new Promise<void>((resolve, reject) => {
        const answered = new Set<string>();
        const cancel = this.o.scheduler.schedule(this.o.timeoutMs, () => {
          off();
          reject(new TimeoutError(`reading agent ${agent}: ${answered.size} replicas (${[...answered].join(', ') || 'none'}; set ${replicas.join(', ')}) answered within ${this.o.timeoutMs} ms; a read needs more than half of the replica set`));
        });
        const off = this.o.onSynced((e) => {
          if (e.mode !== 'on_demand' || !targets.includes(e.peer) || !e.docs.includes(docId)) return;
          answered.add(e.peer);
          if (plan.complete(answered) || plantedOneReplicaRead) {
            off();
            cancel();
            resolve();
          }
        });
        for (const peer of targets) this.o.run(this.o.pull(peer, docId));
      });
    } finally {
      done();
    }
  }
}

let plantedOneReplicaRead = false;
/** Planted bug for the fuzzer (`read-one-replica`): a read on a non-replica merges from the first replica that answers only. */
export function plantOneReplicaReadBugForTesting(on: boolean): void {
  plantedOneReplicaRead = on;
}
