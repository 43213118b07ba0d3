// Paged reads of long lists (an agent's episodes, the task table): newest first, a bounded
// number of items and bytes per page, and an opaque cursor (`next`) that continues where a page
// stopped. The cursor names the last item returned (its time and id), so items added meanwhile do
// not shift later pages, and it works on any replica (times and ids are replicated).
import { UsageError } from './errors.js';
import { DEFAULT_PAGE_ITEMS, MAX_PAGE_ITEMS, PAGE_BYTES } from './limits.js';

export interface PageQuery {
  /** Items per page (default 50, at most 1000). */
  limit?: number;
  /** The `next` cursor of the previous page. */
  after?: string;
  /** Only items at or after this time (ms since the epoch). */
  since?: number;
  /** Only items before this time (ms since the epoch). */
  until?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** A sortable key of one item: its time, then its id. */
export interface PageKey {
  at: number;
  id: string;
}

const CURSOR = /^(-?\d{1,16}):([^]{1,1024})$/;

export function encodeCursor(k: PageKey): string {
  return `${Math.round(k.at)}:${k.id}`;
}

export function decodeCursor(s: string): PageKey {
  const m = typeof s === 'string' ? CURSOR.exec(s) : null;
  if (!m) throw new UsageError(`"${String(s)}" is not a page cursor; pass the "next" value a previous page printed`);
  return { at: Number(m[1]), id: m[2]! };
}

/** Checks what a client sent (any of it may come off the network); returns the limit to use. */
export function checkPageQuery(q: PageQuery): number {
  if (typeof q !== 'object' || q === null) throw new UsageError('a page query must be an object');
  const limit = q.limit ?? DEFAULT_PAGE_ITEMS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ITEMS) throw new UsageError(`--limit must be an integer from 1 to ${MAX_PAGE_ITEMS}, got ${String(q.limit)}`);
  for (const [name, v] of [['since', q.since], ['until', q.until]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new UsageError(`--${name} must be a time (ms since the epoch), got ${String(v)}`);
  }
  if (q.after !== undefined) decodeCursor(q.after);
  return limit;
}

/** Newest first: later time first, then the larger id. */
export function newestFirst(a: PageKey, b: PageKey): number {
  return b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * One page out of `keys` (any order): those within [since, until) and after the cursor, newest
 * first; `accept` filters and converts a key to its item (undefined: skipped), `size` estimates
 * an item's bytes so a page stops at PAGE_BYTES (always at least one item per page).
 */
export function takePage<K extends PageKey, T>(keys: K[], q: PageQuery, accept: (k: K) => T | undefined, size: (item: T) => number): Page<T> {
  const limit = checkPageQuery(q);
  const after = q.after !== undefined ? decodeCursor(q.after) : undefined;
  const inRange = keys.filter(
    (k) => (q.since === undefined || k.at >= q.since) && (q.until === undefined || k.at < q.until) && (after === undefined || newestFirst(after, k) < 0),
  );
  inRange.sort(newestFirst);
  const items: T[] = [];
  let bytes = 0;
  let last: K | undefined;
  let i = 0;
  for (; i < inRange.length; i++) {
    if (items.length >= limit) break;
    const k = inRange[i]!;
    const item = accept(k);
    if (item === undefined) {
      last = k; // a filtered-out key still moves the cursor: the next page starts after it
      continue;
    }
    const n = size(item);
    if (items.length > 0 && bytes + n > PAGE_BYTES) break;
    items.push(item);
    bytes += n;
    last = k;
  }
  // More may follow when the loop stopped before the end; a trailing run of filtered-out keys
  // costs at most one empty last page.
  return i < inRange.length && last ? { items, next: encodeCursor(last) } : { items };
}

/** Every page of `q`, one after another, each fetched once the previous one was consumed. */
export async function* pagesOf<T, Q extends PageQuery>(q: Q, fetchPage: (q: Q) => Promise<Page<T>>): AsyncGenerator<T[]> {
  let after = q.after;
  for (;;) {
    const p = await fetchPage({ ...q, after });
    if (p.items.length > 0) yield p.items;
    if (p.next === undefined) return;
    after = p.next;
  }
}
