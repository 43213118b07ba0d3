// `tri cluster-bench [--out DIR] [--quick] [--only a,b]` (alias nodes-bench): runs the benchmark
// scenarios (docs/performance.md) on this machine, each writing <out>/<scenario>.json (and its
// charts), then prints one table. The benchmarks are their own entry point (bench/run.ts, built
// to dist/bench/run.js): the shipped CLI never imports benchmark code, it runs that program with
// the same flags and passes its exit status on. `--micro [--compare OLD.json]` runs the hot-path
// micro-benchmarks (bench/micro) instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';

/** The built benchmark entry point, beside this file's package: dist/bench/run.js. */
export function benchEntryPoint(): string {
  return fileURLToPath(new URL('../../../bench/run.js', import.meta.url));
}

/** Runs the benchmark program with `args`, stdio shared; resolves its exit code. */
function runBenchProgram(args: string[]): Promise<number> {
  const entry = benchEntryPoint();
  if (!existsSync(entry)) throw new TriError(`the benchmarks are not built (${entry} is missing): run "npm run build" in a clone of the repository`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' });
    // A signal to us reaches the child through the terminal's process group; it cleans up its nodes.
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

export function registerClusterBench(program: Command): void {
  program
    .command('cluster-bench')
    .alias('nodes-bench')
    .description('run the benchmark scenarios of docs/performance.md (membership, sync bandwidth, quorum writes, failover, ...) and print a table')
    .option('--out <dir>', 'where each <scenario>.json and chart goes', 'bench/out')
    .option('--quick', 'fewer rounds and smaller clusters (under 10 minutes on 2 cores)')
    .option('--only <names>', 'comma-separated scenario names (with --micro: suites, or parts of "suite/case")')
    .option('--micro', 'run the hot-path micro-benchmarks (benny) instead: <out>/micro.json and micro.svg')
    .option('--compare <file>', 'with --micro: print the ratio of ops/s per case against an earlier micro.json')
    .action(async (f: { out: string; quick?: boolean; only?: string; micro?: boolean; compare?: string }) => {
      // `--only ""` (an empty variable in a script) must not run every scenario for an hour.
      if (f.only !== undefined && !f.only.split(',').some((s) => s.trim())) throw new UsageError('--only needs at least one scenario name (or, with --micro, a suite)');
      if (f.compare !== undefined && !f.micro) throw new UsageError('--compare compares micro-benchmark runs: add --micro');
      const args = ['--out', f.out, ...(f.quick ? ['--quick'] : []), ...(f.only !== undefined ? ['--only', f.only] : []), ...(f.micro ? ['--micro'] : []), ...(f.compare !== undefined ? ['--compare', f.compare] : [])];
      const code = await runBenchProgram(args);
      if (code === 2) throw new UsageError('the benchmark program rejected its arguments (see above)');
      if (code !== 0) throw new TriError(`benchmarks failed (exit ${code}; see above)`);
    });
}
