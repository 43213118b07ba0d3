// SimCluster membership (the scenarios): whole ClusterNodes on the simulated network join
// in a chain, detect a crash, ride out 10% packet loss without a false death, show a graceful
// leave as LEFT, and replay exactly from a seed. A failure prints the seed and how to replay it.
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

describe('SimCluster membership', () => {
  it('16 nodes joined in a chain (node i via node i-1) all see 16 alive members', async () => {
    const c = track(new SimCluster({ seed: 'chain-16', nodes: 16, join: 'chain' }));
    await withReplay(c, async () => {
      await c.start();
      const ok = await c.runUntil(() => c.allSee((ms) => ms.length === 16 && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE')), 60_000);
      expect(ok).toBe(true);
    });
  });

  it('a crashed member is declared dead (FAILED) by all the others', async () => {
    const c = track(new SimCluster({ seed: 'crash-8', nodes: 8 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(8), 30_000)).toBe(true);
      const crashedAt = c.now();
      c.crash(5);
      const ok = await c.runUntil(() => c.allSee((ms) => ms.find((m) => m.name === 'n5')?.state === 'FAILED'), 60_000);
      expect(ok).toBe(true);
      // Nobody else is suspected on the way.
      expect(c.allSee((ms) => ms.filter((m) => m.name !== 'n5').every((m) => m.swimState === 'alive'))).toBe(true);
      expect(c.now() - crashedAt).toBeLessThan(30_000);
    });
  });

  it('10% packet loss on every link causes no false death in 10 virtual minutes (lan profile)', async () => {
    const c = track(new SimCluster({ seed: 'loss-10', nodes: 10, profile: 'lan', link: { latencyMs: 1, jitterMs: 2, loss: 0.1 } }));
    await withReplay(c, async () => {
      const deaths: string[] = [];
      let suspicions = 0;
      c.onMemberEvent((i, e) => {
        if (e.kind === 'dead') deaths.push(`n${i} declared ${e.member.name} dead at t=${c.now()}`);
        if (e.kind === 'suspect') suspicions++;
      });
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(10), 60_000)).toBe(true);
      await c.runFor(10 * 60_000);
      expect(deaths).toEqual([]);
      expect(c.allSeeAlive(10)).toBe(true);
      const t = c.totals();
      // The loss really happened (about 10% of packets), and suspicions (if any) were refuted.
      expect(t.packetsDropped / t.packetsSent).toBeGreaterThan(0.08);
      expect(suspicions).toBeGreaterThanOrEqual(0);
    });
  });

  it('a graceful stop() (SIGTERM) shows as LEFT everywhere, not FAILED', async () => {
    const c = track(new SimCluster({ seed: 'leave-6', nodes: 6 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(6), 30_000)).toBe(true);
      await c.stop(2);
      expect(c.node(2).state).toBe('LEFT');
      const ok = await c.runUntil(() => c.allSee((ms) => ms.find((m) => m.name === 'n2')?.state === 'LEFT'), 10_000);
      expect(ok).toBe(true);
      // It stays LEFT (never turns FAILED) while the others keep probing.
      await c.runFor(60_000);
      expect(c.allSee((ms) => ms.find((m) => m.name === 'n2')?.state === 'LEFT')).toBe(true);
    });
  });

  it('determinism: the same seed twice gives identical member tables and message counts', async () => {
    const run = async () => {
      const c = new SimCluster({ seed: 'replay-7', nodes: 7, link: { latencyMs: 1, jitterMs: 5, loss: 0.05, duplicate: 0.02 } });
      try {
        await c.start();
        await c.runFor(5_000);
        c.crash(3);
        await c.settle(c.node(1).memory('a1').addEpisode({ task: 't', outcome: 'ok' }), 10_000).catch(() => undefined);
        await c.runFor(20_000);
        const tables = c.nodes.map((_, i) => (c.isDown(i) ? null : c.membersSeenBy(i)));
        return { tables, totals: c.totals(), digests: [...c.digests()], now: c.now(), events: c.world.eventsRun };
      } finally {
        await c.destroy();
      }
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    expect(a.totals.packetsSent).toBeGreaterThan(0);
  });
});
