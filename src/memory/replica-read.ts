// Reads on a node that holds no copy of an agent's memory: before reading, merge what a strict
// majority of the agent's replica set holds (one on_demand pull per replica: our state vector out,
// their diff back). Any majority of the replica set intersects the majority that acknowledged a
// write, so a read after an acknowledged write sees it. The merged copy stays as a handoff stray
// (handoff.ts): it is pushed back to the replicas (read repair) and then dropped. During a move the
// read merges from a majority of each previous set too (replica-moves.ts); at consistency
// `majority` a replica merges as well instead of reading its own copy.
import { QuorumError, TimeoutError } from '../errors.js';
import type { Scheduler } from '../runtime/types.js';
import type { SyncEffect, SyncMode } from '../sync/types.js';
import { placementKeyOf } from '../placement/replica-scope.js';
import type { ReplicaView } from './replica-view.js';
import { replicaReadPlan } from '../quorum/replica-quorum.js';
import { setOf } from './replica-moves.js';

/** How a pull runs: `force` (consistency `majority`) merges on a replica too; `strict` (completing a move) fails unless a majority of every previous set answers. */
export interface PullOptions {
  force?: boolean;
  strict?: boolean;
}

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
  async pull(docId: string, opts: PullOptions = {}): Promise<void> {
    const scope = this.o.view.current();
    const agent = placementKeyOf(docId);
    if (agent === undefined) return;
    const previous = this.o.view.previousSets(docId);
    if (!scope.replicasOf(docId) && !opts.force && previous.length === 0) return; // every voter holds it
    const replicas = setOf(scope, docId);
    const alive = new Set(this.o.peers());
    if (opts.strict) {
      for (const p of previous) {
        if (2 * p.replicas.filter((n) => n === scope.self || alive.has(n)).length <= p.replicas.length) {
          throw new QuorumError(`agent ${agent} is moving from ${p.replicas.join(', ')} (configuration ${p.epoch}), which has no reachable majority ${QuorumError.replicaSet(p.replicas)}`, { replicas: [...p.replicas] });
        }
      }
    }
    // A non-replica, or a replica new since a configuration change, merges first
    // (replica-quorum.ts replicaReadPlan: the current set's majority, and each previous set's).
    const plan = replicaReadPlan(scope.self, replicas, previous.map((p) => p.replicas), alive, opts.force === true);
    if (!plan) return;
    const { targets } = plan;
    if (!plan.complete(new Set(targets))) {
      const reach = replicas.filter((n) => targets.includes(n)).length;
      throw new QuorumError(
        `cannot read agent ${agent} here: this node is not an up-to-date replica and reaches ${reach} of the other replicas of ${replicas.join(', ')}; a read needs more than half of the replica set. ${QuorumError.replicaSet(replicas)} ${QuorumError.counts(reach, replicas.length)}`,
        { reachable: reach, voters: replicas.length, replicas: [...replicas] },
      );
    }
    // Nothing to wait for (this node alone is a majority of every set, e.g. a one-voter cluster
    // read at `majority`): no pull would ever answer, so the read is this node's own copy.
    if (plan.complete(new Set())) return;
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
