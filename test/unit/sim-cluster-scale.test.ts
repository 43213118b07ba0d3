// DESIGN.md "1,000 nodes must be practical": whole ClusterNodes (gossip + memory + quorum) join
// through node 0 at once on the simulated network (lossless 1-2 ms links, 'lan' profile unless
// SIM_CLUSTER_PROFILE says otherwise), and the test waits until every node sees every member
// alive. It prints wall time, virtual time and simulator events per second.
//
// The 1,000-node run takes minutes of wall time (the join storm gossips about N^2 facts, each
// retransmitted 4 * log10(N+1) times), so it runs on demand: SIM_CLUSTER_SCALE=1 (size
// SIM_CLUSTER_NODES, default 1,000). CI runs the same scenario at 200 nodes.
import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';

const BIG = process.env.SIM_CLUSTER_SCALE === '1';
const N = BIG ? Number(process.env.SIM_CLUSTER_NODES ?? 1000) : 200;
let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe('SimCluster at scale', () => {
  it(`${N} nodes converge after joining (every node sees ${N} alive members)`, async () => {
    const wall0 = performance.now();
    const c = (cluster = new SimCluster({ seed: 'scale', nodes: N, profile: (process.env.SIM_CLUSTER_PROFILE ?? 'lan') as 'lan' | 'local' }));
    try {
      await c.start(600_000);
      const startedWall = performance.now() - wall0;
      const startedAt = c.now();
      const ok = await c.runUntil(() => c.allSeeAlive(N), 600_000, 100);
      const wall = performance.now() - wall0;
      const t = c.totals();
      console.log(
        `${N} nodes: all ACTIVE at virtual ${startedAt.toFixed(0)} ms (wall ${(startedWall / 1000).toFixed(1)} s); ` +
          `all see ${N} alive at virtual ${c.now().toFixed(0)} ms, wall ${(wall / 1000).toFixed(1)} s; ` +
          `${c.world.eventsRun} events (${Math.round(c.world.eventsRun / (wall / 1000))}/s), ` +
          `${t.packetsSent} packets, ${t.framesSent} frames, ${t.connectionsOpened} connections`,
      );
      expect(ok).toBe(true);
    } catch (err) {
      if (err instanceof Error) err.message += `\n  replay: ${c.replayHint()}`;
      throw err;
    }
  }, BIG ? 1_800_000 : 120_000);
});
