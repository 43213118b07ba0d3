// Quorum safety and convergence on whole simulated nodes (a Jepsen-style workload), through the
// same harness as `tri fuzz` (src/fuzz/): random partitions, heals, crashes, restarts, pauses and
// link faults over 60 virtual seconds, with memory writes, concurrent counter increments and tasks
// through random nodes. Invariants (src/fuzz/invariants.ts): never two disjoint writable groups,
// convergence after the last heal, no acknowledged write / increment / task lost, one result per task.
// Small budget for CI (SIM_QUORUM_RUNS, default 30); a failure prints the `tri fuzz` command that
// replays it. Long runs: `tri fuzz --runs 10000`.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';

const SEED = Number(process.env.SIM_QUORUM_SEED ?? 14);
const RUNS = Number(process.env.SIM_QUORUM_RUNS ?? 30);
const NODES = Number(process.env.SIM_QUORUM_NODES ?? 7);

describe('quorum over whole simulated nodes (property)', () => {
  it('no split brain, convergence after the last heal, nothing acknowledged lost, one result per task', async () => {
    const report = await runFuzz({ seed: SEED, runs: RUNS, nodes: NODES, maxShrinkRuns: 100 });
    const f = report.failures[0];
    const why = f ? `${f.invariant} in run ${f.run} (${f.when}): ${f.message}\nshrunk schedule:\n  ${f.schedule.join('\n  ')}\nreplay: ${f.replay}` : '';
    expect(report.failures, why).toEqual([]);
    expect(report.runsExecuted).toBe(RUNS);
    expect(report.totals.writesAcked).toBeGreaterThan(RUNS); // the workload did acknowledge writes
  }, 120_000);
});
