// Announced move completion on SimCluster (7 nodes, RF 3, an 8th joins): once every voter of the new
// configuration is done moving, every node drops its previous-configuration records, so a node that
// never wrote a moved agent needs the new set only; while one voter is down (not yet downed) the
// records stay everywhere, and they drop once it is back.
import { describe, expect, it } from 'vitest';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = Array.from({ length: 24 }, (_, i) => `mc${i}`);

async function formed(seed: string, stableAfterMs: number): Promise<SimCluster> {
  const c = track(new SimCluster({ seed, nodes: 7, replicationFactor: 3, nodeOptions: { stableAfterMs } }));
  await c.start();
  expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
  for (const [k, agent] of AGENTS.entries()) await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `w${k}`, outcome: 'ok' }), 10_000);
  expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
  return c;
}

const records = (c: SimCluster, i: number): number[] => c.node(i).memoryService.replicas.view.moves.epochs();

describe('announced move completion (simulator)', () => {
  it('a join: every node drops the previous records once every voter is done; writes to moved agents need the new set only', async () => {
    const c = await formed('move-done-join', 4000);
    await withReplay(c, async () => {
      const before = c.node(0).memoryService.replicas.view.current();
      c.addNode(0);
      expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 8), 60_000)).toBe(true);
      const after = c.node(0).memoryService.replicas.view.current();
      expect(c.live().some((i) => records(c, i).includes(before.epoch))).toBe(true); // the join was recorded
      expect(await c.runUntil(() => c.live().every((i) => !records(c, i).includes(before.epoch)), 30_000)).toBe(true);
      const moved = AGENTS.filter((a) => before.replicasOf(`agent/${a}`)!.join() !== after.replicasOf(`agent/${a}`)!.join());
      expect(moved.length).toBeGreaterThan(0);
      for (const i of c.live()) {
        for (const a of moved) expect(c.node(i).memoryService.replicas.view.previousSets(`agent/${a}`), `${a} on n${i}`).toEqual([]);
      }
      expect(c.live().reduce((n, i) => n + c.node(i).memoryService.replicas.status().movesReleased, 0)).toBeGreaterThan(0);
    });
  });

  it('a voter down (not downed) keeps the records on every node; they drop once it is back', async () => {
    const c = await formed('move-done-down', 120_000);
    await withReplay(c, async () => {
      const before = c.node(0).memoryService.replicas.view.current();
      // n3 crashes before the join: it stays a voter (stable-after is long) and cannot answer on the new configuration.
      c.crash(3);
      expect(await c.runUntil(() => !c.node(0).gate.reachableVoters().has(c.node(3).name), 30_000)).toBe(true);
      const joiner = c.addNode(0);
      expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 8), 60_000)).toBe(true);
      const old = c.live().filter((i) => i !== joiner);
      expect(old.every((i) => records(c, i).includes(before.epoch))).toBe(true);
      await c.runFor(20_000); // ten handoff rounds
      expect(old.every((i) => records(c, i).includes(before.epoch))).toBe(true);
      expect(c.live().every((i) => c.node(i).memoryService.replicas.status().movesReleased === 0)).toBe(true);
      await c.settle(c.restart(3), 10_000);
      expect(await c.runUntil(() => c.live().every((i) => !records(c, i).includes(before.epoch)), 60_000)).toBe(true);
    });
  });
});
