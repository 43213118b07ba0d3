// One page of the task table (paging.ts), newest submission first, filtered by status and type.
// Keys come from each task's spec (its submission time), and only the tasks of the page are
// derived and turned into views.
import * as Y from 'yjs';
import { UsageError } from '../errors.js';
import { PAGE_BYTES } from '../limits.js';
import { checkPageQuery, decodeCursor, encodeCursor, newestFirst, takePage, type Page, type PageKey, type PageQuery } from '../paging.js';
import { taskParts, tasksOf } from './task-schema.js';
import type { TaskStatus, TaskView } from './task-state.js';
import type { TaskTable } from './task-table.js';

export interface TaskQuery extends PageQuery {
  status?: TaskStatus;
  type?: string;
}

const STATUSES: readonly string[] = ['queued', 'running', 'done', 'failed'];

export function taskPage(table: TaskTable, q: TaskQuery = {}): Page<TaskView> {
  if (q.status !== undefined && !STATUSES.includes(q.status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got ${String(q.status)}`);
  if (q.type !== undefined && (typeof q.type !== 'string' || q.type.length === 0)) throw new UsageError('--type must be a non-empty string');
  const keys: PageKey[] = [];
  tasksOf(table.doc).forEach((map, id) => {
    if (!(map instanceof Y.Map)) return; // the trimmed-id records (task-retention.ts)
    const spec = map.get('spec') as { submittedAt?: unknown; type?: unknown } | undefined;
    let at = typeof spec === 'object' && spec !== null ? spec.submittedAt : undefined;
    if (typeof at !== 'number') at = taskParts(map)?.spec.submittedAt; // the older layout
    if (typeof at === 'number') keys.push({ at, id });
  });
  return takePage(
    keys,
    q,
    (k) => {
      const v = table.get(k.id);
      if (!v || (q.status !== undefined && v.status !== q.status) || (q.type !== undefined && v.type !== q.type)) return undefined;
      return v;
    },
    (v) => Buffer.byteLength(JSON.stringify(v)),
  );
}

const PROGRESS: Record<TaskStatus, number> = { queued: 0, running: 1, done: 2, failed: 2 };

/**
 * One page out of several pages of the same query, each from a different set of task tables
 * (this node's, other members' shards): newest first, a task seen twice (two replicas of its
 * shard) kept once, the copy furthest along. A page that stopped early (its `next`) may hold
 * more tasks older than its last one, so the merged page stops at the newest such cursor: the
 * next page continues from there and nothing is skipped. At most `limit` items and PAGE_BYTES, as
 * bounded as one table's page.
 */
export function mergeTaskPages(pages: readonly Page<TaskView>[], q: TaskQuery = {}): Page<TaskView> {
  const limit = checkPageQuery(q);
  const byId = new Map<string, TaskView>();
  for (const p of pages) {
    for (const v of p.items) {
      const had = byId.get(v.id);
      if (!had || PROGRESS[v.status] > PROGRESS[had.status] || (PROGRESS[v.status] === PROGRESS[had.status] && (v.attempts > had.attempts))) byId.set(v.id, v);
    }
  }
  const key = (v: TaskView): PageKey => ({ at: v.submittedAt, id: v.id });
  let stop: PageKey | undefined; // the newest cursor of a page that has more
  for (const p of pages) {
    if (p.next === undefined) continue;
    const k = decodeCursor(p.next);
    if (!stop || newestFirst(k, stop) < 0) stop = k;
  }
  const sorted = [...byId.values()].filter((v) => !stop || newestFirst(key(v), stop) <= 0).sort((a, b) => newestFirst(key(a), key(b)));
  const items: TaskView[] = [];
  let bytes = 0;
  for (const v of sorted) {
    const n = Buffer.byteLength(JSON.stringify(v));
    if (items.length >= limit || (items.length > 0 && bytes + n > PAGE_BYTES)) break;
    items.push(v);
    bytes += n;
  }
  if (sorted.length > items.length) return { items, next: encodeCursor(key(items[items.length - 1]!)) };
  return stop ? { items, next: encodeCursor(stop) } : { items };
}
