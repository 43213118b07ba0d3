// The runtime a real node runs on: the OS monotonic clock, Node timers and crypto-seeded
// randomness. The simulator supplies the same interfaces from src/sim/ instead.

import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cancel, Clock, Logger, Rng, Runtime, Scheduler } from './types.js';

/** performance.now() is monotonic (wall-clock jumps do not move it), as timeouts need. */
const monotonicClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
};

/**
 * setTimeout-backed scheduler. Timers are unref'd: a node's own periodic timers (probes,
 * anti-entropy) must not keep the process alive by themselves; the sockets and the CLI decide
 * when the process lives. Node caps delays at 2^31-1 ms, so longer delays are chained.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

const timerScheduler: Scheduler = {
  immediate(fn: () => void): void {
    setImmediate(fn);
  },
  soon(fn: () => void): void {
    process.nextTick(fn);
  },
  schedule(delayMs: number, fn: () => void): Cancel {
    let remaining = delayMs > 0 ? delayMs : 0;
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      timer = setTimeout(() => {
        if (cancelled) return;
        if (remaining > 0) arm();
        else fn();
      }, step);
      timer.unref();
    };
    arm();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  },
};

/**
 * Uniform [0, 1) from the OS CSPRNG, drawn in blocks so each call is cheap. Unpredictable values
 * matter here: probe targets and gossip fan-out should not be guessable by a peer.
 */
function cryptoRng(): Rng {
  const block = new Uint32Array(256);
  let index = block.length;
  return {
    next(): number {
      if (index >= block.length) {
        randomFillSync(block);
        index = 0;
      }
      return block[index++]! / 4294967296;
    },
  };
}

export function realRuntime(logger: Logger): Runtime {
  return { clock: monotonicClock, scheduler: timerScheduler, rng: cryptoRng(), logger };
}
