// SimCluster membership: whole ClusterNodes on the simulated network join, detect a crash,
// tolerate loss without false deaths, show a graceful leave, and replay exactly from a seed.
import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

/** Runs `fn`; on failure adds the seed and how to replay it to the error. */
async function withReplay<T>(c: SimCluster, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    (err as Error).message += `\n  replay: ${c.replayHint()}`;
    throw err;
  }
}

describe('SimCluster membership', () => {
  it('16 nodes joined in a chain all see 16 alive members', async () => {
    const c = (cluster = new SimCluster({ seed: 'chain-16', nodes: 16, join: 'chain' }));
    await withReplay(c, async () => {
      await c.start();
      const ok = await c.runUntil(() => c.allSee((ms) => ms.length === 16 && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE')), 60_000);
      expect(ok).toBe(true);
      console.log(`chain-16: converged at t=${c.now()} ms`);
    });
  });
});
