// What a recall asks for, checked once for every way it arrives (library, RPC from the CLI, MCP
// tool call), and the FTS5 expression made from free text. User text never reaches FTS5 syntax:
// it is cut into words and each word is quoted, so `"`, `*`, `NEAR(`, `-`, `:` or `^` are just
// characters to match, never an error.
import type { Episode, Json } from '../../crdt/index.js';
import { isJson } from '../../crdt/json.js';
export { canonicalJson } from '../../crdt/json.js';
import { ConfigError } from '../errors.js';

export interface RecallQuery {
  /** Free text, matched against task, outcome and notes (any word; more matching words rank higher). */
  text?: string;
  /** Every one of these tags must be on the episode. */
  tags?: string[];
  /** Exact outcome. */
  outcome?: string;
  /** Field name -> value the field must hold (JSON equality). */
  fields?: Record<string, Json>;
  /** createdAt >= since (milliseconds since the epoch). */
  since?: number;
  /** createdAt <= until. */
  until?: number;
  /**
   * An embedding to search by nearest neighbour (cosine) among episodes whose writer stored one in
   * the field named `embedding` (an array of numbers of the same length). With text too, the two
   * rankings are fused (reciprocal rank fusion).
   */
  vector?: number[];
  /** Most hits returned (default 10, at most 1,000). */
  limit?: number;
}

/** The episode field an embedding is stored in by its writer. */
export const EMBEDDING_FIELD = 'embedding';
export const MAX_EMBEDDING_DIMS = 4096;

/** The embedding in a field value, if it is one (an array of 1-4096 finite numbers). */
export function asEmbedding(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_EMBEDDING_DIMS) return undefined;
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
  return v as number[];
}

export interface RecallHit {
  agent: string;
  /** bm25 relevance (higher is better); 0 when the query had no text (then newest first). */
  score: number;
  episode: Episode;
}

export const DEFAULT_RECALL_LIMIT = 10;
export const MAX_RECALL_LIMIT = 1000;
const MAX_TEXT = 4096;
const MAX_WORDS = 32;
const MAX_TAGS = 32;
const MAX_FIELDS = 16;

/** A query checked and normalised; ConfigError says what is wrong with a bad one. */
export function checkRecallQuery(q: unknown): Required<Pick<RecallQuery, 'limit'>> & RecallQuery {
  if (q === undefined || q === null) return { limit: DEFAULT_RECALL_LIMIT };
  if (typeof q !== 'object' || Array.isArray(q)) throw new ConfigError('a recall query must be an object like {text, tags, outcome, fields, since, until, limit}');
  const r = q as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!['text', 'tags', 'outcome', 'fields', 'since', 'until', 'vector', 'limit'].includes(k)) throw new ConfigError(`recall does not know the option "${k}"; use text, tags, outcome, fields, since, until, vector or limit`);
  }
  const out: RecallQuery & { limit: number } = { limit: DEFAULT_RECALL_LIMIT };
  if (r.text !== undefined) {
    if (typeof r.text !== 'string' || r.text.length > MAX_TEXT) throw new ConfigError(`recall text must be a string of at most ${MAX_TEXT} characters`);
    out.text = r.text;
  }
  if (r.tags !== undefined) {
    if (!Array.isArray(r.tags) || r.tags.length > MAX_TAGS || r.tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 256)) {
      throw new ConfigError(`recall tags must be an array of at most ${MAX_TAGS} non-empty strings`);
    }
    out.tags = r.tags as string[];
  }
  if (r.outcome !== undefined) {
    if (typeof r.outcome !== 'string' || r.outcome.length > 64 * 1024) throw new ConfigError('recall outcome must be a string');
    out.outcome = r.outcome;
  }
  if (r.fields !== undefined) {
    const f = r.fields;
    if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length > MAX_FIELDS || !Object.values(f).every(isJson)) {
      throw new ConfigError(`recall fields must be an object of at most ${MAX_FIELDS} field names to JSON values`);
    }
    out.fields = f as Record<string, Json>;
  }
  for (const k of ['since', 'until'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`recall ${k} must be a time in milliseconds since the epoch`);
    out[k] = v;
  }
  if (r.vector !== undefined) {
    const v = asEmbedding(r.vector);
    if (!v) throw new ConfigError(`recall vector must be an array of 1 to ${MAX_EMBEDDING_DIMS} finite numbers`);
    out.vector = v;
  }
  if (r.limit !== undefined) {
    if (typeof r.limit !== 'number' || !Number.isInteger(r.limit) || r.limit < 1 || r.limit > MAX_RECALL_LIMIT) throw new ConfigError(`recall limit must be a whole number from 1 to ${MAX_RECALL_LIMIT}`);
    out.limit = r.limit;
  }
  return out;
}

/** The words of free text (letters and digits), at most MAX_WORDS, lower-cased and distinct. */
export function queryWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_WORDS);
}

/** An FTS5 MATCH expression: each word a quoted string, any of them (bm25 ranks by how many and how rare). */
export function ftsExpression(words: readonly string[]): string {
  return words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' OR ');
}

/** "2026-12-07", "2026-12-07T05:00:00Z", or milliseconds since the epoch; or a span back from now: "15m", "2h", "7d". */
export function parseTime(value: string, now: number = Date.now()): number {
  const span = /^(\d+)(s|m|h|d)$/.exec(value);
  if (span) return now - Number(span[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ConfigError(`"${value}" is not a time: give an ISO date (2026-12-07T05:00:00Z), milliseconds since the epoch, or a span back from now (15m, 2h, 7d)`);
  return t;
}
