// Bounded residency on whole simulated nodes with a budget far smaller than the data (every idle
// agent document is unloaded within a second): reads, writes, sync, partitions and anti-entropy
// of unloaded documents stay correct; an idle in-sync anti-entropy round loads nothing; a restart
// adopts the stored state of unloaded documents instead of loading them.
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const TINY = { memoryBudgetBytes: 1, memoryIdleMs: 0 };

function resident(c: SimCluster, i: number): number {
  return c.node(i).memoryService.docs.residentCount();
}

describe('bounded residency (simulator, tiny budget)', () => {
  it('writes, reads, partition and heal of unloaded documents converge; idle anti-entropy loads nothing', async () => {
    const c = track(new SimCluster({ seed: 'residency-tiny', nodes: 5, nodeOptions: TINY, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const acked = new Map<string, string[]>();
      const add = async (i: number, agent: string, task: string): Promise<void> => {
        const id = await c.settle(c.node(i).memory(agent).addEpisode({ task, outcome: 'ok', note: `note of ${task}` }), 10_000);
        acked.set(agent, [...(acked.get(agent) ?? []), id]);
      };
      for (let k = 0; k < 40; k++) await add(k % 5, `agent-${k % 20}`, `t${k}`);
      expect(await c.runUntil(() => c.digestsEqual(), 30_000)).toBe(true);
      await c.runFor(2000);
      for (let i = 0; i < 5; i++) expect(resident(c, i), `n${i} resident`).toBeLessThanOrEqual(2); // the task table (and at most one in use)
      expect(c.node(0).retention.evicted).toBeGreaterThan(0);

      // Reads load what they need and see everything acknowledged.
      for (const [agent, ids] of acked) for (const id of ids) expect(c.node(3).memory(agent).get(id)?.notes).toMatch(/^note of t/);

      // A partition: the majority writes to unloaded documents (appends to existing episodes too); the minority reads.
      c.partition([0, 1, 2], [3, 4]);
      expect(await c.runUntil(() => !c.node(4).gate.verdict().writable, 30_000)).toBe(true);
      await c.runFor(2000);
      for (let k = 40; k < 60; k++) await add(k % 3, `agent-${k % 20}`, `t${k}`);
      const first = acked.get('agent-7')![0]!;
      await c.settle(c.node(2).memory('agent-7').appendNote(first, ' +more'), 10_000);
      await c.runFor(3000); // unloaded again before the heal
      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      for (let i = 0; i < 5; i++) {
        for (const [agent, ids] of acked) expect(c.node(i).memory(agent).list().map((e) => e.id).sort(), `n${i} ${agent}`).toEqual([...ids].sort());
        expect(c.node(i).memory('agent-7').get(first)?.notes).toBe('note of t7 +more');
      }

      // Idle and in sync: anti-entropy rounds (every 10 s) compare stored digests and load nothing.
      await c.runFor(3000);
      const before = [0, 1, 2, 3, 4].map((i) => resident(c, i));
      const rounds = c.node(0).memoryService.engine.stats().sent['ae-root']?.messages ?? 0;
      await c.runFor(40_000);
      expect(c.node(0).memoryService.engine.stats().sent['ae-root']?.messages ?? 0).toBeGreaterThan(rounds);
      expect([0, 1, 2, 3, 4].map((i) => resident(c, i))).toEqual(before);
      expect(c.digestsEqual()).toBe(true);
    });
  }, 180_000);

  it('a restarted node adopts the stored state of unloaded documents and still converges', async () => {
    const c = track(new SimCluster({ seed: 'residency-restart', nodes: 3, nodeOptions: TINY }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(3), 30_000)).toBe(true);
      for (let k = 0; k < 30; k++) await c.settle(c.node(k % 3).memory(`a${k % 10}`).addEpisode({ task: `t${k}`, outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual(), 30_000)).toBe(true);
      await c.runFor(3000);
      const digest = c.node(2).memoryService.digest();
      await c.stop(2);
      const started = c.restart(2);
      // Nothing of the agents is loaded at start; the digest is the same from the stored records.
      expect(resident(c, 2)).toBeLessThanOrEqual(1);
      expect(c.node(2).memoryService.digest()).toEqual(digest);
      await c.settle(started, 30_000);
      await c.settle(c.node(0).memory('a3').addEpisode({ task: 'after restart', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual(), 30_000)).toBe(true);
      expect(c.node(2).memory('a3').list().map((e) => e.task)).toContain('after restart');
    });
  }, 120_000);
});
