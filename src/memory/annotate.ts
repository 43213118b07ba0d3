// One edit of an existing episode, as the CLI (`tri memory note|tag|untag|set|incr`) and the MCP
// `annotate` tool send it: checked here, applied through the agent's quorum write path, and
// answered with the episode as it reads afterwards.
import type { Episode, Json } from '../../crdt/index.js';
import { isJson } from '../../crdt/json.js';
import { ConfigError, NotFoundError } from '../errors.js';
import type { AgentMemory } from './agent-memory.js';

export type AnnotateOp =
  | { op: 'note'; text: string }
  | { op: 'tag' | 'untag'; tag: string }
  | { op: 'set'; field: string; value: Json }
  | { op: 'incr'; counter: string; by?: number };

export const ANNOTATE_OPS = ['note', 'tag', 'untag', 'set', 'incr'] as const;
const MAX_TEXT = 64 * 1024;

function text(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) throw new ConfigError(`${what} must be a non-empty string of at most 64 KiB`);
  return v;
}

/** The edit `a` describes, or ConfigError saying what is missing or wrong. */
export function checkAnnotate(a: Record<string, unknown>): AnnotateOp {
  switch (a.op) {
    case 'note':
      return { op: 'note', text: text(a.text, 'note text') };
    case 'tag':
    case 'untag':
      return { op: a.op, tag: text(a.tag, 'tag') };
    case 'set':
      if (!isJson(a.value)) throw new ConfigError('set needs a JSON value');
      return { op: 'set', field: text(a.field, 'field name'), value: a.value };
    case 'incr': {
      const by = a.by ?? 1;
      if (typeof by !== 'number' || !Number.isFinite(by)) throw new ConfigError('incr needs "by" to be a finite number (default 1)');
      return { op: 'incr', counter: text(a.counter, 'counter name'), by };
    }
    default:
      throw new ConfigError(`unknown edit "${String(a.op)}": use one of ${ANNOTATE_OPS.join(', ')}`);
  }
}

export async function annotate(mem: AgentMemory, id: string, edit: AnnotateOp): Promise<Episode> {
  if (typeof id !== 'string' || !mem.get(id)) throw new NotFoundError(`episode ${String(id)} does not exist in agent ${mem.agentId}'s memory; \`tri memory show --agent ${mem.agentId}\` lists its ids`);
  switch (edit.op) {
    case 'note':
      await mem.appendNote(id, edit.text);
      break;
    case 'tag':
      await mem.tag(id, edit.tag);
      break;
    case 'untag':
      await mem.untag(id, edit.tag);
      break;
    case 'set':
      await mem.set(id, edit.field, edit.value);
      break;
    case 'incr':
      await mem.increment(id, edit.counter, edit.by ?? 1);
      break;
  }
  return mem.get(id)!;
}
