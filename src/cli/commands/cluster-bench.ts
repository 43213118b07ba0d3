// `tri cluster-bench [--out DIR] [--quick] [--only a,b]` (alias nodes-bench): runs the benchmark
// scenarios of DESIGN.md "Benchmarks" on this machine, each writing <out>/<scenario>.json (and its
// charts), then prints one table. Where Debian's serf, etcd, nats-server and redis-server can be
// unpacked (bench/lib/debian-binary.ts) they run beside ours, and each row carries ours / peer.
// `--micro [--compare OLD.json]` runs the hot-path micro-benchmarks (bench/micro) instead.
import type { Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';

export function registerClusterBench(program: Command): void {
  program
    .command('cluster-bench')
    .alias('nodes-bench')
    .description('run the benchmark scenarios of DESIGN.md (membership, sync bandwidth, quorum writes, failover, ...) and print a table')
    .option('--out <dir>', 'where each <scenario>.json and chart goes', 'bench/out')
    .option('--quick', 'fewer rounds and smaller clusters (under 10 minutes on 2 cores)')
    .option('--only <names>', 'comma-separated scenario names (with --micro: suites, or parts of "suite/case")')
    .option('--micro', 'run the hot-path micro-benchmarks (benny) instead: <out>/micro.json and micro.svg')
    .option('--compare <file>', 'with --micro: print the ratio of ops/s per case against an earlier micro.json')
    .action(async (f: { out: string; quick?: boolean; only?: string; micro?: boolean; compare?: string }) => {
      const only = f.only !== undefined ? f.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      // `--only ""` (an empty variable in a script) must not run every scenario for an hour.
      if (only !== undefined && only.length === 0) throw new UsageError('--only needs at least one name (a scenario, or with --micro a suite)');
      if (f.compare !== undefined && !f.micro) throw new UsageError('--compare compares micro-benchmark runs: add --micro');
      // Loaded only here: a node process (tri node start) never pays for the benchmark code.
      if (f.micro) {
        const { runMicro } = await import('../../../bench/micro/run.js');
        const { result } = await runMicro({ out: f.out, timing: f.quick ? 'quick' : 'full', only, compare: f.compare });
        if (result.failed.length) throw new TriError(`${result.failed.length} micro-benchmark suite(s) failed: ${result.failed.map((x) => x.suite).join(', ')}`);
        return;
      }
      const { runBench, SCENARIOS } = await import('../../../bench/run.js');
      const unknown = (only ?? []).filter((n) => !(n in SCENARIOS));
      if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
      const { failed } = await runBench({ out: f.out, quick: f.quick === true, only, log: (m) => process.stderr.write(`${m}\n`) });
      if (failed.length) throw new TriError(`${failed.length} scenario(s) failed: ${failed.map((x) => `${x.scenario}: ${x.error.split('\n')[0]}`).join('; ')}`);
    });
}
