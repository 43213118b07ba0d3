// A wiped voter entry never votes again (voter-identity.ts), so a fuzz run that wipes voters until
// the survivors are no writable set has made the cluster read-only until an operator acts: by
// design, not a liveness bug. `tri fuzz --seed 1616 --nodes 5` run 49 did that (two downings and
// a leave left voters {n0, n2}, then n0, the tiebreaker, was wiped) and failed "convergence". The
// fuzzer now wipes only while the surviving voters stay a writable set (src/fuzz/wipe-guard.ts).
// A wipe loses a replica's data too: `tri fuzz --seed 1212 --nodes 5 --replication-factor 3` run 1
// wiped n0 and then n3, the only two of agent-1's replicas {n0, n3, n4} that held a write (n4 was
// cut off), and failed "lost-write", a fault beyond the claim (a minority of the replica set). The
// fuzzer now wipes at most a minority of any replica set in a run (wipeKeepsReplicaData).
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';
import { placementOf } from '../../src/placement/index.js';
import { wipeKeepsQuorum, wipeKeepsReplicaData } from '../../src/fuzz/wipe-guard.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';

describe('fuzz wipe guard', () => {
  it('replays seed 1616 run 49 (voters {n0, n2}, then n0 wiped) and converges', async () => {
    const report = await runFuzz({ seed: 1616, runs: 100, nodes: 5, replayPath: '48:4:8:1:2:21:17:8:0:3:1:2:5:22:32:40' });
    expect(report.failures.map((f) => `${f.invariant}: ${f.message.split('\n')[0]}`)).toEqual([]);
  }, 120_000);

  it('allows a wipe a writable set of voters survives, refuses one that leaves none', async () => {
    const c = new SimCluster({ seed: 'fzb-wipe-guard', nodes: 3 });
    try {
      await c.start();
      const formed = () => c.allSee((ms) => ms.length === 3 && ms.every((m) => m.state === 'ACTIVE')) && c.nodes.every((n) => n.gate.voterConfig().voters.length === 3);
      expect(await c.runUntil(formed, 60_000, 50)).toBe(true);
      // Three voters: any one wipe leaves two of three.
      expect([0, 1, 2].map((i) => wipeKeepsQuorum(c, i))).toEqual([true, true, true]);
      // n2 wiped: its entry is another incarnation's now, so a second wipe would leave one of three.
      c.crash(2);
      c.wipe(2);
      expect([0, 1].map((i) => wipeKeepsQuorum(c, i))).toEqual([false, false]);
      // Once the new n2 is admitted in place of its old entry, a wipe is survivable again.
      void c.restart(2);
      const readmitted = () => c.nodes.every((n) => n.gate.voterConfig().voters.find((v) => v.name === 'n2')?.nodeId === c.nodeId(2));
      expect(await c.runUntil(readmitted, 60_000, 50)).toBe(true);
      expect([0, 1, 2].map((i) => wipeKeepsQuorum(c, i))).toEqual([true, true, true]);
    } finally {
      await c.destroy();
    }
  }, 120_000);

  it('replays seed 1212 run 1 at 5 nodes (two of a replica set wiped) and keeps every write', async () => {
    const report = await runFuzz({ seed: 1212, runs: 1000, nodes: 5, replicationFactor: 3, replayPath: '0:0:2:2:5:4:3:25:29:29:45' });
    expect(report.failures.map((f) => `${f.invariant}: ${f.message.split('\n')[0]}`)).toEqual([]);
  }, 180_000);

  it('allows wiping a minority of a replica set, refuses a majority', async () => {
    const c = new SimCluster({ seed: 'fzb-wipe-replicas', nodes: 5 });
    try {
      await c.start();
      const formed = () => c.allSee((ms) => ms.length === 5 && ms.every((m) => m.state === 'ACTIVE')) && c.nodes.every((n) => n.gate.voterConfig().voters.length === 5);
      expect(await c.runUntil(formed, 60_000, 50)).toBe(true);
      // Five voters, RF 3: agent-0 lives on three of them.
      const set = placementOf(c.node(0).gate.voterConfig()).replicas('agent-0');
      expect(set).toHaveLength(3);
      const index = (name: string) => c.nodes.findIndex((n) => n.name === name);
      const [a, b] = [index(set[0]!), index(set[1]!)];
      const outside = [0, 1, 2, 3, 4].find((i) => !set.includes(c.node(i).name))!;
      expect(wipeKeepsReplicaData(c, a, new Set(), ['agent-0'])).toBe(true);
      // One member wiped already: a second member would be two of three; a non-member is fine.
      const wiped = new Set([c.node(b).name]);
      expect(wipeKeepsReplicaData(c, a, wiped, ['agent-0'])).toBe(false);
      expect(wipeKeepsReplicaData(c, outside, wiped, ['agent-0'])).toBe(true);
    } finally {
      await c.destroy();
    }
  }, 120_000);
});
