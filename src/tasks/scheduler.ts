// The task scheduler as a sans-IO state machine (DESIGN.md "Principles"): the node calls
// tick(table, members, now, random) when a task is submitted, a member changes state, a lease
// timer fires or a result arrives; the scheduler writes assignments and give-ups into the task
// table and returns the effects for the node to carry out (send `run` over RPC, tell an old
// holder it was fenced off, log why a task waits) plus the time at which to tick again.
//
// Execution is at-least-once: a task is handed out again when its holder is FAILED (or LEFT)
// or when its lease ran out without renewal (a crashed, paused or partitioned holder looks
// the same). Every hand-out takes a new fencing token, so a late answer from an old holder is
// refused by the table and results are recorded once. After maxAttempts hand-outs the task
// fails with the reason of the last loss.

import type { Json } from '../../crdt/json.js';
import type { LifecycleState } from '../vocabulary.js';
import type { Candidate, NoCapacityReason } from './candidates.js';
import { route, LARGE_PAYLOAD_BYTES } from './routing.js';
import { DEFAULT_LEASE_MS, type TaskTable } from './task-table.js';
import type { TaskState } from './task-state.js';

/** What the scheduler needs from a membership entry; MemberView satisfies it. */
export interface SchedulerMember {
  name: string;
  state: LifecycleState;
  slots: number;
  freeSlots: number;
  rttMs: number | null;
  /** Measured by the node's transfers; leave out when unknown. */
  throughputBytesPerSec?: number | null;
}

export interface RunTask {
  id: string;
  type: string;
  agent: string;
  input: Json;
}

export type SchedulerEffect =
  /** Send the task to `node`; it runs it under `token` and renews every leaseMs/3 or so. */
  | { type: 'run'; task: RunTask; node: string; token: number; leaseMs: number; attempt: number }
  /** `node` lost the task to a newer token: tell it to abort (an optimisation; the fence already holds). */
  | { type: 'revoke'; id: string; node: string; token: number; why: string }
  /** The task ended as failed after its last attempt; `reason` says why. */
  | { type: 'failed'; id: string; reason: string }
  /** No member can take the task now; it stays queued (or waits for reassignment). */
  | { type: 'wait'; id: string; reason: NoCapacityReason; detail: string };

export interface TickResult {
  effects: SchedulerEffect[];
  /** The next lease expiry on this node's clock: tick again then (null: nothing to watch). */
  wakeAt: number | null;
}

export interface SchedulerOptions {
  /** This node's name: its candidate is `local`. */
  self: string;
  leaseMs?: number;
  largePayloadBytes?: number;
  /** A task shard's scheduler (task-shard.ts): its agent's replica set now, which local-first prefers (data-local). */
  replicas?: () => ReadonlySet<string> | undefined;
}

/**
 * A queued task of another submitter is adopted (placed) by the leader only once it has been
 * queued this long here: its submitter places it right after its quorum write, and a second
 * placer racing it would only run it twice (both executions cost a slot, one result is refused).
 */
export const ADOPT_QUEUED_AFTER_MS = 1000;

/** Who may place what (TaskService passes it; without it every queued task is placed, as before). */
export interface TickRole {
  /** This node is the scheduling leader (adopts other submitters' tasks still queued). */
  leader: boolean;
}

/** Members whose tasks are lost for sure: the cluster confirmed them dead or they left. */
const GONE: ReadonlySet<LifecycleState> = new Set(['FAILED', 'LEFT']);

export class TaskScheduler {
  readonly leaseMs: number;
  private readonly self: string;
  private readonly largePayloadBytes: number;
  private readonly replicas: (() => ReadonlySet<string> | undefined) | undefined;
  /** Round-robin position: the member chosen last. The only state the scheduler keeps. */
  private cursor: string | null = null;
  /** Other submitters' queued tasks: when this node first saw each queued (its clock). */
  private readonly queuedSince = new Map<string, number>();

  constructor(options: SchedulerOptions) {
    this.self = options.self;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.largePayloadBytes = options.largePayloadBytes ?? LARGE_PAYLOAD_BYTES;
    this.replicas = options.replicas;
  }

  /** Whether a pass over `table` could do anything: a task there may be open, or this scheduler still times another submitter's queued task. */
  hasWork(table: TaskTable): boolean {
    return table.mayHaveOpen() || this.queuedSince.size > 0;
  }

  tick(table: TaskTable, members: readonly SchedulerMember[], now: number, random: () => number, wallMs: number = now, role?: TickRole): TickResult {
    const effects: SchedulerEffect[] = [];
    const states = table.openStates(); // finished tasks need nothing: O(open), not O(table)
    const byName = new Map(members.map((m) => [m.name, m]));
    const expired = new Map(table.expired(now, states).map((l) => [l.id, l]));
    const candidates = this.candidates(members, liveTasks(states, byName, expired));

    const stillQueued = new Set<string>();
    for (const s of states) {
      if (s.status === 'queued') {
        if (role && s.spec.submittedBy !== this.self) {
          const since = this.queuedSince.get(s.spec.id) ?? now;
          this.queuedSince.set(s.spec.id, since);
          stillQueued.add(s.spec.id);
          if (!role.leader || now - since < ADOPT_QUEUED_AFTER_MS) continue; // its submitter places it
        }
        this.place(table, s, candidates, now, random, effects);
        continue;
      }
      if (s.status !== 'running' || !s.current) continue;
      const holder = byName.get(s.current.holder);
      const lost = holder && GONE.has(holder.state) ? `its node ${s.current.holder} is ${holder.state}` : expired.has(s.spec.id) ? `the lease of ${s.current.holder} ran out` : undefined;
      if (lost === undefined) continue;
      if (s.attempts >= s.spec.maxAttempts) {
        const reason = `gave up after ${s.attempts} attempt(s): ${lost}`;
        if (table.giveUp(s.spec.id, reason, wallMs).accepted) effects.push({ type: 'failed', id: s.spec.id, reason });
        continue;
      }
      const placedOn = this.place(table, s, candidates, now, random, effects);
      // A live old holder is told to stop (unless the task went back to it: the new run supersedes).
      if (placedOn !== undefined && placedOn !== s.current.holder && !(holder && GONE.has(holder.state))) {
        effects.push({ type: 'revoke', id: s.spec.id, node: s.current.holder, token: s.current.token, why: lost });
      }
    }
    for (const id of this.queuedSince.keys()) if (!stillQueued.has(id)) this.queuedSince.delete(id);
    return { effects, wakeAt: table.nextExpiry(now, table.openStates(false)) };
  }

  /**
   * Places one task this node just submitted (the submitter's fast path): the same routing and
   * slot accounting as tick(), without looking at any other queued or lost task. The node calls
   * it inside the submit's table transaction, so submission and assignment are one update, one
   * quorum write. Returns the `run` effect, or a `wait` when no member can take the task now.
   */
  placeNew(table: TaskTable, id: string, members: readonly SchedulerMember[], now: number, random: () => number): SchedulerEffect[] {
    return this.placeNewMany(table, [id], this.prepare(table, members, now), now, random);
  }

  /**
   * The candidates a burst of placements starts from, with the slots that tasks running now
   * hold counted out. Reads every open task once: call it once per batch, and before the batch's
   * transaction (inside one the table re-derives what it cannot cache). `ended`: tasks whose
   * runs ended on this node but whose outcomes are not in the table yet (waiting for their
   * write): their slots are free again, so they do not count.
   */
  prepare(table: TaskTable | readonly TaskTable[], members: readonly SchedulerMember[], now: number, ended?: ReadonlySet<string>): Candidate[] {
    const byName = new Map(members.map((m) => [m.name, m]));
    // Several tables (task shards written in one batch): their running tasks all hold slots.
    const tables: readonly TaskTable[] = Array.isArray(table) ? table : [table as TaskTable];
    const live = tables.flatMap((t: TaskTable) => {
      const open = t.openStates(false);
      return liveTasks(open, byName, new Map(t.expired(now, open).map((l) => [l.id, l])));
    });
    return this.candidates(members, ended && ended.size > 0 ? live.filter((s) => !ended.has(s.spec.id)) : live);
  }

  /**
   * placeNew for a batch of tasks this node just submitted (one quorum write carries them all),
   * from prepare()'s candidates (changed in place: each placement counts against the candidates
   * the next one sees, as in a pass).
   */
  placeNewMany(table: TaskTable, ids: readonly string[], candidates: Candidate[], now: number, random: () => number): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const id of ids) {
      const s = table.state(id);
      if (s && s.status === 'queued') this.place(table, s, candidates, now, random, effects);
    }
    return effects;
  }

  /** Routes and assigns one task; returns the chosen member, undefined when none can take it now. */
  private place(table: TaskTable, s: TaskState, candidates: Candidate[], now: number, random: () => number, effects: SchedulerEffect[]): string | undefined {
    const { choice, cursor } = route(s.spec.strategy, candidates, {
      random,
      // Only bandwidth-aware routing looks at the size: spare the other strategies a JSON encode per task.
      payloadBytes: s.spec.strategy === 'bandwidth-aware' ? jsonBytes(s.spec.input) : 0,
      cursor: this.cursor,
      largePayloadBytes: this.largePayloadBytes,
      replicas: this.replicas?.(),
    });
    this.cursor = cursor;
    if (!choice.ok) {
      effects.push({ type: 'wait', id: s.spec.id, reason: choice.reason, detail: choice.detail });
      return undefined;
    }
    const token = table.assign(s.spec.id, choice.node, now, this.leaseMs);
    // Gossip reports free slots with a delay; count what this tick hands out so one burst does
    // not pour into the member that looked free a moment ago.
    const c = candidates.find((x) => x.name === choice.node)!;
    c.freeSlots -= 1;
    c.inFlight += 1;
    const { id, type, agent, input } = s.spec;
    effects.push({ type: 'run', task: { id, type, agent, input }, node: choice.node, token, leaseMs: this.leaseMs, attempt: s.attempts + 1 });
    return choice.node;
  }

  private candidates(members: readonly SchedulerMember[], live: readonly TaskState[]): Candidate[] {
    const inFlight = new Map<string, number>();
    for (const s of live) inFlight.set(s.current!.holder, (inFlight.get(s.current!.holder) ?? 0) + 1);
    // Reported free slots lag behind assignments (gossip), and the table lags behind nothing this
    // coordinator did itself: trust whichever is lower.
    return members.map((m) => ({
      name: m.name,
      local: m.name === this.self,
      freeSlots: Math.max(0, Math.min(m.freeSlots, m.slots - (inFlight.get(m.name) ?? 0))),
      slots: m.slots,
      inFlight: inFlight.get(m.name) ?? 0,
      rttMs: m.rttMs,
      throughputBytesPerSec: m.throughputBytesPerSec ?? null,
      state: m.state,
    }));
  }
}

/**
 * Running tasks that occupy a slot. Tasks whose holder is gone or whose lease ran out are
 * presumed not running: they must not count, or a lost task on a one-slot member would block itself.
 */
function liveTasks(states: readonly TaskState[], byName: ReadonlyMap<string, SchedulerMember>, expired: ReadonlyMap<string, unknown>): TaskState[] {
  return states.filter((s) => {
    if (s.status !== 'running' || !s.current || expired.has(s.spec.id)) return false;
    const h = byName.get(s.current.holder);
    return !(h && GONE.has(h.state));
  });
}

const encoder = new TextEncoder();

/** Size of the input as it travels (UTF-8 JSON). */
export function jsonBytes(value: Json): number {
  return encoder.encode(JSON.stringify(value)).length;
}
