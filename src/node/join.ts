// Seeds are retried with capped exponential backoff until one answers: a node started before its
// seeds (common in scripted deployments) must still join once they come up. A member can also
// reach us first (one that knew us before a restart while our own seeds are down): then we are
// in its cluster already, and waiting on the seeds would leave us JOINING for ever.
import type { Logger, Runtime } from '../runtime/types.js';

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;
/** How often `reached` is looked at while waiting between attempts. */
const REACHED_CHECK_MS = 250;

export async function joinWithBackoff(
  seeds: string[],
  pushPull: (seed: string) => Promise<boolean>,
  runtime: Runtime,
  stopped: () => boolean,
  log: Logger,
  /** True once a member reached this node without a seed answering (it counts as joined). */
  reached?: () => boolean,
): Promise<boolean> {
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; !stopped(); attempt++) {
    const results = await Promise.all(seeds.map((s) => pushPull(s)));
    if (results.some(Boolean)) return true;
    if (attempt === 1 || attempt % 10 === 0) log.warn({ seeds, attempt, retryInMs: delay }, 'no seed answered yet; retrying');
    // Jitter spreads retries of many nodes started together.
    const wait = delay * (0.5 + runtime.rng.next());
    if (reached && (await reachedWithin(wait, reached, runtime, stopped))) {
      log.info({ seeds }, 'reached by a member while no seed answered: joined through it');
      return true;
    }
    if (!reached) await new Promise<void>((r) => runtime.scheduler.schedule(wait, r));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
  return false;
}

/** Waits `ms`, looking at `reached` every REACHED_CHECK_MS; true as soon as it holds. */
async function reachedWithin(ms: number, reached: () => boolean, runtime: Runtime, stopped: () => boolean): Promise<boolean> {
  const until = runtime.clock.now() + ms;
  for (let left = ms; left > 0 && !stopped(); left = until - runtime.clock.now()) {
    if (reached()) return true;
    await new Promise<void>((r) => runtime.scheduler.schedule(Math.min(REACHED_CHECK_MS, left), r));
  }
  return reached();
}
