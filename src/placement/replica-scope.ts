// Which documents a node holds, and who else holds them, on one voter configuration: the
// replica-set view the sync engine (pushes, anti-entropy), the write path (per-document ack plans)
// and handoff (what to give away and drop) share. Pure: built from the node's name and its
// committed configuration, nothing else, so every node on one configuration scopes alike.
//
// Agent memories ('agent/<id>') and agents' task shards ('tasks/<id>', src/tasks/task-shard.ts)
// live on replica sets, both placed by the agent id so an agent's tasks live with its memory. Every
// other replicated document (the cluster-wide task table 'tasks', the graph) stays on every voter.
// With no more voters than the replication factor every voter holds everything, exactly
// as before replica sets existed: the scope is then "unscoped" and changes nothing.
import { placementOf, type PlacedConfig } from './config-placement.js';

export const AGENT_DOC_PREFIX = 'agent/';
/** An agent's task shard (src/tasks/task-shard.ts TASK_SHARD_PREFIX; spelled here so placement imports nothing of tasks). */
const TASK_SHARD_DOC_PREFIX = 'tasks/';

/**
 * The placement key of a document: the agent id for an agent's memory (its root 'agent/<id>' or a
 * segment 'agent/<id>/<k>', docs/segmented-memory.md: segments live on the root's replica set) or
 * task shard, undefined for a document every voter holds.
 */
export function placementKeyOf(docId: string): string | undefined {
  if (docId.startsWith(AGENT_DOC_PREFIX)) {
    const slash = docId.indexOf('/', AGENT_DOC_PREFIX.length);
    return slash < 0 ? docId.slice(AGENT_DOC_PREFIX.length) : docId.slice(AGENT_DOC_PREFIX.length, slash);
  }
  return docId.startsWith(TASK_SHARD_DOC_PREFIX) ? docId.slice(TASK_SHARD_DOC_PREFIX.length) : undefined;
}

export class ReplicaScope {
  /** Whether replica sets are smaller than the voter set (otherwise every voter holds everything). */
  readonly enforced: boolean;
  /** Replica sets by document, memoised: a configuration is immutable, so they never change. */
  private readonly sets = new Map<string, readonly string[]>();

  constructor(
    readonly self: string,
    readonly config: PlacedConfig,
  ) {
    this.enforced = config.voters.length > config.replicationFactor;
  }

  get epoch(): number {
    return this.config.epoch;
  }

  /**
   * The replica set of `docId`, highest rendezvous score first; undefined when the document is
   * not placed (every voter holds it: a non-agent document, or replica sets not enforced).
   */
  replicasOf(docId: string): readonly string[] | undefined {
    if (!this.enforced) return undefined;
    const key = placementKeyOf(docId);
    if (key === undefined) return undefined;
    let set = this.sets.get(docId);
    if (!set) {
      set = placementOf(this.config).replicas(key);
      if (this.sets.size >= 65_536) this.sets.clear(); // bounded memo
      this.sets.set(docId, set);
    }
    return set;
  }

  /** Whether `node` should hold `docId` on this configuration (everyone, learners too, holds an unplaced document). */
  holds(node: string, docId: string): boolean {
    const set = this.replicasOf(docId);
    return set ? set.includes(node) : true;
  }


  /** Whether this node is one of the document's replicas (always, for an unplaced document). */
  isReplica(docId: string): boolean {
    const set = this.replicasOf(docId);
    return set ? set.includes(this.self) : true;
  }

  /** The peers (of `peers`) an update of `docId` goes to: its replica set, or everyone when unplaced. */
  pushTargets(docId: string, peers: readonly string[]): string[] {
    const set = this.replicasOf(docId);
    return set ? peers.filter((p) => set.includes(p)) : [...peers];
  }

  /**
   * The documents anti-entropy with `peer` covers, as a test over this node's documents, or
   * undefined for all of them (unscoped). A document is shared when `peer` should hold it; both
   * ends of a round on one configuration then compare the same documents wherever both should
   * hold them, and a document only one side holds (a handoff, a repair) shows as a difference.
   */
  sharedWith(peer: string): ((docId: string) => boolean) | undefined {
    if (!this.enforced) return undefined;
    return (docId) => this.holds(peer, docId);
  }
}
