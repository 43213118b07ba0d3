// Size limits on what users store, in one place so the CLI, the library and the network paths
// refuse the same inputs with the same words (README "Limits"). Sizes are UTF-8 bytes.
import type { NewEpisode } from '../crdt/index.js';
import { UsageError } from './errors.js';

/** One note (at creation, or one append). Above one stream frame: such a note travels in parts. */
export const MAX_NOTE_BYTES = 4 * 1024 * 1024;
/** An episode's task and outcome texts, and an agent's tag. */
export const MAX_TEXT_BYTES = 64 * 1024;
/** A task's input, as JSON text. */
export const MAX_TASK_INPUT_BYTES = 1024 * 1024;
/** Largest RPC request or reply once its parts are put back together (rpc/parts.ts). */
/** Arguments of one knowledge-graph tool call (the graph is one document every replica holds whole). */
export const MAX_GRAPH_CALL_BYTES = 1024 * 1024;
export const MAX_RPC_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Items one page of `tri memory show` / `tri task list` returns at most, and by default. */
export const MAX_PAGE_ITEMS = 1000;
export const DEFAULT_PAGE_ITEMS = 50;
/** A page stops growing past this many bytes of JSON (the next page continues); it travels in parts. */
export const PAGE_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();

export function utf8Bytes(s: string): number {
  // Cheap upper bound first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
  return s.length * 3 <= 1024 ? encoder.encode(s).byteLength : Buffer.byteLength(s, 'utf8');
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Throws UsageError when `s` is longer than `max` UTF-8 bytes; `hint` says what to do instead. */
export function assertSize(s: string, max: number, what: string, hint = ''): void {
  const n = utf8Bytes(s);
  if (n > max) throw new UsageError(`${what} is ${formatBytes(n)}, above the ${formatBytes(max)} limit${hint ? `; ${hint}` : ''}`);
}

/** An episode's texts within the limits above: the CLI checks before sending, the library and the RPC methods before writing. */
export function checkEpisodeSizes(ep: NewEpisode): void {
  if (typeof ep?.task === 'string') assertSize(ep.task, MAX_TEXT_BYTES, 'the task text');
  if (typeof ep?.outcome === 'string') assertSize(ep.outcome, MAX_TEXT_BYTES, 'the outcome text');
  if (typeof ep?.note === 'string') assertSize(ep.note, MAX_NOTE_BYTES, 'the note', 'store a larger text elsewhere and note where it is');
  for (const t of Array.isArray(ep?.tags) ? ep.tags : []) if (typeof t === 'string') assertSize(t, MAX_TEXT_BYTES, 'a tag');
}
