// Tasks sharded with their agents (issue 21 item 7): with replica sets enforced (more voters than
// the replication factor), each agent's tasks live in their own task table document,
// 'tasks/<agent>', placed by the agent id on the same replica set as the agent's memory
// ('agent/<agent>'). Pure: names, who schedules a shard, and the replica-first order routing uses.
// With no more voters than RF there are no shards: every task goes to the one cluster-wide table
// ('tasks'), exactly as before.
import { AGENT_ID } from '../vocabulary.js';

export const TASK_SHARD_PREFIX = 'tasks/';

/** The document of `agent`'s task shard, or undefined when the agent id cannot name a document (the task then goes to the cluster-wide table). */
export function shardDocId(agent: string): string | undefined {
  return AGENT_ID.test(agent) ? TASK_SHARD_PREFIX + agent : undefined;
}

/** The agent of a task shard document, or undefined for any other document. */
export function shardAgent(docId: string): string | undefined {
  return docId.startsWith(TASK_SHARD_PREFIX) ? docId.slice(TASK_SHARD_PREFIX.length) : undefined;
}

/**
 * The scheduler of a shard: the first replica (highest rendezvous score first, the order
 * placement returns) that is live (ACTIVE). Undefined when none is: then nobody adopts or
 * re-places the shard's tasks until one is back (a task already running keeps running, its
 * outcome is recorded by any replica). A failed scheduler's shard passes to the next replica.
 */
export function shardScheduler(replicas: readonly string[], isLive: (name: string) => boolean): string | undefined {
  return replicas.find(isLive);
}
