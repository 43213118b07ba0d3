// Task retention: finished tasks leave the replicated table once they are older than the
// retention (default 1 h) or beyond the newest `maxFinished`, so the table stays bounded.
// docs/retention.md has the argument why this never brings an old result back nor lets a
// finished task's id be submitted again; in short:
//  - a trim is a quorum write (only the writable side trims) that deletes the task's map from the
//    table's root. Whatever a replica that has not seen the delete adds inside that map later (an
//    outcome a partition hid, an assignment, a renewal) merges into a deleted parent and is
//    deleted with it, on every replica alike: the task cannot reappear by merge;
//  - only a submit sets a task key, and a submit refuses an id recorded here: tasks whose id the
//    submitter chose (spec.explicit) are recorded, when trimmed, in one record per trim write under
//    `~trimmed:<hour>:<dot>`, and the records of an hour are dropped once older than `dedupMs`
//    (default 7 days). Random ids (64 random bits from the submitting node) are never re-drawn
//    in practice and need no record, which keeps the records small.
import * as Y from 'yjs';
import { nextDot } from '../../crdt/schema.js';
import { tasksOf } from './task-schema.js';
import type { TaskTable } from './task-table.js';

export const DEFAULT_TASK_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_FINISHED = 10_000;
export const DEFAULT_DEDUP_MS = 7 * 24 * 60 * 60 * 1000;
const RECORD_PREFIX = '~trimmed:';
const HOUR_MS = 60 * 60 * 1000;
/** Tasks one trim write deletes at most (a bounded update; the next sweep continues). */
const MAX_TRIM_PER_WRITE = 2000;

export interface TaskRetentionPolicy {
  /** A finished task leaves the table this long after it finished. */
  retentionMs: number;
  /** At most this many finished tasks stay (the newest). */
  maxFinished: number;
  /** Trimmed ids chosen by submitters are refused for this long. */
  dedupMs: number;
}

export function taskRetentionPolicy(p: Partial<TaskRetentionPolicy> = {}): TaskRetentionPolicy {
  return { retentionMs: p.retentionMs ?? DEFAULT_TASK_RETENTION_MS, maxFinished: p.maxFinished ?? DEFAULT_MAX_FINISHED, dedupMs: p.dedupMs ?? DEFAULT_DEDUP_MS };
}

/** What one trim write does: the tasks to delete, the explicit ids among them, and old records to drop. */
export interface TrimPlan {
  trim: string[];
  explicit: string[];
  expired: string[];
}

/** The ids of trimmed tasks that submitters chose, from the records in the table (kept current by an observer). */
export class RetiredIds {
  private readonly byRecord = new Map<string, string[]>();
  private readonly ids = new Map<string, number>();

  constructor(table: TaskTable) {
    const root = tasksOf(table.doc);
    root.forEach((v, k) => this.add(k, v));
    root.observe((e) => {
      for (const [k, change] of e.changes.keys) {
        if (!k.startsWith(RECORD_PREFIX)) continue;
        if (change.action !== 'add') this.remove(k);
        if (change.action !== 'delete') this.add(k, root.get(k));
      }
    });
    table.isRetired = (id) => this.ids.has(id);
  }

  count(): number {
    return this.ids.size;
  }

  private add(key: string, value: unknown): void {
    if (!key.startsWith(RECORD_PREFIX) || !Array.isArray(value)) return;
    const ids = value.filter((x): x is string => typeof x === 'string');
    this.byRecord.set(key, ids);
    for (const id of ids) this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
  }

  private remove(key: string): void {
    for (const id of this.byRecord.get(key) ?? []) {
      const n = (this.ids.get(id) ?? 1) - 1;
      if (n <= 0) this.ids.delete(id);
      else this.ids.set(id, n);
    }
    this.byRecord.delete(key);
  }
}

/** Decides what to trim at wall time `now` (sans-IO: the caller writes the plan through quorum). */
export function planTrim(table: TaskTable, policy: TaskRetentionPolicy, now: number): TrimPlan {
  const finished: Array<{ id: string; at: number; explicit: boolean }> = [];
  const expired: string[] = [];
  const oldestHour = Math.floor((now - policy.dedupMs) / HOUR_MS);
  tasksOf(table.doc).forEach((map, id) => {
    if (id.startsWith(RECORD_PREFIX)) {
      if (Number(id.slice(RECORD_PREFIX.length).split(':')[0]) < oldestHour) expired.push(id);
      return;
    }
    if (!(map instanceof Y.Map)) return;
    const v = table.get(id);
    if (!v || v.finishedAt === null) return;
    const spec = map.get('spec') as { explicit?: unknown } | undefined;
    finished.push({ id, at: v.finishedAt, explicit: typeof spec === 'object' && spec !== null && spec.explicit === true });
  });
  finished.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
  const out = finished.filter((t, i) => i >= policy.maxFinished || t.at <= now - policy.retentionMs).slice(0, MAX_TRIM_PER_WRITE);
  return { trim: out.map((t) => t.id), explicit: out.filter((t) => t.explicit).map((t) => t.id), expired };
}

/** Applies a plan to the local table (inside the caller's quorum write): one transaction. */
export function applyTrim(table: TaskTable, plan: TrimPlan, now: number): void {
  if (plan.trim.length === 0 && plan.expired.length === 0) return;
  const root = tasksOf(table.doc);
  table.transact(() => {
    if (plan.explicit.length > 0) root.set(`${RECORD_PREFIX}${Math.floor(now / HOUR_MS)}:${nextDot(table.doc)}`, plan.explicit as unknown as Y.Map<unknown>);
    for (const id of plan.trim) root.delete(id);
    for (const k of plan.expired) root.delete(k);
  });
}
