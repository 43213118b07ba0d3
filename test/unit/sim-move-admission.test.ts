// Writes during a join and a graceful leave on SimCluster (5 nodes, RF 3, jittery links): right
// after each voter-set change some voters still advertise the configuration before it, and a
// write that checked "a reachable majority of the voters / of the agent's replica set" then was
// refused with QuorumError although nothing was down: the move itself refused it (issue 21,
// `move-writes`). Now such a write waits for them (src/memory/adoption-wait.ts): no QuorumError,
// and every acknowledged write is on its final replica set.
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { expectAckedOnReplicas, steadyWriters } from './lib/replica-kept.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = Array.from({ length: 16 }, (_, i) => `adm${i}`);

describe('write admission across a voter-set change (simulator, 5 nodes + 1, RF 3)', () => {
  for (const seed of ['admission-1', 'admission-2', 'admission-3']) {
    it(`no QuorumError from a join and a leave under steady writes (seed ${seed})`, async () => {
      const c = track(new SimCluster({ seed, nodes: 5, replicationFactor: 3, nodeOptions: { stableAfterMs: 60_000 } }));
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      await withReplay(c, async () => {
        // Commit notices and metadata announcements reach members at different times.
        c.setDefaultLink({ latencyMs: 2, jitterMs: 60 });
        const writes = steadyWriters(c, [0, 1, 2, 3], (w, k) => AGENTS[(w * 7 + k) % AGENTS.length]!, (w, err) => `epoch ${c.node(w).gate.voterConfig().epoch} voters ${c.node(w).gate.voterConfig().voters.length}: ${err.message.slice(0, 120)} reach ${[...c.node(w).gate.reachableVoters()].join(',')} adopting ${[...c.node(w).gate.adoptingVoters()].join(',')}`);
        const { acked, refused } = writes;
        await c.runFor(2_000);
        const j = c.addNode(0);
        expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 6), 60_000)).toBe(true);
        await c.runFor(3_000);
        const left = c.leave(j);
        expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
        await c.settle(left, 30_000);
        await c.runFor(3_000);
        await writes.stop();
        expect(refused).toEqual([]);
        expect(acked.length).toBeGreaterThan(100);
        expect(writes.other()).toBeLessThan(acked.length / 20); // write timeouts are not the point here, but must stay rare
        c.setDefaultLink({ latencyMs: 1, jitterMs: 0 });
        await expectAckedOnReplicas(c, acked);
      });
    }, 300_000);
  }
});
