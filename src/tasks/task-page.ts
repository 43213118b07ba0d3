// One page of the task table (paging.ts), newest submission first, filtered by status and type.
// Keys come from each task's spec (its submission time), and only the tasks of the page are
// derived and turned into views.
import * as Y from 'yjs';
import { UsageError } from '../errors.js';
import { takePage, type Page, type PageKey, type PageQuery } from '../paging.js';
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
