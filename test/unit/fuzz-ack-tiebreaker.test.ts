// With RF >= N every voter holds every document, and a write is acknowledged by the voters' rule:
// a strict majority, or exactly half including the configuration's tiebreaker (rules.ts). The
// ack-majority checker demanded a strict majority of every set, so with six voters (RF 7 after a
// leave) it reported a write stored by three of six, the tiebreaker among them: `tri fuzz --seed
// 1212514 --runs 20 --nodes 7 --replication-factor 7 --replay 3` ("3 of 6", configuration 3). The
// checker's bug: it now counts exactly half with the tiebreaker where the set is every voter
// (durability-check.ts isQuorum). The replay fails without the change.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';

describe('ack-majority with an even voter set (RF >= N)', () => {
  it('counts exactly half with the tiebreaker as the voters do (seed 1212514, 7 nodes, RF 7, run 4)', async () => {
    const r = await runFuzz({ seed: 1212514, runs: 20, nodes: 7, replicationFactor: 7, replayPath: '3' });
    const f = r.failures[0];
    expect(f, f ? `${f.invariant} at ${f.when}: ${f.message}\nreplay: ${f.replay}` : '').toBeUndefined();
  }, 180_000);
});
