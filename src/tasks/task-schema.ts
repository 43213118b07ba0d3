// Layout of the replicated task table inside its Y.Doc, and the parsers that read it back.
// Kept in one place because the writers (task-table.ts) and the derivation (task-state.ts)
// must agree on it.
//
//   doc.getMap('tasks'): id -> Y.Map (one per task, created by submit), whose keys are
//     spec          {id, type, agent, input, strategy, maxAttempts, submittedAt, submittedBy}
//                   one plain value written once at submission, never changed (one Yjs item
//                   instead of eight: every replica decodes and stores it for every task).
//     a:<dot>       an assignment     {token, holder, leaseMs, by}
//     r:<clientID>  a renewal slot    {token, holder, n, leaseMs}   one slot per writer
//     o:<dot>       an outcome        {token, holder, kind, result?, error?, at, by}
//
// Why this shape: Yjs resolves two concurrent writes to one Y.Map key by keeping one and
// dropping the other, silently. So no key here is ever written by two replicas: assignments
// and outcomes go under "dots" (the writer's clientID and clock, unique per write), renewals
// under the writer's own clientID. Everything a reader shows (status, holder, the result) is
// then *derived* from the whole merged set by rules that every replica evaluates alike
// (task-state.ts), instead of being a stored field that a merge could overwrite.
//
// Why flat (prefixed keys in the task's own map, not a nested map per part): every replica
// decodes, integrates and stores every item of every task, so items are the cost of a task.
// Submit + assign is 3 items (task map, spec, assignment) instead of 6 with three nested maps
// (assignments, renewals, outcomes), and no part map can be created twice by racing replicas.
// Tables written before keep the nested maps (and some the spec as eight keys of the task
// map); both are read, and new parts of such a task go where its layout puts them.

import * as Y from 'yjs';
import { isJson, type Json } from '../../crdt/json.js';
import type { UpdateSchema } from '../../crdt/update-validation.js';
import { isStrategy, type Strategy } from './routing.js';

export const TASKS_ROOT = 'tasks';

export type TaskMap = Y.Map<unknown>;

/**
 * What a remote update to the task table may contain: the one root, maps (a task's, and the
 * nested ones of the older layout) holding JSON values. Passed to applyRemoteUpdate, so a peer
 * cannot plant text, XML, binary content or other roots in the table.
 */
export const TASKS_UPDATE_SCHEMA: UpdateSchema = {
  roots: [TASKS_ROOT],
  contents: [Y.ContentAny, Y.ContentType, Y.ContentDeleted],
  types: [Y.Map],
};

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

/** One part of a task (its assignments, renewals or outcomes): keys are dots or writer ids. */
export interface TaskPart {
  forEach(f: (value: unknown, key: string) => void): void;
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

/** A part stored as prefixed keys of the task's own map (the flat layout). */
class PrefixedPart implements TaskPart {
  constructor(
    private readonly map: TaskMap,
    private readonly prefix: string,
  ) {}

  forEach(f: (value: unknown, key: string) => void): void {
    const prefix = this.prefix;
    this.map.forEach((v, k) => {
      if (k.startsWith(prefix)) f(v, k.slice(prefix.length));
    });
  }

  get(key: string): unknown {
    return this.map.get(this.prefix + key);
  }

  set(key: string, value: unknown): unknown {
    return this.map.set(this.prefix + key, value);
  }
}

export const PART_PREFIX = { assignments: 'a:', renewals: 'r:', outcomes: 'o:' } as const;

/** What the part readers need: the entries, in map order. */
interface PartEntries {
  forEach(f: (value: unknown, key: string) => void): void;
}

/** Entries gathered from one pass over a task's map. */
class Gathered implements PartEntries {
  readonly entries: Array<[string, unknown]> = [];

  forEach(f: (value: unknown, key: string) => void): void {
    for (const [k, v] of this.entries) f(v, k);
  }
}

/**
 * A task's assignments, renewals and outcomes. In the flat layout the three share the task's
 * map, so they are gathered in one pass over it instead of three (every derivation reads them).
 */
export function readAllParts(parts: TaskParts): { assignments: Assignment[]; renewals: Renewal[]; outcomes: Outcome[] } {
  if (!(parts.assignments instanceof PrefixedPart)) {
    return { assignments: readAssignments(parts.assignments), renewals: readRenewals(parts.renewals), outcomes: readOutcomes(parts.outcomes) };
  }
  const a = new Gathered();
  const r = new Gathered();
  const o = new Gathered();
  parts.map.forEach((v, k) => {
    if (k.startsWith(PART_PREFIX.assignments)) a.entries.push([k.slice(PART_PREFIX.assignments.length), v]);
    else if (k.startsWith(PART_PREFIX.outcomes)) o.entries.push([k.slice(PART_PREFIX.outcomes.length), v]);
    else if (k.startsWith(PART_PREFIX.renewals)) r.entries.push([k.slice(PART_PREFIX.renewals.length), v]);
  });
  return { assignments: readAssignments(a), renewals: readRenewals(r), outcomes: readOutcomes(o) };
}

export interface TaskParts {
  map: TaskMap;
  spec: TaskSpec;
  assignments: TaskPart;
  renewals: TaskPart;
  outcomes: TaskPart;
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
  if (typeof id !== 'string' || typeof type !== 'string' || typeof agent !== 'string') return undefined;
  if (!isJson(input) || !isStrategy(strategy) || !isPositiveInt(maxAttempts)) return undefined;
  if (typeof submittedAt !== 'number' || typeof submittedBy !== 'string') return undefined;
  const spec: TaskSpec = { id, type, agent, input, strategy, maxAttempts, submittedAt, submittedBy };
  if (!map.has('assignments')) {
    // The flat layout: its spec is always the packed record.
    if (!isRecord(packed)) return undefined;
    return {
      map,
      spec,
      assignments: new PrefixedPart(map, PART_PREFIX.assignments),
      renewals: new PrefixedPart(map, PART_PREFIX.renewals),
      outcomes: new PrefixedPart(map, PART_PREFIX.outcomes),
    };
  }
  const [assignments, renewals, outcomes] = [map.get('assignments'), map.get('renewals'), map.get('outcomes')];
  if (!(assignments instanceof Y.Map) || !(renewals instanceof Y.Map) || !(outcomes instanceof Y.Map)) return undefined;
  return { map, spec, assignments, renewals, outcomes };
}

const SPEC_KEYS: Record<string, true> = { id: true, type: true, agent: true, input: true, strategy: true, maxAttempts: true, submittedAt: true, submittedBy: true };

export function readAssignments(m: PartEntries): Assignment[] {
  const out: Assignment[] = [];
  m.forEach((v, dot) => {
    if (!isRecord(v)) return;
    const { token, holder, leaseMs, by } = v;
    if (!isPositiveInt(token) || typeof holder !== 'string' || !isPositiveInt(leaseMs) || typeof by !== 'string') return;
    out.push({ dot, token, holder, leaseMs, by });
  });
  return out;
}

export function readRenewals(m: PartEntries): Renewal[] {
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

export function readOutcomes(m: PartEntries): Outcome[] {
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
