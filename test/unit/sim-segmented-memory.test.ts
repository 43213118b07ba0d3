// Segmented memory on whole simulated nodes (docs/segmented-memory.md), with the node option
// `memorySegments` on and a small split threshold: quorum writes split an agent and land in its
// segments, the segments live exactly on the root's replica set, and with a tiny memory budget
// (every idle document unloaded) pages, gets, edits, forgets, the retention policy, recall and
// drop stay correct on every node, replicas and non-replicas alike.
import { describe, expect, it } from 'vitest';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { SEGMENT_BITS } from '../../crdt/segments.js';
import type { Episode } from '../../crdt/index.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const SPLIT = { memorySegments: { split: true, splitAt: 20 }, memoryBudgetBytes: 1, memoryIdleMs: 0 };

const segmentsHeld = (c: SimCluster, i: number, agent: string): string[] => c.node(i).memoryService.docs.ids().filter((id) => id.startsWith(`agent/${agent}/`));

function pages(c: SimCluster, i: number, agent: string): Episode[] {
  return [...c.node(i).memory(agent).pages({ limit: 7 })].flat();
}

describe('segmented memory (simulator, 5 nodes, RF 3, tiny budget)', () => {
  it('splits past the threshold; writes, edits, forgets, policy, recall and drop stay correct through eviction', async () => {
    const c = track(new SimCluster({ seed: 'segmented-memory', nodes: 5, replicationFactor: 3, nodeOptions: SPLIT }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.node(0).gate.voterConfig().voters.length === 5, 60_000)).toBe(true);
      // The scheduling leader sweeps policies: an agent it is a replica of, written through it.
      const writer = c.live().find((i) => c.node(i).tasks.leads())!;
      const scope = c.node(0).memoryService.replicas.view.current();
      const big = Array.from({ length: 20 }, (_, k) => `big-${k}`).find((a) => scope.replicasOf(`agent/${a}`)!.includes(c.node(writer).name))!;
      const replicas = [...scope.replicasOf(`agent/${big}`)!];
      const outsider = c.nodes.findIndex((n) => !replicas.includes(n.name));
      const ids: string[] = [];
      for (let k = 0; k < 60; k++) ids.push(await c.settle(c.node(writer).memory(big).addEpisode({ task: `task ${k}`, outcome: k % 2 ? 'ok' : 'failed', note: `n${k}` }), 10_000));
      await c.settle(c.node(writer).memory('small').addEpisode({ task: 'one', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);

      // Split: the root's register is set, later episodes are in segments held only by the replica set.
      const root = c.node(writer).memoryService.peek(big)!;
      expect(root.segmentBits()).toBe(SEGMENT_BITS);
      for (const i of c.live()) expect(segmentsHeld(c, i, big).length > 0, `n${i}`).toBe(replicas.includes(c.node(i).name));
      for (const i of c.live()) expect(segmentsHeld(c, i, 'small')).toEqual([]); // below the threshold: one document
      expect(c.node(writer).memoryService.agentIds()).toContain(big);
      expect(c.node(writer).memoryService.agentIds().filter((a) => a.includes('/'))).toEqual([]); // a segment is never listed as an agent

      // Evicted while idle (tiny budget); every replica reads everything back, in order, page by page.
      await c.runFor(3000);
      expect(c.node(writer).retention.evicted).toBeGreaterThan(0);
      for (const name of replicas) {
        const i = c.nodes.findIndex((n) => n.name === name);
        const all = pages(c, i, big);
        expect(all.map((e) => e.id).sort()).toEqual([...ids].sort());
        expect(all.map((e) => e.task)).toEqual(ids.map((_, k) => `task ${59 - k}`));
        expect(c.node(i).memory(big).get(ids[55]!)?.notes).toBe('n55');
        expect(c.node(i).memory(big).page({ outcome: 'failed', limit: 100 }).items).toHaveLength(30);
      }
      // A non-replica pulls the root and every segment before it reads.
      const far = await c.settle(c.node(outsider).memory(big).refresh(), 10_000);
      expect(far.list().map((e) => e.id).sort()).toEqual([...ids].sort());

      // Edits of episodes in the root (before the split) and in segments, from another replica, after eviction.
      const other = c.nodes.findIndex((n) => n.name === replicas.find((r) => r !== c.node(writer).name));
      await c.runFor(3000);
      await c.settle(c.node(other).memory(big).appendNote(ids[3]!, ' +root'), 10_000);
      await c.settle(c.node(other).memory(big).appendNote(ids[50]!, ' +segment'), 10_000);
      await c.settle(c.node(other).memory(big).tag(ids[51]!, 'seen'), 10_000);
      await c.settle(c.node(other).memory(big).increment(ids[52]!, 'uses', 2), 10_000);
      expect(await c.settle(c.node(other).memory(big).forget(ids[53]!), 10_000)).toBe(true);
      expect(await c.settle(c.node(other).memory(big).forget(ids[2]!), 10_000)).toBe(true);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      await c.runFor(3000);
      for (const name of replicas) {
        const m = c.node(c.nodes.findIndex((n) => n.name === name)).memory(big);
        expect(m.get(ids[3]!)?.notes).toBe('n3 +root');
        expect(m.get(ids[50]!)?.notes).toBe('n50 +segment');
        expect(m.get(ids[51]!)?.tags).toEqual(['seen']);
        expect(m.get(ids[52]!)?.counters).toEqual({ uses: 2 });
        expect(m.get(ids[53]!)).toBeUndefined();
        expect(m.list()).toHaveLength(58);
        expect(m.recall({ text: 'task', limit: 100 }).map((h) => h.episode.id).sort()).toEqual(ids.filter((_, k) => k !== 2 && k !== 53).sort());
        expect(m.recall({ tags: ['seen'] }).map((h) => [h.agent, h.episode.id])).toEqual([[big, ids[51]]]);
      }
      // The agent digest covers its segments (rule 8): equal on every replica.
      const digests = new Set(replicas.map((name) => Buffer.from(c.node(c.nodes.findIndex((n) => n.name === name)).memoryService.peek(big)!.digest()).toString('hex')));
      expect(digests.size).toBe(1);

      // The retention policy counts every document's episodes.
      await c.settle(c.node(writer).memory(big).setPolicy({ maxEpisodes: 10 }), 10_000);
      await c.settle(c.node(writer).retention.memory.sweep(), 10_000);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      const kept = Array.from({ length: 11 }, (_, k) => `task ${49 + k}`).filter((t) => t !== 'task 53');
      expect(c.node(other).memory(big).list().map((e) => e.task)).toEqual(kept);

      // Drop forgets the episodes of the root and of every segment.
      expect(await c.settle(c.node(other).memory(big).drop(), 10_000)).toBe(10);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      for (const name of replicas) expect(c.node(c.nodes.findIndex((n) => n.name === name)).memory(big).list()).toEqual([]);
    });
  }, 240_000);

  it('a joining voter takes the split agents it is now a replica of, root and segments together; the others drop them', async () => {
    const c = track(new SimCluster({ seed: 'segmented-move', nodes: 5, replicationFactor: 3, nodeOptions: { memorySegments: { split: true, splitAt: 4 } } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.node(0).gate.voterConfig().voters.length === 5, 60_000)).toBe(true);
      const agents = Array.from({ length: 8 }, (_, k) => `mv${k}`);
      const acked = new Map<string, string[]>(agents.map((a) => [a, []]));
      for (let k = 0; k < 56; k++) {
        const agent = agents[k % agents.length]!;
        acked.get(agent)!.push(await c.settle(c.node(k % 5).memory(agent).addEpisode({ task: `m${k}`, outcome: 'ok' }), 10_000));
      }
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      const joiner = c.addNode(0);
      expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 6), 60_000)).toBe(true);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 120_000)).toBe(true); // every root and segment on exactly its set
      const scope = c.node(0).memoryService.replicas.view.current();
      const mine = agents.filter((a) => scope.replicasOf(`agent/${a}`)!.includes(c.node(joiner).name));
      expect(mine.length).toBeGreaterThan(0);
      for (const agent of agents) {
        for (const name of scope.replicasOf(`agent/${agent}`)!) {
          const i = c.nodes.findIndex((n) => n.name === name);
          expect(c.node(i).memoryService.peek(agent)?.segmentBits(), `${agent} on ${name}`).toBe(SEGMENT_BITS);
          expect(c.node(i).memory(agent).list().map((e) => e.id).sort(), `${agent} on ${name}`).toEqual([...acked.get(agent)!].sort());
        }
      }
      expect(segmentsHeld(c, joiner, mine[0]!).length).toBeGreaterThan(0);
    });
  }, 240_000);
});
