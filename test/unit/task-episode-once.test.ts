// A finished task leaves exactly one episode in its agent's memory, also when a run's outcome was
// stored on its node but never acknowledged (the node killed right after) and the task was run
// again elsewhere: the episode id derives from the task id (src/tasks/task-episode.ts), so the
// two runs write one map key and every replica keeps one episode after the merge.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { UsageError } from '../../src/errors.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { taskEpisodeId } from '../../src/tasks/task-episode.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

function seq(k: number): () => number {
  let x = k * 7919;
  return () => ((x = (x * 48271) % 2147483647) / 2147483647);
}

describe('one episode per task', () => {
  it('addEpisode with a derived id is idempotent, and two replicas writing it unaware of each other merge to one', () => {
    const id = taskEpisodeId('task-1');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(taskEpisodeId('task-1')).toBe(id);
    expect(taskEpisodeId('task-2')).not.toBe(id);
    const [a, b] = [1, 2].map((k) => new AgentMemoryDoc({ node: `n${k}`, random: seq(k) })) as [AgentMemoryDoc, AgentMemoryDoc];
    expect(a.addEpisode({ task: 'echo task-1', outcome: 'done', note: 'run on n1' }, { now: 1, id })).toBe(id);
    const sv = Y.encodeStateVector(a.doc);
    expect(a.addEpisode({ task: 'echo task-1', outcome: 'done', note: 'again' }, { now: 2, id })).toBe(id);
    expect(Y.encodeStateVector(a.doc)).toEqual(sv); // nothing written the second time
    b.addEpisode({ task: 'echo task-1', outcome: 'done', note: 'run on n2' }, { now: 3, id });
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc));
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc));
    expect(a.list().map((e) => e.id)).toEqual([id]);
    expect(b.list()).toEqual(a.list());
    expect(() => a.addEpisode({ task: 't', outcome: 'o' }, { now: 4, id: 'NOT-HEX' })).toThrow(UsageError);
  });

  it('a run stored but not acknowledged (its node killed), then run again elsewhere, leaves one episode', async () => {
    const c = track(new SimCluster({ seed: 'task-episode-once', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const t = await c.settle(c.node(4).submit({ id: 'once-1', type: 'sleep', input: { ms: 3000 }, strategy: 'local-first' }), 10_000);
      expect(await c.runUntil(() => c.node(0).tasks.table.get(t.id)?.status === 'running', 10_000)).toBe(true);
      expect(c.node(0).tasks.table.get(t.id)!.lease!.holder).toBe('n4');
      // Cut n4 off just before its run ends: it still calls itself writable, so it stores the
      // outcome and the episode, but no voter acknowledges them. Then it is killed.
      c.partition([0, 1, 2, 3], [4]);
      expect(await c.runUntil(() => c.node(4).tasks.table.get(t.id)?.status === 'done', 10_000)).toBe(true);
      expect(c.node(0).tasks.table.get(t.id)?.status).toBe('running');
      const agent = c.node(4).tasks.table.get(t.id)!.agent;
      const episodesOf = (i: number) => c.node(i).memory(agent).list().filter((e) => e.fields.taskId === t.id);
      expect(episodesOf(4)).toHaveLength(1);
      c.crash(4);
      // The majority re-places the task when its lease runs out; the rerun records its own outcome.
      expect(await c.runUntil(() => [0, 1, 2, 3].every((i) => c.node(i).tasks.table.get(t.id)?.status === 'done'), 120_000)).toBe(true);
      expect(episodesOf(0)).toHaveLength(1);
      c.heal();
      void c.restart(4);
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      for (let i = 0; i < 5; i++) expect(episodesOf(i), `n${i}`).toHaveLength(1);
    });
  }, 180_000);
});
