// Client-facing memory methods (tri memory add | show | digest). Arguments arrive as JSON from any
// authenticated client and are validated here; errors travel back by class name, so QuorumError
// and WriteTimeoutError keep their exit codes (3 and 4) in the CLI.
import { ConfigError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { fromJsonPayload, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { MemoryService } from './memory-service.js';
import type { EpisodeQuery } from './episode-page.js';
import type { RetentionPolicy } from './forget.js';
import { checkEpisodeSizes } from './agent-memory.js';

interface AddArgs {
  agent: string;
  task: string;
  outcome: string;
  note?: string;
  tags?: string[];
}

/** Sizes are checked by the library's own limits (limits.ts), the same as in the CLI. */
function str(v: unknown, what: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${what} must be a non-empty string`);
  return v;
}

export function registerMemoryMethods(rpc: RpcEndpoint, memory: MemoryService): void {
  rpc.handle(METHODS.memoryAdd, 'client', async (payload) => {
    const a = fromJsonPayload<AddArgs>(payload, 'memory add arguments');
    const tags = a.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new ConfigError('tags must be an array of strings');
    const mem = memory.memory(str(a.agent, 'agent')!);
    checkEpisodeSizes({ task: str(a.task, 'task')!, outcome: str(a.outcome, 'outcome')!, note: str(a.note, 'note', true), tags });
    const id = await mem.addEpisode({ task: str(a.task, 'task')!, outcome: str(a.outcome, 'outcome')!, note: str(a.note, 'note', true), tags });
    return toJsonPayload(mem.get(id));
  });
  // One page, newest first: {episodes, next?} (paging.ts).
  rpc.handle(METHODS.memoryShow, 'client', (payload) => {
    const a = fromJsonPayload<EpisodeQuery & { agent: string }>(payload, 'memory show arguments');
    const { agent, ...query } = a;
    const page = memory.memory(str(agent, 'agent')!).page(query);
    return toJsonPayload({ episodes: page.items, ...(page.next ? { next: page.next } : {}) });
  });
  rpc.handle(METHODS.memoryForget, 'client', async (payload) => {
    const a = fromJsonPayload<{ agent: string; id: string }>(payload, 'memory forget arguments');
    return toJsonPayload({ forgotten: await memory.memory(str(a.agent, 'agent')!).forget(str(a.id, 'episode id')!) });
  });
  rpc.handle(METHODS.memoryDrop, 'client', async (payload) => {
    const a = fromJsonPayload<{ agent: string }>(payload, 'memory drop arguments');
    return toJsonPayload({ forgotten: await memory.memory(str(a.agent, 'agent')!).drop() });
  });
  // {agent, policy?}: sets the policy when one is given ({} clears it); answers the policy in force.
  rpc.handle(METHODS.memoryPolicy, 'client', async (payload) => {
    const a = fromJsonPayload<{ agent: string; policy?: RetentionPolicy }>(payload, 'memory policy arguments');
    const mem = memory.memory(str(a.agent, 'agent')!);
    if (a.policy !== undefined) await mem.setPolicy(a.policy);
    return toJsonPayload({ policy: mem.policy() ?? null });
  });
  rpc.handle(METHODS.memoryDigest, 'client', () => toJsonPayload(memory.digest()));
}
