// The replicated task table: one Y.Doc holding every task (layout in task-schema.ts, derived
// state in task-state.ts). Any replica may write; the sync engine ships the updates. Each
// public write is one transaction, so storage and replication see one Yjs update per write.
//
// Fencing under merges: a token is a per-task integer, one above the highest this replica has
// seen. Two coordinators can hand out the same token concurrently; the pair (token, holder) is
// the assignment, and the rules in task-state.ts pick one current pair on every replica alike.
// A result is recorded only when its pair is current on the recording replica; a result that
// arrives later by merge and has an older token still counts (its holder legitimately held the
// task), and the deterministic winner rule keeps exactly one visible.
//
// Leases are durations, not timestamps: each node's clock is monotonic and private, so an
// "expires at" written on one node means nothing on another. A replica times a lease from the
// moment it first observed that version of it (an assignment or renewal), on its own clock.
// That errs on the long side (a lease can only look younger than it is), never reassigns early.

import * as Y from 'yjs';
import { isJson, type Json } from '../../crdt/json.js';
import { randomClientId, randomHexId } from '../../crdt/ids.js';
import { nextDot } from '../../crdt/schema.js';
import { NotFoundError, TriError, UsageError } from '../errors.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, type Strategy } from './routing.js';
import { readRenewals, taskParts, tasksOf, type TaskMap, type TaskParts } from './task-schema.js';
import { deriveState, sameFence, toView, type Fence, type TaskState, type TaskView } from './task-state.js';

export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 100;
export const DEFAULT_LEASE_MS = 30_000;
/** Error texts are kept short: they replicate to every node forever. */
const MAX_ERROR_CHARS = 2_000;

export interface NewTask {
  /** Leave out to get a fresh random id (the normal case: ids must never be reused). */
  id?: string;
  type: string;
  input: Json;
  /** The agent whose memory this task uses; defaults to the type name. */
  agent?: string;
  strategy?: Strategy;
  maxAttempts?: number;
}

export interface TaskTableOptions {
  /** This replica's node name, recorded as the writer of what it writes. */
  node: string;
  /** Uniform randomness in [0, 1): task ids and the Yjs client id come from it. */
  random: () => number;
  /** Wrap an existing doc (rebuilt from storage) instead of creating one. */
  doc?: Y.Doc;
}

/** Why a write was refused. Refusals are answers, not exceptions: they happen in normal operation. */
/**
 * stale-token: a newer assignment fenced this one off. not-holder: same token, but the merge
 * made another holder current. unknown-token: newer than anything this replica has seen (sync
 * first). finished / duplicate: the task already has an outcome (this one's, for duplicate).
 */
export type Refusal = 'unknown-task' | 'finished' | 'duplicate' | 'stale-token' | 'not-holder' | 'unknown-token';
export type Verdict = { accepted: true } | { accepted: false; reason: Refusal; detail: string };

export interface LeaseRef extends Fence {
  id: string;
  /** On this replica's clock. */
  expiresAt: number;
}

const ACCEPTED: Verdict = { accepted: true };

export class TaskTable {
  readonly doc: Y.Doc;
  readonly node: string;
  private readonly random: () => number;
  private readonly tasks: Y.Map<TaskMap>;
  /** Local, never replicated: when this replica first saw each lease version (see header). */
  private readonly observed = new Map<string, { version: string; expiresAt: number }>();

  constructor(options: TaskTableOptions) {
    this.node = options.node;
    this.random = options.random;
    this.doc = options.doc ?? new Y.Doc({ gc: true });
    // A fresh client id per instance, from the injected randomness: deterministic in the
    // simulator, and never reused after a restart (which would corrupt peers' struct stores).
    this.doc.clientID = randomClientId(this.random);
    this.tasks = tasksOf(this.doc);
  }

  submit(task: NewTask, wallMs: number): string {
    const spec = validateNewTask(task);
    const id = task.id ?? randomHexId(this.random);
    if (this.tasks.has(id)) throw new UsageError(`task id "${id}" already exists; leave the id out to get a fresh one`);
    this.doc.transact(() => {
      const m: TaskMap = new Y.Map();
      this.tasks.set(id, m);
      m.set('id', id);
      m.set('type', spec.type);
      m.set('agent', spec.agent);
      m.set('input', structuredClone(spec.input));
      m.set('strategy', spec.strategy);
      m.set('maxAttempts', spec.maxAttempts);
      m.set('submittedAt', wallMs);
      m.set('submittedBy', this.node);
      m.set('assignments', new Y.Map());
      m.set('renewals', new Y.Map());
      m.set('outcomes', new Y.Map());
    }, this);
    return id;
  }

  /** Hands the task to `holder` under a new fencing token; the previous holder is fenced off. */
  assign(id: string, holder: string, now: number, leaseMs = DEFAULT_LEASE_MS): number {
    const parts = this.parts(id);
    const state = deriveState(parts);
    if (state.winner) throw new TriError(`task ${id} is already ${state.status}; a finished task is never assigned again`);
    if (!Number.isInteger(leaseMs) || leaseMs <= 0) throw new UsageError(`lease must be a positive integer of milliseconds, got ${leaseMs}`);
    // Above every token this replica has seen, given or merely renewed, so it fences them all.
    const seen = [...readAssignmentTokens(parts), ...readRenewals(parts.renewals).map((r) => r.token)];
    const token = Math.max(0, ...seen) + 1;
    this.doc.transact(() => {
      parts.assignments.set(nextDot(this.doc), { token, holder, leaseMs, by: this.node });
    }, this);
    this.observe(id, deriveState(parts), now);
    return token;
  }

  /** Extends the current lease; refused for anyone but the current (token, holder). */
  renew(id: string, fence: Fence, now: number, leaseMs?: number): Verdict {
    const check = this.checkFence(id, fence);
    if (!check.ok) return check.verdict;
    const writer = String(this.doc.clientID);
    const prev = check.parts.renewals.get(writer) as { n?: unknown } | undefined;
    const n = (typeof prev?.n === 'number' && Number.isInteger(prev.n) ? prev.n : 0) + 1;
    const ms = leaseMs ?? check.state.leaseMs ?? DEFAULT_LEASE_MS;
    this.doc.transact(() => {
      check.parts.renewals.set(writer, { token: fence.token, holder: fence.holder, n, leaseMs: ms });
    }, this);
    this.observe(id, deriveState(check.parts), now);
    return ACCEPTED;
  }

  /** Records the agent's result, if `fence` is the current assignment here. */
  complete(id: string, fence: Fence, result: Json, wallMs: number): Verdict {
    if (!isJson(result)) return this.fail(id, fence, 'the agent returned a value that is not JSON (finite numbers, strings, booleans, null, arrays, plain objects)', wallMs);
    return this.record(id, fence, 'result', structuredClone(result), null, wallMs);
  }

  /** Records that the agent failed (threw, bad input, unknown type on that node). Final. */
  fail(id: string, fence: Fence, error: string, wallMs: number): Verdict {
    return this.record(id, fence, 'error', null, clip(error), wallMs);
  }

  /** The scheduler stops retrying (attempts exhausted). Ends the task as failed with `reason`. */
  giveUp(id: string, reason: string, wallMs: number): Verdict {
    const p = taskParts(this.tasks.get(id));
    if (!p) return { accepted: false, reason: 'unknown-task', detail: `no task ${id}` };
    const state = deriveState(p);
    if (state.winner) return { accepted: false, reason: 'finished', detail: `task ${id} is already ${state.status}` };
    const fence = state.current ?? { token: 0, holder: '' };
    this.write(p, fence, 'giveup', null, clip(reason), wallMs);
    return ACCEPTED;
  }

  state(id: string): TaskState | undefined {
    const p = taskParts(this.tasks.get(id));
    return p ? deriveState(p) : undefined;
  }

  get(id: string): TaskView | undefined {
    const s = this.state(id);
    return s ? toView(s, this.observedExpiry(id, s)) : undefined;
  }

  /** Every well-formed task, oldest submission first (ties by id), the same order on every replica. */
  list(): TaskView[] {
    return this.states().map((s) => toView(s, this.observedExpiry(s.spec.id, s)));
  }

  states(): TaskState[] {
    const out: TaskState[] = [];
    this.tasks.forEach((value) => {
      const p = taskParts(value);
      if (p) out.push(deriveState(p));
    });
    return out.sort((a, b) => a.spec.submittedAt - b.spec.submittedAt || (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0));
  }

  /** Running tasks whose lease, timed on this replica's clock, has run out at `now`. */
  expired(now: number): LeaseRef[] {
    const out: LeaseRef[] = [];
    for (const s of this.states()) {
      if (s.status !== 'running' || !s.current) continue;
      const expiresAt = this.observe(s.spec.id, s, now);
      if (expiresAt !== null && expiresAt <= now) out.push({ id: s.spec.id, token: s.current.token, holder: s.current.holder, expiresAt });
    }
    return out;
  }

  /** Running tasks currently held by `node`: what to reassign when that node is FAILED. */
  heldBy(node: string): (Fence & { id: string })[] {
    return this.states()
      .filter((s) => s.status === 'running' && s.current?.holder === node)
      .map((s) => ({ id: s.spec.id, token: s.current!.token, holder: node }));
  }

  /** The earliest lease expiry this replica knows of (for the driver to arm one timer), or null. */
  nextExpiry(now: number): number | null {
    let next: number | null = null;
    for (const s of this.states()) {
      if (s.status !== 'running') continue;
      const at = this.observe(s.spec.id, s, now);
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  private observe(id: string, s: TaskState, now: number): number | null {
    if (s.leaseVersion === undefined || s.leaseMs === undefined) {
      this.observed.delete(id);
      return null;
    }
    const seen = this.observed.get(id);
    if (seen && seen.version === s.leaseVersion) return seen.expiresAt;
    const expiresAt = now + s.leaseMs;
    this.observed.set(id, { version: s.leaseVersion, expiresAt });
    return expiresAt;
  }

  private observedExpiry(id: string, s: TaskState): number | null {
    const seen = this.observed.get(id);
    return seen && seen.version === s.leaseVersion ? seen.expiresAt : null;
  }

  private parts(id: string): TaskParts {
    const p = taskParts(this.tasks.get(id));
    if (!p) throw new NotFoundError(`no task ${id} in the task table; list tasks with \`tri task list\``);
    return p;
  }

  private checkFence(id: string, fence: Fence): { ok: true; parts: TaskParts; state: TaskState } | { ok: false; verdict: Verdict } {
    const parts = taskParts(this.tasks.get(id));
    if (!parts) return { ok: false, verdict: { accepted: false, reason: 'unknown-task', detail: `no task ${id}` } };
    const state = deriveState(parts);
    if (state.winner) {
      const dup = state.winner.kind !== 'giveup' && sameFence(state.winner, fence);
      return {
        ok: false,
        verdict: dup
          ? { accepted: false, reason: 'duplicate', detail: `task ${id} already has the outcome of token ${fence.token}` }
          : { accepted: false, reason: 'finished', detail: `task ${id} is already ${state.status} (token ${state.winner.token} on ${state.winner.holder || 'the scheduler'})` },
      };
    }
    const cur = state.current;
    if (!sameFence(cur, fence)) {
      const held = cur ? `token ${cur.token} is held by ${cur.holder}` : 'it has no assignment here';
      const detail = `task ${id}: token ${fence.token} for ${fence.holder} is not current (${held})`;
      const reason: Refusal = !cur || fence.token > cur.token ? 'unknown-token' : fence.token < cur.token ? 'stale-token' : 'not-holder';
      return { ok: false, verdict: { accepted: false, reason, detail } };
    }
    return { ok: true, parts, state };
  }

  private record(id: string, fence: Fence, kind: 'result' | 'error', result: Json, error: string | null, wallMs: number): Verdict {
    const check = this.checkFence(id, fence);
    if (!check.ok) return check.verdict;
    this.write(check.parts, fence, kind, result, error, wallMs);
    return ACCEPTED;
  }

  private write(parts: TaskParts, fence: Fence, kind: 'result' | 'error' | 'giveup', result: Json, error: string | null, wallMs: number): void {
    this.doc.transact(() => {
      parts.outcomes.set(nextDot(this.doc), { token: fence.token, holder: fence.holder, kind, result, error, at: wallMs, by: this.node });
    }, this);
  }
}

function readAssignmentTokens(parts: TaskParts): number[] {
  const out: number[] = [];
  parts.assignments.forEach((v) => {
    const t = (v as { token?: unknown } | null)?.token;
    if (typeof t === 'number' && Number.isInteger(t)) out.push(t);
  });
  return out;
}

function validateNewTask(t: NewTask): { type: string; agent: string; input: Json; strategy: Strategy; maxAttempts: number } {
  if (typeof t.type !== 'string' || t.type.length === 0) throw new UsageError('a task needs a type (an agent type such as "echo")');
  if (!isJson(t.input)) throw new UsageError(`the input of a ${t.type} task is not JSON; pass plain JSON (e.g. --input '{"text":"hi"}')`);
  const strategy = t.strategy ?? DEFAULT_STRATEGY;
  if (!isStrategy(strategy)) throw new UsageError(`unknown routing strategy "${String(strategy)}"; use one of ${STRATEGIES.join(', ')}`);
  const maxAttempts = t.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new UsageError(`maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`);
  }
  const agent = t.agent ?? t.type;
  if (typeof agent !== 'string' || agent.length === 0) throw new UsageError('the agent id must be a non-empty string');
  return { type: t.type, agent, input: t.input, strategy, maxAttempts };
}

function clip(s: string): string {
  const text = typeof s === 'string' && s.length > 0 ? s : 'failed without a reason';
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
