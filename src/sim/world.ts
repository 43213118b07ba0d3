// The simulated world's clock and scheduler (DESIGN.md "The same node code runs in both worlds").
// Virtual time only moves when the world runs an event, so a run of 60 simulated seconds costs
// exactly the work done in it, and the same seed replays the same trace.
//
// Node code above the transports uses async/await, so an event's effects are not finished when
// its callback returns: continuations sit in the microtask queue. The async run methods therefore
// drain microtasks after each *batch* of events sharing one virtual time, before the clock
// advances. Draining with one setImmediate is complete (Node empties the whole microtask queue,
// including microtasks queued by microtasks, before the check phase) and costs under a
// microsecond, so it is cheap enough to do at every distinct timestamp.

import type { Cancel, Clock, Scheduler } from '../runtime/types.js';
import { EventQueue } from './event-queue.js';

export interface SimWorldOptions {
  /** Virtual time at the start, in ms (default 0). */
  startMs?: number;
}

/** Lets every pending promise continuation run; the only real-I/O touch point of the simulator. */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SimWorld implements Clock, Scheduler {
  private readonly queue = new EventQueue();
  private time: number;
  private executed = 0;

  constructor(options: SimWorldOptions = {}) {
    this.time = options.startMs ?? 0;
  }

  /** Current virtual time in ms. */
  now(): number {
    return this.time;
  }

  /** Events run so far (for speed measurements and progress reports). */
  get eventsRun(): number {
    return this.executed;
  }

  /** Live events still scheduled. */
  get pending(): number {
    return this.queue.size;
  }

  schedule(delayMs: number, fn: () => void): Cancel {
    const delay = delayMs > 0 ? delayMs : 0; // also turns NaN into 0
    return this.at(this.time + delay, fn);
  }

  /** Runs `fn` at absolute virtual time `timeMs` (never in the past). */
  at(timeMs: number, fn: () => void): Cancel {
    const ev = this.queue.push(timeMs > this.time ? timeMs : this.time, fn);
    return () => this.queue.cancel(ev);
  }

  /**
   * Runs the earliest event synchronously, without draining microtasks. Returns false when
   * nothing is scheduled. For purely synchronous code and tests of the world itself.
   */
  step(): boolean {
    const ev = this.queue.pop();
    if (!ev) return false;
    this.fire(ev.time, ev.fn!);
    return true;
  }

  /**
   * Runs every event up to and including virtual time `untilMs`, draining microtasks after each
   * group of same-time events, then leaves the clock at `untilMs`. Bounded by `maxEvents`
   * so a runaway timer loop fails loudly instead of hanging.
   */
  async runUntil(untilMs: number, maxEvents = Number.MAX_SAFE_INTEGER): Promise<void> {
    let budget = maxEvents;
    await drainMicrotasks();
    for (;;) {
      const t = this.queue.peekTime();
      if (t === undefined || t > untilMs) break;
      // Run the whole batch at time t; events scheduled at t by this batch join it.
      while (this.queue.peekTime() === t) {
        if (budget-- <= 0) throw new Error(`SimWorld: more than ${maxEvents} events before t=${untilMs} ms`);
        const ev = this.queue.pop()!;
        this.fire(ev.time, ev.fn!);
      }
      await drainMicrotasks();
    }
    if (untilMs > this.time) this.time = untilMs;
  }

  /**
   * Runs until `pred()` holds, checked every `everyMs` virtual ms, or `maxMs` pass; returns
   * whether it held. Polling on a virtual interval is cheap at 1,000 nodes, where a batch of
   * same-time events holds about one event and a check after each would cost more than the run.
   */
  async runUntilPolled(pred: () => boolean, maxMs: number, everyMs: number): Promise<boolean> {
    if (!(everyMs > 0)) throw new RangeError(`everyMs must be > 0, got ${everyMs}`);
    const deadline = this.time + maxMs;
    for (;;) {
      if (pred()) return true;
      if (this.time >= deadline) return false;
      await this.runUntil(Math.min(this.time + everyMs, deadline));
    }
  }

  /** Advances virtual time by `ms`, running everything due on the way. */
  runFor(ms: number, maxEvents?: number): Promise<void> {
    return this.runUntil(this.time + Math.max(0, ms), maxEvents);
  }

  /**
   * Runs the world until `promise` settles (returning its value or throwing its error), or fails
   * with an Error after `maxMs` of virtual time. Used to await simulated I/O from a test.
   */
  async runUntilSettled<T>(promise: Promise<T>, maxMs: number): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {}); // observed below; avoid an unhandled-rejection report meanwhile
    const deadline = this.time + maxMs;
    await drainMicrotasks();
    // Each iteration runs at least one event or ends the loop, so it is bounded by the agenda.
    while (!settled) {
      const t = this.queue.peekTime();
      if (t === undefined || t > deadline) break;
      while (this.queue.peekTime() === t) {
        const ev = this.queue.pop()!;
        this.fire(ev.time, ev.fn!);
      }
      await drainMicrotasks();
    }
    if (!settled) {
      throw new Error(`SimWorld: promise still pending after ${maxMs} ms of virtual time`);
    }
    return watched;
  }

  /** Runs until `predicate()` holds (checked after each time batch) or `maxMs` elapse; returns whether it held. */
  async runUntilTrue(predicate: () => boolean, maxMs: number): Promise<boolean> {
    const deadline = this.time + maxMs;
    await drainMicrotasks();
    while (!predicate()) {
      const t = this.queue.peekTime();
      if (t === undefined || t > deadline) {
        if (deadline > this.time) this.time = deadline;
        return predicate();
      }
      while (this.queue.peekTime() === t) {
        const ev = this.queue.pop()!;
        this.fire(ev.time, ev.fn!);
      }
      await drainMicrotasks();
    }
    return true;
  }

  private fire(time: number, fn: () => void): void {
    this.time = time;
    this.executed++;
    fn();
  }
}
