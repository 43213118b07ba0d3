// Group commit: work that arrives during one event-loop turn is gathered and done once at the
// end of the turn (one fsync for every update stored in it, one quorum write for every task
// submitted in it). Shared by the memory service's storage flush and the task service's batches.
import type { Scheduler } from './types.js';

/**
 * Runs `fn` at the end of the current event-loop turn (Scheduler.immediate), or undefined where
 * the runtime has no such point (the simulator: callers then do the work at once).
 */
export function endOfTurn(scheduler: Scheduler): ((fn: () => void) => void) | undefined {
  const immediate = scheduler.immediate;
  return immediate ? (fn) => immediate.call(scheduler, fn) : undefined;
}

/**
 * Runs `fn` once the code running now is done, before the turn's group commit
 * (Scheduler.soon), or undefined where the runtime has none.
 */
export function beforeCommit(scheduler: Scheduler): ((fn: () => void) => void) | undefined {
  const soon = scheduler.soon;
  return soon ? (fn) => soon.call(scheduler, fn) : undefined;
}

/**
 * Runs `fn` at the end of the current event-loop turn, or, where the runtime has no such point,
 * as a zero-delay task at the same virtual time (so simulated runs stay deterministic).
 */
export function afterTurn(scheduler: Scheduler): (fn: () => void) => void {
  return endOfTurn(scheduler) ?? ((fn) => void scheduler.schedule(0, fn));
}

/** A flush that runs at most once per turn, however many times it is asked for in that turn. */
export class TurnFlush {
  private queued = false;

  constructor(
    private readonly at: (fn: () => void) => void,
    private readonly flush: () => void,
  ) {}

  /** Asks for the flush at the end of this turn (once). */
  request(): void {
    if (this.queued) return;
    this.queued = true;
    this.at(() => {
      this.queued = false;
      this.flush();
    });
  }
}
