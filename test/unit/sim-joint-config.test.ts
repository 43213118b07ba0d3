// No refusal while the voters change (issue 21 item 6), on SimCluster: a member that accepted a
// proposed voter configuration keeps accepting writes (joint quorum: a writable set of the
// current voters and of the proposed ones) instead of being read-only until it learns the
// outcome. Caught in the act: the test stops the world the moment a node holds a proposal and
// writes through it; the write is acknowledged, and after the change is on every member of its
// replica set and read through the writer.
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';
import { expectAckedOnReplicas } from './lib/replica-kept.js';

const { track } = simClusterPerTest();

describe('joint quorum while a voter-set change is agreed (simulator, 5 nodes)', () => {
  it('a member holding a proposal (downing a crashed voter) acknowledges writes through it', async () => {
    const c = track(new SimCluster({ seed: 'joint-config-down', nodes: 5, nodeOptions: { stableAfterMs: 2000 } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      c.crash(4);
      // Step 1 ms at a time until some live node accepted the downing and does not know the outcome yet.
      let pending: number | undefined;
      expect(await c.runUntil(() => (pending = [0, 1, 2, 3].find((i) => c.node(i).gate.pending() !== undefined)) !== undefined, 60_000, 1)).toBe(true);
      const node = c.node(pending!);
      expect(node.gate.pending()!.voters.map((v) => v.name)).not.toContain(c.node(4).name);
      expect(node.gate.verdict()).toMatchObject({ writable: true });
      const write = node.memory('probe').addEpisode({ task: 'during the change', outcome: 'ok' });
      const id = await c.settle(write, 10_000);
      expect(await c.runUntil(() => [0, 1, 2, 3].every((i) => c.node(i).gate.voterConfig().voters.length === 4), 30_000)).toBe(true);
      // RF 3 of 4 voters: on every member of its replica set, and read through the writer whether it is one or not.
      await expectAckedOnReplicas(c, [{ agent: 'probe', id }]);
      await c.settle(node.memoryService.beforeRead('probe'), 10_000);
      expect(node.memory('probe').get(id)?.outcome).toBe('ok');
    });
  });
});
