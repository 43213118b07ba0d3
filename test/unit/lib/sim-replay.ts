// Shared by the simulator tests: a cluster destroyed after each test, and failures that say how
// to replay them (the seed and the SimCluster's replay hint).
import { afterEach } from 'vitest';
import type { SimCluster } from '../../../src/sim/cluster-sim.js';

/** Registers an afterEach that destroys the cluster `track` was last given (`untrack` after destroying it yourself). */
export function simClusterPerTest(): { track: (c: SimCluster) => SimCluster; untrack: () => void } {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
  });
  return { track: (c) => (cluster = c), untrack: () => (cluster = undefined) };
}

/** Runs `fn`; on failure appends the seed and how to replay it to the error message. */
export async function withReplay<T>(c: SimCluster, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) err.message += `\n  replay: ${c.replayHint()}`;
    throw err;
  }
}
