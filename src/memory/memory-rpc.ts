// Client-facing memory methods (tri memory add | show | digest). Arguments arrive as JSON from any
// authenticated client and are validated here; errors travel back by class name, so QuorumError
// and WriteTimeoutError keep their exit codes (3 and 4) in the CLI.
import type { Json } from '../../crdt/index.js';
import { ConfigError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { MemoryService } from './memory-service.js';
import { registerMemoryQueryMethods } from './memory-query-rpc.js';

interface AddArgs {
  agent: string;
  task: string;
  outcome: string;
  note?: string;
  tags?: string[];
  /** Initial fields (the MCP remember tool stores an embedding here). */
  fields?: Record<string, Json>;
}

function str(v: unknown, what: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 64 * 1024) throw new ConfigError(`${what} must be a non-empty string of at most 64 KiB`);
  return v;
}

export function registerMemoryMethods(rpc: RpcEndpoint, memory: MemoryService): void {
  rpc.handle(METHODS.memoryAdd, 'client', async (payload) => {
    const a: Partial<Record<keyof AddArgs, unknown>> = jsonObject(payload, 'memory add arguments');
    const tags = a.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new ConfigError('tags must be an array of strings');
    const mem = memory.memory(str(a.agent, 'agent')!);
    if (a.fields !== undefined && (typeof a.fields !== 'object' || a.fields === null || Array.isArray(a.fields))) throw new ConfigError('fields must be an object of field names to JSON values');
    const id = await mem.addEpisode({ task: str(a.task, 'task')!, outcome: str(a.outcome, 'outcome')!, note: str(a.note, 'note', true), tags, fields: a.fields as Record<string, Json> | undefined }); // checked above: an object of decoded JSON values
    return toJsonPayload(mem.get(id));
  });
  rpc.handle(METHODS.memoryShow, 'client', (payload) => {
    const a = jsonObject(payload, 'memory show arguments');
    return toJsonPayload(memory.memory(str(a.agent, 'agent')!).list());
  });
  rpc.handle(METHODS.memoryDigest, 'client', () => toJsonPayload(memory.digest()));
  registerMemoryQueryMethods(rpc, memory);
}
