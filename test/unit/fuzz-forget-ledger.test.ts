// The fuzzer's accounting of forgets (src/fuzz/invariants.ts settleForget). `forget(id)` resolves
// false when the replica asked holds no such episode: nothing was deleted, nothing was written.
// The fuzzer used to book that as an acknowledged forget, so the `resurrected` invariant failed on
// seed 8008, 7 nodes, run 251 (a forget via n0, on the minority side of a partition, of an episode
// only the majority side held). These tests fail with that accounting.
import { describe, expect, it } from 'vitest';
import { runScenario, sampleRun, scenarioConfig, type Ledger } from '../../src/fuzz/index.js';
import { settleForget } from '../../src/fuzz/invariants.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

function emptyLedger(): Ledger {
  return { writes: [], counters: new Map(), tasks: [], forgotten: new Set(), forgetAttempted: new Set(), trimmed: new Set(), trimmedUnfinished: [] };
}

describe('fuzz ledger: forgets', () => {
  it('books only a forget that deleted something; one that found nothing is an ordinary write again', () => {
    const l = emptyLedger();
    l.forgetAttempted.add('a/1').add('a/2');
    settleForget(l, 'a/1', true);
    settleForget(l, 'a/2', false);
    expect([...l.forgotten]).toEqual(['a/1']);
    // a/1 stays out of the lost-write check (it is gone); a/2 must be on every node again.
    expect([...l.forgetAttempted]).toEqual(['a/1']);
  });

  it('seed 8008, 7 nodes, run 251 (a forget via a replica that never had the episode) passes every invariant', async () => {
    const run = sampleRun(8008, 250, 7);
    const r = await runScenario(run, scenarioConfig({ nodes: 7 }));
    expect(r.violation?.message).toBeUndefined();
    expect(r.stats.writesAcked).toBeGreaterThan(0);
  }, 120_000);

  it('a forget on a replica that lacks the episode resolves false, writes nothing, and the episode stays everywhere', async () => {
    const c = track(new SimCluster({ seed: 'forget-absent', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      await c.settle(c.node(0).memory('m').addEpisode({ task: 'seen by all', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual(), 10_000)).toBe(true);
      // n4 is cut off while the majority writes a second episode, then is still writable in its
      // own view for a moment: it is asked to forget what it never received.
      c.partition([0, 1, 2, 3], [4]);
      const id = await c.settle(c.node(0).memory('m').addEpisode({ task: 'majority only', outcome: 'ok' }), 10_000);
      expect(c.node(4).memory('m').get(id)).toBeUndefined();
      const before = c.node(4).memoryService.digest().digest;
      expect(c.node(4).gate.verdict().writable).toBe(true);
      expect(await c.settle(c.node(4).memory('m').forget(id), 10_000)).toBe(false);
      expect(c.node(4).memoryService.digest().digest).toBe(before);
      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      for (let i = 0; i < 5; i++) expect(c.node(i).memory('m').get(id), `n${i}`).toBeDefined();
      // Asked where the episode is, the forget deletes it everywhere.
      expect(await c.settle(c.node(4).memory('m').forget(id), 10_000)).toBe(true);
      expect(await c.runUntil(() => c.digestsEqual() && [0, 1, 2, 3, 4].every((i) => c.node(i).memory('m').get(id) === undefined), 30_000)).toBe(true);
    });
  }, 180_000);
});
