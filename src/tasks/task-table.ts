// The replicated task table: one Y.Doc holding every task (layout in task-schema.ts, derived
// state in task-state.ts). Any replica may write; the sync engine ships the updates. Each
// public write is one transaction, so storage and replication see one Yjs update per write.
//
// Fencing under merges: a token is a per-task integer, one above the highest this replica has
// seen. Two coordinators can hand out the same token concurrently, so the pair (token, holder)
// is the assignment, and task-state.ts picks one current pair on every replica alike. A report
// is recorded only when its pair is current on the recording replica (fencing.ts); a result
// that arrives later by merge with an older token still counts (its holder legitimately held
// the task), and the deterministic winner rule keeps exactly one result visible.
// Leases are replicated as durations and timed locally (lease-observer.ts).

import * as Y from 'yjs';
import { isJson, type Json } from '../../crdt/json.js';
import { randomClientId, randomHexId } from '../../crdt/ids.js';
import { nextDot } from '../../crdt/schema.js';
import { NotFoundError, TriError, UsageError } from '../errors.js';
import { ACCEPTED, judgeReport, refuse, type Verdict } from './fencing.js';
import { LeaseObserver } from './lease-observer.js';
import { clipError, validateNewTask, type NewTask } from './new-task.js';
import { readAssignments, readRenewals, taskParts, tasksOf, type OutcomeKind, type TaskMap, type TaskParts } from './task-schema.js';
import { deriveState, toView, type Fence, type TaskState, type TaskView } from './task-state.js';

/** Long enough to ride out GC pauses and a few missed renewals; failover of a FAILED node does not wait for it. */
export const DEFAULT_LEASE_MS = 30_000;

export interface TaskTableOptions {
  /** This replica's node name, recorded as the writer of what it writes. */
  node: string;
  /** Uniform randomness in [0, 1): task ids and the Yjs client id come from it. */
  random: () => number;
  /** Wrap an existing doc (rebuilt from storage) instead of creating one. */
  doc?: Y.Doc;
}

export interface LeaseRef extends Fence {
  id: string;
  /** On this replica's clock. */
  expiresAt: number;
}

export class TaskTable {
  readonly doc: Y.Doc;
  readonly node: string;
  private readonly random: () => number;
  private readonly tasks: Y.Map<TaskMap>;
  private readonly leases = new LeaseObserver();
  /**
   * Ids of tasks not (yet) seen finished on this replica. A finished task stays finished
   * (assignments and outcomes are only ever added), so the scheduler, lease timers and counts
   * only ever need to look at these: a scheduler pass costs O(open tasks), not O(all tasks ever).
   */
  private readonly open = new Set<string>();
  /** Tasks seen finished, with their final status (for counts without re-deriving them). */
  private readonly finished = new Map<string, 'done' | 'failed'>();
  /** The finished tasks by status, kept with `finished` so counts() need not walk every task ever. */
  private readonly finishedCounts = { done: 0, failed: 0 };
  /**
   * Derived states of tasks read since their last change (invalidated by a deep observer on
   * every local or merged change of the task), so the scheduler's passes and the status counts
   * re-derive only what changed instead of parsing every open task's Yjs maps again.
   */
  private readonly derived = new Map<string, TaskState>();
  /** Each task's parsed parts: fixed at submission (its nested maps are never replaced), dropped when the key changes. */
  private readonly partsCache = new Map<string, TaskParts>();
  /** Ids of finished tasks trimmed from the table that a submit must not reuse (task-retention.ts sets it). */
  isRetired: (id: string) => boolean = () => false;

  constructor(options: TaskTableOptions) {
    this.node = options.node;
    this.random = options.random;
    this.doc = options.doc ?? new Y.Doc({ gc: true });
    // A fresh client id per instance, from the injected randomness: deterministic in the
    // simulator, and never reused after a restart (which would corrupt peers' struct stores).
    this.doc.clientID = randomClientId(this.random);
    this.tasks = tasksOf(this.doc);
    // Keys starting with "~" are records, not tasks (task-retention.ts).
    this.tasks.forEach((_, id) => {
      if (!id.startsWith('~')) this.open.add(id);
    });
    // Local and remote (merged) additions alike; a key set again (two replicas submitting the
    // same explicit id) is looked at afresh.
    this.tasks.observe((e) => {
      for (const [id, change] of e.changes.keys) {
        if (id.startsWith('~')) continue;
        this.forgetFinished(id);
        if (change.action === 'delete') this.open.delete(id);
        else this.open.add(id);
      }
    });
    this.tasks.observeDeep((events) => {
      for (const e of events) {
        if (e.target === this.tasks) {
          for (const id of e.changes.keys.keys()) {
            this.derived.delete(id);
            this.partsCache.delete(id);
          }
        }
        else this.derived.delete(String(e.path[0]));
      }
    });
  }

  /** Runs several writes as one transaction: storage and replication see one update (e.g. submit + assign). */
  transact<T>(fn: () => T): T {
    let out!: T;
    this.doc.transact(() => {
      out = fn();
    }, this);
    return out;
  }

  /** Adds a queued task; returns its id. `wallMs` is shown to users only (submittedAt, whole ms: page cursors carry whole ms). */
  submit(task: NewTask, wallMs: number): string {
    const spec = validateNewTask(task);
    const id = task.id ?? randomHexId(this.random);
    if (this.tasks.has(id)) throw new UsageError(`task id "${id}" already exists; leave the id out to get a fresh one`);
    if (task.id !== undefined && (id.startsWith('~') || this.isRetired(id))) {
      throw new UsageError(`task id "${id}" was used by a task that finished and left the table (retention); ids are never reused: leave the id out to get a fresh one`);
    }
    this.doc.transact(() => {
      const m: TaskMap = new Y.Map();
      this.tasks.set(id, m);
      // The flat layout (task-schema.ts): assignments, renewals and outcomes go in as prefixed keys.
      // `explicit`: the submitter chose the id, so retention remembers it once the task is trimmed.
      m.set('spec', { id, type: spec.type, agent: spec.agent, input: structuredClone(spec.input), strategy: spec.strategy, maxAttempts: spec.maxAttempts, submittedAt: Math.round(wallMs), submittedBy: this.node, ...(task.id !== undefined ? { explicit: true } : {}) });
    }, this);
    return id;
  }

  /** Hands the task to `holder` under a new fencing token (returned); older holders are fenced off. */
  assign(id: string, holder: string, now: number, leaseMs = DEFAULT_LEASE_MS): number {
    const parts = this.parts(id);
    const state = deriveState(parts);
    // TriError for now: src/errors.ts has no class for "task already finished" (see report).
    if (state.winner) throw new TriError(`task ${id} is already ${state.status}; a finished task is never assigned again`);
    if (!Number.isInteger(leaseMs) || leaseMs <= 0) throw new UsageError(`lease must be a positive integer of milliseconds, got ${leaseMs}`);
    // Above every token this replica has seen, handed out or merely renewed, so it fences them all.
    const seen = [...readAssignments(parts.assignments), ...readRenewals(parts.renewals)].map((x) => x.token);
    const token = Math.max(0, ...seen) + 1;
    this.doc.transact(() => {
      parts.assignments.set(nextDot(this.doc), { token, holder, leaseMs, by: this.node });
    }, this);
    this.leases.observe(deriveState(parts), now);
    return token;
  }

  /** Extends the current lease (to `leaseMs`, default: as granted); refused for anyone but the current pair. */
  renew(id: string, fence: Fence, now: number, leaseMs?: number): Verdict {
    const parts = this.partsOf(id);
    const state = parts && deriveState(parts);
    const verdict = judgeReport(state, id, fence);
    if (!verdict.accepted || !parts || !state) return verdict;
    // One slot per writer (its client id): renewals from two replicas never race on a key.
    const writer = String(this.doc.clientID);
    const prev = parts.renewals.get(writer) as { n?: unknown } | undefined;
    const n = (typeof prev?.n === 'number' && Number.isInteger(prev.n) ? prev.n : 0) + 1;
    const ms = leaseMs ?? state.leaseMs ?? DEFAULT_LEASE_MS;
    this.doc.transact(() => {
      parts.renewals.set(writer, { token: fence.token, holder: fence.holder, n, leaseMs: ms });
    }, this);
    this.leases.observe(deriveState(parts), now);
    return ACCEPTED;
  }

  /** Records the agent's result if `fence` is current here. A non-JSON result is recorded as a failure. */
  complete(id: string, fence: Fence, result: Json, wallMs: number): Verdict {
    if (!isJson(result)) return this.fail(id, fence, 'the agent returned a value that is not JSON (finite numbers, strings, booleans, null, arrays, plain objects)', wallMs);
    return this.report(id, fence, 'result', structuredClone(result), null, wallMs);
  }

  /** Records that the agent failed (threw, bad input, unknown type on that node). Final: not retried. */
  fail(id: string, fence: Fence, error: string, wallMs: number): Verdict {
    return this.report(id, fence, 'error', null, clipError(error), wallMs);
  }

  /** The scheduler stops retrying (attempts exhausted): the task ends failed with `reason`. */
  giveUp(id: string, reason: string, wallMs: number): Verdict {
    const parts = this.partsOf(id);
    if (!parts) return refuse('unknown-task', `no task ${id} in the task table`);
    const state = deriveState(parts);
    if (state.winner) return refuse('finished', `task ${id} is already ${state.status}`);
    this.write(parts, state.current ?? { token: 0, holder: '' }, 'giveup', null, clipError(reason), wallMs);
    return ACCEPTED;
  }

  state(id: string): TaskState | undefined {
    const cached = this.derived.get(id);
    if (cached) return cached;
    const p = this.partsOf(id);
    if (!p) return undefined;
    const s = deriveState(p);
    // Open tasks only (the cache stays O(open)), and not inside a transaction: its writes reach
    // the observer (which invalidates) only at its end.
    if (!s.winner && this.doc._transaction === null) this.derived.set(id, s);
    return s;
  }

  get(id: string): TaskView | undefined {
    const s = this.state(id);
    return s ? toView(s, this.leases.expiry(s)) : undefined;
  }

  /** Every well-formed task, oldest submission first (ties by id), the same order on every replica. */
  list(): TaskView[] {
    return this.states().map((s) => toView(s, this.leases.expiry(s)));
  }

  states(): TaskState[] {
    const out: TaskState[] = [];
    this.tasks.forEach((value) => {
      const p = taskParts(value);
      if (p) out.push(deriveState(p));
    });
    return out.sort((a, b) => a.spec.submittedAt - b.spec.submittedAt || (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0));
  }

  /**
   * Unfinished (queued or running) tasks, in the order of states() (in no particular order with
   * `sorted` false: callers that only count or look up skip the sort). Tasks found finished leave
   * the open set for good, so repeated calls stay cheap however long the table grows.
   */
  openStates(sorted = true): TaskState[] {
    const out: TaskState[] = [];
    for (const id of this.open) {
      const s = this.state(id);
      if (!s) continue; // malformed: states() skips it too
      if (s.winner) {
        this.open.delete(id);
        this.partsCache.delete(id);
        this.markFinished(id, s.status === 'done' ? 'done' : 'failed');
        this.leases.observe(s, 0); // drops its lease timer
        continue;
      }
      out.push(s);
    }
    if (!sorted) return out;
    return out.sort((a, b) => a.spec.submittedAt - b.spec.submittedAt || (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0));
  }

  /**
   * Whether a task here may still be queued or running (false: every task is known finished, so
   * a scheduler pass over this table has nothing to place, re-place or time). Cheap: finished
   * tasks leave the open set when a read (openStates, counts) first sees them finished.
   */
  mayHaveOpen(): boolean {
    return this.open.size > 0;
  }

  /** Tasks by status, from the open set plus the finished ones already counted. */
  counts(): Record<'queued' | 'running' | 'done' | 'failed', number> {
    const c = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const s of this.openStates(false)) c[s.status]++;
    c.done += this.finishedCounts.done;
    c.failed += this.finishedCounts.failed;
    return c;
  }

  /**
   * Running tasks whose lease, timed on this replica's clock, has run out at `now`. `open`: the
   * caller's fresh openStates() result, so a pass that already read it does not read it again.
   */
  expired(now: number, open: readonly TaskState[] = this.openStates()): LeaseRef[] {
    const out: LeaseRef[] = [];
    for (const s of open) {
      if (s.status !== 'running' || !s.current) continue;
      const expiresAt = this.leases.observe(s, now);
      if (expiresAt !== null && expiresAt <= now) out.push({ id: s.spec.id, token: s.current.token, holder: s.current.holder, expiresAt });
    }
    return out;
  }

  /** Running tasks currently held by `node`: what to reassign when that node is FAILED. */
  heldBy(node: string): (Fence & { id: string })[] {
    return this.openStates()
      .filter((s) => s.status === 'running' && s.current?.holder === node)
      .map((s) => ({ id: s.spec.id, token: s.current!.token, holder: node }));
  }

  /** The earliest lease expiry this replica knows of (for the driver to arm one timer), or null. `open` as for expired(). */
  nextExpiry(now: number, open: readonly TaskState[] = this.openStates(false)): number | null {
    let next: number | null = null;
    for (const s of open) {
      const at = s.status === 'running' ? this.leases.observe(s, now) : null;
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  private markFinished(id: string, status: 'done' | 'failed'): void {
    this.forgetFinished(id);
    this.finished.set(id, status);
    this.finishedCounts[status]++;
  }

  private forgetFinished(id: string): void {
    const was = this.finished.get(id);
    if (was === undefined) return;
    this.finished.delete(id);
    this.finishedCounts[was]--;
  }

  private partsOf(id: string): TaskParts | undefined {
    const cached = this.partsCache.get(id);
    if (cached) return cached;
    const p = taskParts(this.tasks.get(id));
    // Only open tasks, outside transactions (as `derived`): the cache stays O(open).
    if (p && this.open.has(id) && this.doc._transaction === null) this.partsCache.set(id, p);
    return p;
  }

  private parts(id: string): TaskParts {
    const p = this.partsOf(id);
    if (!p) throw new NotFoundError(`no task ${id} in the task table; list tasks with \`tri task list\``);
    return p;
  }

  private report(id: string, fence: Fence, kind: 'result' | 'error', result: Json, error: string | null, wallMs: number): Verdict {
    const parts = this.partsOf(id);
    const verdict = judgeReport(parts && deriveState(parts), id, fence);
    if (verdict.accepted && parts) this.write(parts, fence, kind, result, error, wallMs);
    return verdict;
  }

  /** Outcomes go under a fresh dot: two replicas recording at once never touch the same key. */
  private write(parts: TaskParts, fence: Fence, kind: OutcomeKind, result: Json, error: string | null, wallMs: number): void {
    this.doc.transact(() => {
      parts.outcomes.set(nextDot(this.doc), { token: fence.token, holder: fence.holder, kind, result, error, at: wallMs, by: this.node });
    }, this);
  }
}
