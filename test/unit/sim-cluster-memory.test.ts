// Replicated memory and quorum on SimCluster (the scenarios): writes through several nodes
// converge to one digest; in a 3+2 partition the 2-side's writes fail at once with QuorumError and
// the 3-side's resolve; after the heal all five hold equal digests and every acknowledged episode.
import { describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

/** Episode ids of `agent` on node i. */
function ids(c: SimCluster, i: number, agent: string): Set<string> {
  return new Set(c.node(i).memory(agent).list().map((e) => e.id));
}

describe('SimCluster memory', () => {
  it('5 nodes: writes through several nodes, then all digests are equal', async () => {
    const c = track(new SimCluster({ seed: 'mem-5', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const acked: Array<{ agent: string; id: string }> = [];
      for (let k = 0; k < 12; k++) {
        const agent = `agent-${k % 3}`;
        const id = await c.settle(c.node(k % 5).memory(agent).addEpisode({ task: `task ${k}`, outcome: 'ok', tags: [`t${k % 2}`] }), 10_000);
        acked.push({ agent, id });
      }
      expect(await c.runUntil(() => c.digestsEqual(), 30_000)).toBe(true);
      for (let i = 0; i < 5; i++) expect(c.node(i).memoryService.agentIds()).toEqual(['agent-0', 'agent-1', 'agent-2']);
      for (let i = 0; i < 5; i++) for (const a of acked) expect(ids(c, i, a.agent).has(a.id)).toBe(true);
      expect(c.node(3).memory('agent-1').list()).toHaveLength(4);
    });
  });

  it('restart(i) keeps durable data, bumps the incarnation and rejoins', async () => {
    const c = track(new SimCluster({ seed: 'restart-4', nodes: 4, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(4), 30_000)).toBe(true);
      const id = await c.settle(c.node(2).memory('a').addEpisode({ task: 'kept', outcome: 'ok' }), 10_000);
      const incarnation = c.node(2).swim.incarnation();
      c.crash(2);
      expect(await c.runUntil(() => c.allSee((ms) => ms.find((m) => m.name === 'n2')?.state === 'FAILED'), 60_000)).toBe(true);
      const old = c.node(2);
      const started = c.restart(2);
      expect(c.node(2)).not.toBe(old);
      // Durable data is there before any sync: the store survived the crash.
      expect(c.node(2).memory('a').get(id)?.task).toBe('kept');
      // The store's start counter is bumped; SWIM's incarnation (which meta updates also raise)
      // may start below the old life's, and a refutation lifts it above once the node rejoins.
      expect(c.node(2).options.incarnation).toBeGreaterThan(old.options.incarnation ?? 0);
      await c.settle(started, 30_000);
      expect(c.node(2).swim.incarnation()).toBeGreaterThan(incarnation);
      expect(await c.runUntil(() => c.allSee((ms) => ms.length === 4 && ms.every((m) => m.state === 'ACTIVE' && m.swimState === 'alive')), 60_000)).toBe(true);
      await c.settle(c.node(2).memory('a').addEpisode({ task: 'after restart', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual(), 30_000)).toBe(true);
    });
  });

  it('3+2 partition: the 2-side fails fast with QuorumError, the 3-side writes; after heal all converge', async () => {
    const c = track(new SimCluster({ seed: 'split-3-2', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const acked: string[] = [];
      const add = async (i: number, task: string): Promise<string> => {
        const id = await c.settle(c.node(i).memory('shared').addEpisode({ task, outcome: 'ok' }), 10_000);
        acked.push(id);
        return id;
      };
      await add(0, 'before the split');

      c.partition([0, 1, 2], [3, 4]);
      // Detection: the 2-side loses its majority, the 3-side keeps it.
      const detected = await c.runUntil(
        () => [3, 4].every((i) => !c.node(i).gate.verdict().writable) && [0, 1, 2].every((i) => c.node(i).gate.verdict().writable),
        60_000,
      );
      expect(detected).toBe(true);
      expect([3, 4].map((i) => c.node(i).state)).toEqual(['DEGRADED', 'DEGRADED']);

      // The 2-side: rejected at once (no virtual time passes), nothing applied.
      const before = c.now();
      const digestBefore = c.digests().get(3);
      await expect(c.settle(c.node(3).memory('shared').addEpisode({ task: 'minority', outcome: 'no' }), 1)).rejects.toBeInstanceOf(QuorumError);
      expect(c.now()).toBe(before);
      expect(c.digests().get(3)).toBe(digestBefore);

      // The 3-side: writes resolve (a majority of the 5 voters acknowledges).
      for (const i of [0, 1, 2]) await add(i, `majority via n${i}`);

      c.heal();
      // Equal digests can come before the downed 2-side is admitted again (catch-up runs while
      // the admission is chosen), so wait for its writability too.
      const converged = await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual() && [3, 4].every((i) => c.node(i).gate.verdict().writable), 120_000);
      expect(converged).toBe(true);
      for (let i = 0; i < 5; i++) {
        const have = ids(c, i, 'shared');
        for (const id of acked) expect(have.has(id), `n${i} lacks acknowledged episode ${id}`).toBe(true);
      }
      expect(c.node(4).memory('shared').list()).toHaveLength(4);
      // The 2-side is writable again.
      await add(4, 'after the heal');
    });
  });
});
