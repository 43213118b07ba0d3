// Client-facing recall and episode edits (tri memory recall | note | tag | untag | set | incr).
// The edits are registered with the other writes (memory-rpc.ts: forwarded from a non-replica).
// Arguments arrive as JSON from any authenticated client and are checked before anything runs.
import { ConfigError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import { annotate, checkAnnotate } from './annotate.js';
import type { MemoryService } from './memory-service.js';
import { parseReadConsistency, parseWriteConsistency } from './consistency.js';

export function registerMemoryQueryMethods(rpc: RpcEndpoint, memory: MemoryService): void {
  // A recall of one agent first merges from its replica set where this node holds no up-to-date
  // copy (a non-replica; at read consistency `majority` a replica too), like `memory.show`; a
  // search of every agent reads the local index only.
  rpc.handle(METHODS.memoryRecall, 'client', async (payload) => {
    const a = jsonObject(payload, 'memory recall arguments');
    if (a === null || typeof a !== 'object') throw new ConfigError('memory recall takes {agent, query}');
    if (a.agent !== undefined && typeof a.agent !== 'string') throw new ConfigError('agent must be a string (leave it out to search every agent)');
    const read = parseReadConsistency(a.consistency);
    if (a.agent === undefined && read !== undefined) throw new ConfigError('a read consistency needs one agent: a search of every agent reads the local index');
    if (a.agent !== undefined) await memory.memory(a.agent, { read }).refresh();
    return toJsonPayload(memory.recall(a.agent, a.query));
  });
}

/**
 * An edit of one episode (memory.annotate, registered with the writes in memory-rpc.ts). It reads
 * the episode first, so a non-replica merges the memory from its replica set before it looks the
 * id up (else it would report an existing episode as missing); forwarded, the replica merges.
 */
export function annotateHere(memory: MemoryService): (a: Record<string, unknown>) => Promise<Uint8Array> {
  return async (a) => {
    if (typeof a.agent !== 'string' || typeof a.id !== 'string') throw new ConfigError('memory annotate takes {agent, id, op, ...}');
    const edit = checkAnnotate(a);
    const mem = await memory.memory(a.agent, { write: parseWriteConsistency(a.consistency) }).refresh();
    return toJsonPayload(await annotate(mem, a.id, edit));
  };
}
