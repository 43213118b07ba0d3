// fuzz-speed: how many seeded `tri fuzz` runs of 7 nodes x 60 virtual seconds (the whole stack:
// gossip, memory, quorum, tasks, with faults) the fuzzer does per minute of wall time, with one
// worker thread per CPU as the CLI does. Issue 8's goal: at least 1,000 per minute. Also records
// that none of them broke an invariant (a broken one ends the search early, so it is checked).
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runFuzz } from '../src/fuzz/index.js';
import { metric, writeResult, type BenchResult } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';

export const FUZZ_RUNS_PER_MIN_GOAL = 1000;

export async function runFuzzSpeed(opts: ScenarioOptions): Promise<BenchResult> {
  const runs = opts.quick ? 300 : 1000;
  const workers = availableParallelism();
  const t0 = performance.now();
  const report = await runFuzz({ seed: 20261125, runs, nodes: 7, workers, wallClock: () => performance.now() });
  const wallS = (performance.now() - t0) / 1000;
  if (report.failures.length > 0) throw new Error(`fuzz-speed: run ${report.failures[0]!.run} broke ${report.failures[0]!.invariant}; replay: ${report.failures[0]!.replay}`);
  const perMin = (report.runsExecuted / wallS) * 60;
  opts.log?.(`fuzz-speed: ${report.runsExecuted} runs of 7 nodes x 60 virtual s in ${wallS.toFixed(1)} s: ${perMin.toFixed(0)} runs/min on ${workers} worker(s), load ${loadavg()[0]!.toFixed(2)}`);
  return writeResult(
    opts.out,
    'fuzz-speed',
    {
      runs_per_min: metric(Math.round(perMin), 'runs/min'),
      runs: metric(report.runsExecuted, 'runs'),
      wall_s: metric(Math.round(wallS * 10) / 10, 's'),
      workers: metric(workers, 'threads'),
      invariants_broken: metric(report.failures.length, 'runs'),
      load_avg_1m: metric(Math.round(loadavg()[0]! * 100) / 100, 'load'),
    },
    { goal: { runs_per_min: FUZZ_RUNS_PER_MIN_GOAL }, seed: 20261125, nodes: 7, virtualSecondsPerRun: 60 },
  ).result;
}
