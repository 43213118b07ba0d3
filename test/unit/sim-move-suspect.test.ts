// Writes while a node leaves gracefully and a member of the previous replica sets is starved
// (SimCluster, 5 nodes + 1, RF 3). The agents the leaver held move from (leaver, x, y) to a set
// without it; until each move completes, a write needs a majority of the previous set too. The
// gate counted only the current voters SWIM shows alive there, so the draining leaver (off the
// voters) never counted and a member SWIM merely suspected (a starved process, `move-writes` at
// load 30-60) left one of three: QuorumError from the move itself (issue 21). Now a previous set
// counts the leaver while it drains, and a write that would pass counting the suspected member
// waits for it (bounded, nothing applied meanwhile; adoption-wait.ts) instead of failing: no
// QuorumError, every acknowledged write on its final replica set. Seed suspect-2 also passes
// (slow: several minutes of wall time on a loaded machine).
import { describe, expect, it } from 'vitest';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { placementOf } from '../../src/placement/index.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { expectAckedOnReplicas, steadyWriters } from './lib/replica-kept.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = Array.from({ length: 24 }, (_, i) => `sus${i}`);
/** The starved node: paused for less than SWIM's suspicion timeout (suspect, never confirmed dead). */
const STARVED = 4;

describe('writes during a leave with a previous-set member suspected (simulator, 5 nodes + 1, RF 3)', () => {
  for (const seed of ['suspect-1']) {
    it(`no QuorumError from the move (seed ${seed})`, async () => {
      const c = track(new SimCluster({ seed, nodes: 5, replicationFactor: 3, nodeOptions: { stableAfterMs: 60_000 } }));
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      await withReplay(c, async () => {
        const j = c.addNode(0);
        expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 6), 60_000)).toBe(true);
        expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
        const six = c.node(0).gate.voterConfig();
        const leaver = c.node(j).name;
        const starved = c.node(STARVED).name;
        // The agents whose set on six voters holds both the leaver and the starved node: their previous set keeps one other.
        const exposed = AGENTS.filter((a) => {
          const set = placementOf(six).replicas(a);
          return set.includes(leaver) && set.includes(starved);
        });
        expect(exposed.length, 'agents whose previous set holds the leaver and the starved node').toBeGreaterThan(0);

        const writes = steadyWriters(c, [0, 1, 2, 3], (w, k) => exposed[(w + k) % exposed.length]!, (_w, err) => err.message.slice(0, 200));
        const { acked, refused } = writes;
        await c.runFor(500);
        // The starved member stops answering just before the leave; SWIM suspects it meanwhile.
        c.pause(STARVED);
        const left = c.leave(j);
        expect(await c.runUntil(() => [0, 1, 2, 3].every((i) => c.node(i).gate.voterConfig().voters.length === 5), 30_000)).toBe(true);
        expect(await c.runUntil(() => c.membersSeenBy(0).some((m) => m.name === starved && m.swimState === 'suspect'), 10_000)).toBe(true);
        await c.runFor(1_000);
        c.resume(STARVED);
        await c.settle(left, 30_000);
        await c.runFor(3_000);
        await writes.stop();
        expect(refused).toEqual([]);
        expect(acked.length).toBeGreaterThan(50);
        expect(writes.other()).toBeLessThan(acked.length / 10); // an ack timeout while the starved node is paused is possible, not the point
        await expectAckedOnReplicas(c, acked);
      });
    }, 300_000);
  }
});
