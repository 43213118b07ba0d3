// What a task *is*, derived from its merged parts by rules every replica evaluates alike.
// Nothing here reads a clock or writes the doc: same parts in, same answer out, on every node.
//
// The rules:
// - Current assignment: the highest fencing token. Two coordinators that assigned concurrently
//   (both read token t, both wrote t+1) produce two assignments with the same token; the lower
//   holder name wins, so both sides agree who the holder is once they merge.
// - Winning outcome: among outcomes of real assignments, the lowest token; at equal tokens an
//   agent result beats an agent error beats a scheduler give-up, then the lower holder name,
//   then the lower dot. "Lowest token" because the earliest assignment to finish is the one
//   whose result clients may already have seen before a later attempt was even made; a merge
//   can add an older result that a partition hid, but never shows two results at once, and
//   the choice does not depend on the order in which updates arrived.
// - Status: a winning outcome makes the task done (result) or failed (error, give-up);
//   otherwise an assignment makes it running; otherwise it is queued.

import { compareDots } from '../../crdt/schema.js';
import type { Json } from '../../crdt/json.js';
import { compareNames } from './candidates.js';
import type { Assignment, Outcome, OutcomeKind, Renewal, TaskParts, TaskSpec } from './task-schema.js';
import { readAllParts } from './task-schema.js';

export type TaskStatus = 'queued' | 'running' | 'done' | 'failed';

/** A fencing pair: the token alone is not unique under concurrent assignment, the pair is. */
export interface Fence {
  token: number;
  holder: string;
}

export interface TaskState {
  spec: TaskSpec;
  status: TaskStatus;
  /** Every assignment made so far (= executions started), all replicas' together. */
  attempts: number;
  current: Assignment | undefined;
  /** Effective lease length of the current assignment: the longest any renewal asked for. */
  leaseMs: number | undefined;
  /** Changes whenever the current lease is (re)granted; observers time the lease from it. */
  leaseVersion: string | undefined;
  winner: Outcome | undefined;
  /** All recorded outcomes, winners and losers (diagnostics: at-least-once made visible). */
  outcomes: Outcome[];
}

export function compareAssignments(a: Assignment, b: Assignment): number {
  return b.token - a.token || compareNames(a.holder, b.holder) || compareDots(a.dot, b.dot);
}

export function currentAssignment(assignments: readonly Assignment[]): Assignment | undefined {
  return [...assignments].sort(compareAssignments)[0];
}

const RANK: Record<OutcomeKind, number> = { result: 0, error: 1, giveup: 2 };

export function compareOutcomes(a: Outcome, b: Outcome): number {
  return a.token - b.token || RANK[a.kind] - RANK[b.kind] || compareNames(a.holder, b.holder) || compareDots(a.dot, b.dot);
}

/**
 * Outcomes that count: those of an assignment that exists (so a peer cannot invent a result for
 * a token nobody held), and scheduler give-ups, which may end a task that was never assigned.
 */
export function validOutcomes(outcomes: readonly Outcome[], assignments: readonly Assignment[]): Outcome[] {
  const pairs = new Set(assignments.map((a) => fenceKey(a)));
  return outcomes.filter((o) => o.kind === 'giveup' || pairs.has(fenceKey(o)));
}

export function winningOutcome(outcomes: readonly Outcome[], assignments: readonly Assignment[]): Outcome | undefined {
  return validOutcomes(outcomes, assignments).sort(compareOutcomes)[0];
}

export function fenceKey(f: Fence): string {
  return `${f.token}\u0000${f.holder}`;
}

export function sameFence(a: Fence | undefined, b: Fence): boolean {
  return a !== undefined && a.token === b.token && a.holder === b.holder;
}

function leaseOf(current: Assignment, renewals: readonly Renewal[]): { leaseMs: number; version: string } {
  const mine = renewals.filter((r) => sameFence(r, current)).sort((a, b) => compareNames(a.writer, b.writer));
  const leaseMs = Math.max(current.leaseMs, ...mine.map((r) => r.leaseMs));
  const version = [fenceKey(current), current.dot, ...mine.map((r) => `${r.writer}:${r.n}`)].join('|');
  return { leaseMs, version };
}

export function deriveState(parts: TaskParts): TaskState {
  const { assignments, renewals, outcomes } = readAllParts(parts);
  const current = currentAssignment(assignments);
  // Valid outcomes once, sorted once: the winner is the first (as winningOutcome()).
  const valid = outcomes.length === 0 ? [] : validOutcomes(outcomes, assignments).sort(compareOutcomes);
  const winner = valid[0];
  const lease = current && !winner ? leaseOf(current, renewals) : undefined;
  const status: TaskStatus = winner ? (winner.kind === 'result' ? 'done' : 'failed') : current ? 'running' : 'queued';
  return {
    spec: parts.spec,
    status,
    attempts: assignments.length,
    current,
    leaseMs: lease?.leaseMs,
    leaseVersion: lease?.version,
    winner,
    outcomes: valid,
  };
}

/** The JSON view of a task (`tri task list --json` and the library API). */
export interface TaskView {
  id: string;
  type: string;
  agent: string;
  input: Json;
  strategy: string;
  status: TaskStatus;
  /** The node running it (running), or the node whose outcome won (done/failed). */
  node: string | null;
  attempts: number;
  maxAttempts: number;
  /** The current lease; expiresAt is on this replica's clock, null until this replica observed it. */
  lease: { holder: string; token: number; expiresAt: number | null } | null;
  result: Json;
  error: string | null;
  submittedAt: number;
  finishedAt: number | null;
}

export function toView(s: TaskState, leaseExpiresAt: number | null): TaskView {
  const w = s.winner;
  return {
    id: s.spec.id,
    type: s.spec.type,
    agent: s.spec.agent,
    input: structuredClone(s.spec.input),
    strategy: s.spec.strategy,
    status: s.status,
    node: w ? (w.holder === '' ? null : w.holder) : (s.current?.holder ?? null),
    attempts: s.attempts,
    maxAttempts: s.spec.maxAttempts,
    lease: s.status === 'running' && s.current ? { holder: s.current.holder, token: s.current.token, expiresAt: leaseExpiresAt } : null,
    result: w?.kind === 'result' ? structuredClone(w.result) : null,
    error: w && w.kind !== 'result' ? w.error : null,
    submittedAt: s.spec.submittedAt,
    finishedAt: w ? w.at : null,
  };
}
