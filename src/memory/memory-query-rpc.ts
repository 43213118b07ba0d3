// Client-facing recall and episode edits (tri memory recall | note | tag | untag | set | incr).
// Arguments arrive as JSON from any authenticated client and are checked before anything runs.
import { ConfigError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import { annotate, checkAnnotate } from './annotate.js';
import type { MemoryService } from './memory-service.js';

export function registerMemoryQueryMethods(rpc: RpcEndpoint, memory: MemoryService): void {
  rpc.handle(METHODS.memoryRecall, 'client', (payload) => {
    const a = jsonObject(payload, 'memory recall arguments');
    if (a === null || typeof a !== 'object') throw new ConfigError('memory recall takes {agent, query}');
    if (a.agent !== undefined && typeof a.agent !== 'string') throw new ConfigError('agent must be a string (leave it out to search every agent)');
    return toJsonPayload(memory.recall(a.agent, a.query));
  });
  rpc.handle(METHODS.memoryAnnotate, 'client', async (payload) => {
    const a = jsonObject(payload, 'memory annotate arguments');
    if (a === null || typeof a !== 'object' || typeof a.agent !== 'string' || typeof a.id !== 'string') throw new ConfigError('memory annotate takes {agent, id, op, ...}');
    return toJsonPayload(await annotate(memory.memory(a.agent), a.id, checkAnnotate(a)));
  });
}
