// Layout of the replicated task table inside its Y.Doc, and the parsers that read it back.
// Kept in one place because the writers (task-table.ts) and the derivation (task-state.ts)
// must agree on it.
//
//   doc.getMap('tasks'): id -> Y.Map (one per task, created once, with its parts, by submit)
//     spec          {id, type, agent, input, strategy, maxAttempts, submittedAt, submittedBy}
//                   one plain value written once at submission, never changed (one Yjs item
//                   instead of eight: every replica decodes and stores it for every task).
//                   Tables written before keep these as eight keys of the task map; both read.
//     assignments   Y.Map  dot -> {token, holder, leaseMs, by}
//     renewals      Y.Map  "<clientID>" -> {token, holder, n, leaseMs}   one slot per writer
//     outcomes      Y.Map  dot -> {token, holder, kind, result?, error?, at, by}
//
// Why this shape: Yjs resolves two concurrent writes to one Y.Map key by keeping one and
// dropping the other, silently. So no key here is ever written by two replicas: assignments
// and outcomes go under "dots" (the writer's clientID and clock, unique per write), renewals
// under the writer's own clientID. Everything a reader shows (status, holder, the result) is
// then *derived* from the whole merged set by rules that every replica evaluates alike
// (task-state.ts), instead of being a stored field that a merge could overwrite.
//
// Nested maps are created only inside submit, together with their parent, because two
// replicas that each created `outcomes` for the same task would race on the parent key.

import * as Y from 'yjs';
import { isJson, type Json } from '../../crdt/json.js';
import { isStrategy, type Strategy } from './routing.js';

export const TASKS_ROOT = 'tasks';

export type TaskMap = Y.Map<unknown>;

export function tasksOf(doc: Y.Doc): Y.Map<TaskMap> {
  return doc.getMap<TaskMap>(TASKS_ROOT);
}

/** The immutable part of a task, fixed at submission. */
export interface TaskSpec {
  id: string;
  type: string;
  /** The agent whose memory the task uses; defaults to the type name. */
  agent: string;
  input: Json;
  strategy: Strategy;
  maxAttempts: number;
  submittedAt: number;
  submittedBy: string;
}

export interface Assignment {
  dot: string;
  token: number;
  holder: string;
  leaseMs: number;
  /** The replica that made the assignment (diagnostics only). */
  by: string;
}

export interface Renewal {
  writer: string;
  token: number;
  holder: string;
  /** Per-writer renewal counter: it changes on every renewal, which is what observers watch. */
  n: number;
  leaseMs: number;
}

/** result: the agent returned; error: the agent failed; giveup: the scheduler stopped retrying. */
export type OutcomeKind = 'result' | 'error' | 'giveup';

export interface Outcome {
  dot: string;
  token: number;
  holder: string;
  kind: OutcomeKind;
  result: Json;
  error: string | null;
  at: number;
  by: string;
}

export interface TaskParts {
  map: TaskMap;
  spec: TaskSpec;
  assignments: Y.Map<unknown>;
  renewals: Y.Map<unknown>;
  outcomes: Y.Map<unknown>;
}

/**
 * The typed parts of a task, or undefined when something is missing or mistyped. Honest
 * writers create a task and all its parts in one transaction; anything else comes from a peer
 * that does not follow the schema and is hidden alike on every replica instead of crashing.
 */
export function taskParts(value: unknown): TaskParts | undefined {
  if (!(value instanceof Y.Map)) return undefined;
  const map = value as TaskMap;
  const packed = map.get('spec');
  const g = isRecord(packed) ? (k: string): unknown => (k in SPEC_KEYS ? packed[k] : map.get(k)) : (k: string): unknown => map.get(k);
  const [id, type, agent, input, strategy] = [g('id'), g('type'), g('agent'), g('input'), g('strategy')];
  const [maxAttempts, submittedAt, submittedBy] = [g('maxAttempts'), g('submittedAt'), g('submittedBy')];
  const [assignments, renewals, outcomes] = [g('assignments'), g('renewals'), g('outcomes')];
  if (typeof id !== 'string' || typeof type !== 'string' || typeof agent !== 'string') return undefined;
  if (!isJson(input) || !isStrategy(strategy) || !isPositiveInt(maxAttempts)) return undefined;
  if (typeof submittedAt !== 'number' || typeof submittedBy !== 'string') return undefined;
  if (!(assignments instanceof Y.Map) || !(renewals instanceof Y.Map) || !(outcomes instanceof Y.Map)) return undefined;
  return {
    map,
    spec: { id, type, agent, input, strategy, maxAttempts, submittedAt, submittedBy },
    assignments,
    renewals,
    outcomes,
  };
}

const SPEC_KEYS: Record<string, true> = { id: true, type: true, agent: true, input: true, strategy: true, maxAttempts: true, submittedAt: true, submittedBy: true };

export function readAssignments(m: Y.Map<unknown>): Assignment[] {
  const out: Assignment[] = [];
  m.forEach((v, dot) => {
    if (!isRecord(v)) return;
    const { token, holder, leaseMs, by } = v;
    if (!isPositiveInt(token) || typeof holder !== 'string' || !isPositiveInt(leaseMs) || typeof by !== 'string') return;
    out.push({ dot, token, holder, leaseMs, by });
  });
  return out;
}

export function readRenewals(m: Y.Map<unknown>): Renewal[] {
  const out: Renewal[] = [];
  m.forEach((v, writer) => {
    if (!isRecord(v)) return;
    const { token, holder, n, leaseMs } = v;
    if (!isPositiveInt(token) || typeof holder !== 'string' || !isPositiveInt(n) || !isPositiveInt(leaseMs)) return;
    out.push({ writer, token, holder, n, leaseMs });
  });
  return out;
}

const KINDS: readonly OutcomeKind[] = ['result', 'error', 'giveup'];

export function readOutcomes(m: Y.Map<unknown>): Outcome[] {
  const out: Outcome[] = [];
  m.forEach((v, dot) => {
    if (!isRecord(v)) return;
    const { token, holder, kind, result, error, at, by } = v;
    if (!Number.isInteger(token) || (token as number) < 0 || typeof holder !== 'string') return;
    if (!KINDS.includes(kind as OutcomeKind) || typeof at !== 'number' || typeof by !== 'string') return;
    const res = result === undefined ? null : result;
    if (!isJson(res) || (error !== undefined && error !== null && typeof error !== 'string')) return;
    out.push({ dot, token: token as number, holder, kind: kind as OutcomeKind, result: res, error: (error as string | null | undefined) ?? null, at, by });
  });
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Y.AbstractType);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
