// The things a sans-IO core must never reach for itself: time, timers, randomness and logging.
// The real runtime (src/runtime/real.ts) backs them with the OS; the simulator
// (src/sim/) backs them with a virtual clock and a seeded PRNG, so the same node code runs in
// both worlds and a simulated run replays exactly from its seed.

/** Milliseconds on a monotonic clock. Only differences are meaningful. */
export interface Clock {
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps people read (episode createdAt). Defaults to now(). */
  wall?(): number;
}

/** Cancels a scheduled callback; calling it twice is harmless. */
export type Cancel = () => void;

export interface Scheduler {
  /** Runs `fn` once after `delayMs` (clamped to >= 0). */
  schedule(delayMs: number, fn: () => void): Cancel;
  /**
   * Optional: runs `fn` once as soon as the I/O callbacks of this event-loop turn are done
   * (setImmediate), so work arriving in one turn can be batched (group commit). The simulator
   * has none; callers then do the work at once.
   */
  immediate?(fn: () => void): void;
  /**
   * Optional: runs `fn` once the code running now (and the promise reactions it started) is done,
   * before the event loop moves on to I/O or `immediate` callbacks (process.nextTick). Messages
   * produced by many callbacks of one turn can so leave together, still ahead of the turn's group
   * commit. The simulator has none; callers then send at once.
   */
  soon?(fn: () => void): void;
}

/** A source of uniform randomness in [0, 1). Seeded in tests and in the simulator. */
export interface Rng {
  next(): number;
}

/** The subset of pino's API the project uses, so cores can log without depending on pino. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

/** Everything a node needs from its world, injected once. */
export interface Runtime {
  clock: Clock;
  scheduler: Scheduler;
  rng: Rng;
  logger: Logger;
}
