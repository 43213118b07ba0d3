// A node that left gracefully and restarts while cut off from the cluster must find it again once
// the partition heals (src/node/join-loop.ts seedWhileCutOff). Found by fuzz campaigns (seed 99 at
// 5 nodes, seed 4242 at 7): the restarted leaver's join "succeeded" because a newcomer joining
// through it reached it, so it never asked its seeds; the cluster lists it LEFT and never gossips
// to it, and it knows none of its voters, so the two stayed apart, DEGRADED, after every heal.
// Seed 99's replay fails without the change; seed 4242's failed the same way on an earlier build
// (the node's timing moved since) and stays as a second case.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';

const CASES = [
  { seed: 99, nodes: 5, path: '156:0:3:0:4:4:6:4:4:4:11:11:11:28:28:28' },
  { seed: 4242, nodes: 7, path: '71:0:7:6:11:6:4:5:6:10:4:13:12:24:30:19:15' },
];

describe('a restarted leaver cut off from its voters', () => {
  for (const c of CASES) {
    it(`rejoins after the heal (seed ${c.seed}, ${c.nodes} nodes)`, async () => {
      const r = await runFuzz({ seed: c.seed, runs: 200, nodes: c.nodes, replayPath: c.path });
      const f = r.failures[0];
      expect(f, f ? `${f.invariant} at ${f.when}: ${f.message}\nreplay: ${f.replay}` : '').toBeUndefined();
    }, 120_000);
  }
});
