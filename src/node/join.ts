// Seeds are retried with capped exponential backoff until one answers: a node started before its
// seeds (common in scripted deployments) must still join once they come up.
import type { Logger, Runtime } from '../runtime/types.js';

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

export async function joinWithBackoff(
  seeds: string[],
  pushPull: (seed: string) => Promise<boolean>,
  runtime: Runtime,
  stopped: () => boolean,
  log: Logger,
): Promise<boolean> {
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; !stopped(); attempt++) {
    const results = await Promise.all(seeds.map((s) => pushPull(s)));
    if (results.some(Boolean)) return true;
    if (attempt === 1 || attempt % 10 === 0) log.warn({ seeds, attempt, retryInMs: delay }, 'no seed answered yet; retrying');
    // Jitter spreads retries of many nodes started together.
    const wait = delay * (0.5 + runtime.rng.next());
    await new Promise<void>((r) => runtime.scheduler.schedule(wait, r));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
  return false;
}
