// The time an agent run sees: a monotonic clock to measure durationMs and a scheduler for waits
// (the `sleep` built-in, ctx.sleep in user agents, the executor's timeout). A real node passes its
// runtime's (OS clock, Node timers); the simulator passes its virtual ones, so a simulated
// episode's durationMs replays exactly from the seed. Without one, the real clock is used.
import { performance } from 'node:perf_hooks';
import type { Clock, Runtime, Scheduler } from '../runtime/types.js';

export type AgentTime = Pick<Runtime, 'clock' | 'scheduler'>;

const realClock: Clock = { now: () => performance.now() };

const realScheduler: Scheduler = {
  schedule(delayMs, fn) {
    // Not unref'd: a sleeping agent keeps its process alive, as the timers/promises delay did.
    // The agents cap their waits (MAX_SLEEP_MS) far below Node's 2^31-1 ms timer limit.
    const timer = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
};

export const REAL_AGENT_TIME: AgentTime = { clock: realClock, scheduler: realScheduler };

/**
 * Resolves after `ms` on `scheduler`'s clock; rejects with the signal's reason when it is aborted
 * first (the timer is cancelled then, so nothing fires after an abort).
 */
export function sleepOn(scheduler: Scheduler, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(signal.reason as Error);
    };
    const cancel = scheduler.schedule(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
