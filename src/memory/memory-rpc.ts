// Client-facing memory methods (tri memory add | show | digest). Arguments arrive as JSON from any
// authenticated client and are validated here; errors travel back by class name, so QuorumError
// and WriteTimeoutError keep their exit codes (3 and 4) in the CLI.
import type { Episode, Json } from '../../crdt/index.js';
import type { Page } from '../paging.js';
import { ConfigError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { MemoryService } from './memory-service.js';
import { annotateHere, registerMemoryQueryMethods } from './memory-query-rpc.js';
import type { LocalWrite } from './write-forward.js';
import type { EpisodeQuery } from './episode-page.js';
import type { RetentionPolicy } from './forget.js';
import { checkEpisodeSizes } from './agent-memory.js';
import { parseReadConsistency, parseWriteConsistency } from './consistency.js';

interface AddArgs {
  agent: string;
  task: string;
  outcome: string;
  note?: string;
  tags?: string[];
  /** Initial fields (the MCP remember tool stores an embedding here). */
  fields?: Record<string, Json>;
  /** Write consistency, `majority` (default) or `all` (consistency.ts); every method that writes takes it, `memory.show` takes a read level. */
  consistency?: string;
}

/** Sizes are checked by the library's own limits (limits.ts), the same as in the CLI. */
function str(v: unknown, what: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${what} must be a non-empty string`);
  return v;
}

/** A page read from the recall index without loading the document (recall/index-page.ts), when it can vouch for the agent. */
/** A page from the recall index, or undefined when it cannot vouch for the agent (the page then comes from the document). */
export type IndexPager = (agent: string, q: EpisodeQuery) => Page<Episode> | undefined | Promise<Page<Episode> | undefined>;

export function registerMemoryMethods(rpc: RpcEndpoint, memory: MemoryService, fromIndex?: IndexPager): void {
  // The writes: run here, or forwarded to a replica of the agent when this node is not one
  // (write-forward.ts); a forwarded write runs the same function on the replica.
  const writes: Record<string, LocalWrite> = {
    [METHODS.memoryAdd]: async (a: Partial<Record<keyof AddArgs, unknown>>) => {
      const tags = a.tags ?? [];
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new ConfigError('tags must be an array of strings');
      const mem = memory.memory(str(a.agent, 'agent')!, { write: parseWriteConsistency(a.consistency) });
      checkEpisodeSizes({ task: str(a.task, 'task')!, outcome: str(a.outcome, 'outcome')!, note: str(a.note, 'note', true), tags });
      if (a.fields !== undefined && (typeof a.fields !== 'object' || a.fields === null || Array.isArray(a.fields))) throw new ConfigError('fields must be an object of field names to JSON values');
      const id = await mem.addEpisode({ task: str(a.task, 'task')!, outcome: str(a.outcome, 'outcome')!, note: str(a.note, 'note', true), tags, fields: a.fields as Record<string, Json> | undefined }); // checked above: an object of decoded JSON values
      return toJsonPayload(mem.get(id));
    },
    [METHODS.memoryForget]: async (a) => toJsonPayload({ forgotten: await memory.memory(str(a.agent, 'agent')!, { write: parseWriteConsistency(a.consistency) }).forget(str(a.id, 'episode id')!) }),
    [METHODS.memoryDrop]: async (a) => toJsonPayload({ forgotten: await memory.memory(str(a.agent, 'agent')!, { write: parseWriteConsistency(a.consistency) }).drop() }),
    // {agent, policy?}: sets the policy when one is given ({} clears it); answers the policy in force.
    [METHODS.memoryPolicy]: async (a) => {
      const mem = memory.memory(str(a.agent, 'agent')!, { write: parseWriteConsistency(a.consistency) });
      // setPolicy checks the policy's fields (checkPolicy) before anything is written.
      if (a.policy !== undefined) await mem.setPolicy(a.policy as RetentionPolicy);
      return toJsonPayload({ policy: mem.policy() ?? null });
    },
    [METHODS.memoryAnnotate]: annotateHere(memory),
  };
  for (const [method, local] of Object.entries(writes)) {
    rpc.handle(method, 'client', (payload) => {
      const a = jsonObject(payload, `${method} arguments`);
      // Reading the policy writes nothing: answered here.
      return method === METHODS.memoryPolicy && a.policy === undefined ? local(a) : memory.forward.run(method, a, local);
    });
  }
  memory.forward.serve(writes);
  // One page, newest first: {episodes, next?} (paging.ts).
  rpc.handle(METHODS.memoryShow, 'client', async (payload) => {
    const { agent, consistency, ...query } = jsonObject(payload, 'memory show arguments');
    // episodePage checks every field of the query (kinds, bounds, the cursor) before it reads;
    // refresh first merges from the agent's replica set when this node holds no copy.
    // At read consistency `majority` a replica merges from a majority of its set too; the page
    // then comes from the recall index when it vouches for the agent (no whole-document decode).
    const mem = await memory.memory(str(agent, 'agent')!, { read: parseReadConsistency(consistency) }).refresh();
    const page = (await fromIndex?.(mem.agentId, query as EpisodeQuery)) ?? mem.page(query as EpisodeQuery);
    return toJsonPayload({ episodes: page.items, ...(page.next ? { next: page.next } : {}) });
  });
  rpc.handle(METHODS.memoryDigest, 'client', () => toJsonPayload(memory.digest()));
  registerMemoryQueryMethods(rpc, memory);
}
