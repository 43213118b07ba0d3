// A page of one agent's episodes (`tri memory show`) read from the recall index instead of the
// agent's document. Yjs cannot decode part of a document: a page read from the Y.Doc loads (and
// keeps resident for a while) the whole document, 100,000 episodes for one page of 50. The index
// holds every episode's JSON with its creation time, in step with the document (RecallService
// folds every update in before answering), so a page is one indexed SQL query of `limit` rows.
//
// Same answer as episodePage (episode-page.ts): the same order (newest first: time, then id), the
// same filters and cursor, the same 4 MiB page cap; `next` is given only when a further matching
// episode exists (the document path may also give one before a trailing run of filtered-out ones).
import type { Episode } from '../../crdt/index.js';
import { PAGE_BYTES } from '../limits.js';
import { checkPageQuery, decodeCursor, encodeCursor, type Page } from '../paging.js';
import { UsageError } from '../errors.js';
import type { RecallIndex } from './recall-index.js';

export interface IndexPageQuery {
  limit?: number;
  after?: string;
  since?: number;
  until?: number;
  tag?: string;
  outcome?: string;
}

export function indexPage(index: RecallIndex, agent: string, q: IndexPageQuery): Page<Episode> {
  const limit = checkPageQuery(q);
  if (q.tag !== undefined && (typeof q.tag !== 'string' || q.tag.length === 0)) throw new UsageError('--tag must be a non-empty string');
  if (q.outcome !== undefined && typeof q.outcome !== 'string') throw new UsageError('--outcome must be a string');
  const after = q.after !== undefined ? decodeCursor(q.after) : undefined;
  // One more than a page: says whether a next page exists.
  const rows = index.pageRows(agent, { since: q.since, until: q.until, outcome: q.outcome, tag: q.tag, after }, limit + 1);
  const items: Episode[] = [];
  let bytes = 0;
  let i = 0;
  for (; i < rows.length && items.length < limit; i++) {
    const n = Buffer.byteLength(rows[i]!.json);
    if (items.length > 0 && bytes + n > PAGE_BYTES) break;
    items.push(JSON.parse(rows[i]!.json) as Episode);
    bytes += n;
  }
  const last = rows[i - 1];
  return i < rows.length && last ? { items, next: encodeCursor({ at: last.at, id: last.id }) } : { items };
}
