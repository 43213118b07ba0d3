// The split-brain checker models what a node can really get acknowledged. A node holding a
// proposal (Paxos accepted, outcome unknown) completes a write only with a writable set of the
// committed AND the proposed voters (joint-config.ts); the checker counted the committed set only.
// `tri fuzz --seed 1616 --runs 300 --nodes 5` run 169: n3, pending on configuration 5 = {n0,n1,n3,n4}
// while committed on 4 = {n1,n3,n4}, counted {n3,n4} (2 of 3) as writable beside n0 on 5 with
// {n0,n1} (half with the tiebreaker); {n3,n4} is no writable set of 5, so n3 could complete no
// write: a false split-brain. The checker now applies the joint rule (invariants.ts jointWritable).
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';

describe('fuzz split-brain checker: joint quorums', () => {
  it('replays seed 1616 run 169 (a pending node counted by its committed voters only) with no violation', async () => {
    const report = await runFuzz({ seed: 1616, runs: 300, nodes: 5, replayPath: '168:45:43:46' });
    expect(report.failures.map((f) => `${f.invariant}: ${f.message.split('\n')[0]}`)).toEqual([]);
  }, 120_000);
});
