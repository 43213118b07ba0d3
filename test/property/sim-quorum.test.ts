// Quorum safety and convergence on whole simulated nodes (a Jepsen-style set workload): random
// partitions, crashes, restarts and heals over time, with random writes through random nodes.
// Invariants:
//   1. never two disjoint writable groups at the same instant: any two nodes that call themselves
//      writable (node.gate.verdict().writable) see reachable voter groups that intersect;
//   2. after the last heal (and restarting whoever is down) every node converges to one digest;
//   3. no acknowledged write is lost: every episode whose addEpisode resolved is in the final
//      read of every node.
// Small budget for CI (SIM_QUORUM_RUNS, default 20); SIM_QUORUM_SEED (and SIM_QUORUM_PATH, both
// printed by fast-check on failure) replay a failing run.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runScenario, stepArb } from './sim-quorum-scenario.js';

const SEED = Number(process.env.SIM_QUORUM_SEED ?? 20261125);
const RUNS = Number(process.env.SIM_QUORUM_RUNS ?? 20);
const REPLAY = `SIM_QUORUM_SEED=${SEED} SIM_QUORUM_PATH=<path printed above> npx vitest run test/property/sim-quorum.test.ts`;

describe('quorum over whole simulated nodes (property)', () => {
  it('no split brain, convergence after the last heal, no acknowledged write lost', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(stepArb, { minLength: 5, maxLength: 25 }), (simSeed, steps) => runScenario(simSeed, steps, REPLAY)),
      { seed: SEED, path: process.env.SIM_QUORUM_PATH, numRuns: RUNS, endOnFailure: true, verbose: true },
    );
  }, 120_000);
});
