// `tri cluster-bench [--out DIR] [--quick] [--only a,b]` (alias nodes-bench): runs the benchmark
// scenarios of DESIGN.md "Benchmarks" on this machine, each writing <out>/<scenario>.json (and its
// charts), then prints one table. Where Debian's serf can be unpacked it runs beside ours.
import type { Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';

export function registerClusterBench(program: Command): void {
  program
    .command('cluster-bench')
    .alias('nodes-bench')
    .description('run the benchmark scenarios of DESIGN.md (membership, sync bandwidth, quorum writes, failover, ...) and print a table')
    .option('--out <dir>', 'where each <scenario>.json and chart goes', 'bench/out')
    .option('--quick', 'fewer rounds and smaller clusters (under 10 minutes on 2 cores)')
    .option('--only <names>', 'comma-separated scenario names')
    .action(async (f: { out: string; quick?: boolean; only?: string }) => {
      // Loaded only here: a node process (tri node start) never pays for the benchmark code.
      const { runBench, SCENARIOS } = await import('../../../bench/run.js');
      const only = f.only !== undefined ? f.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      // `--only ""` (an empty variable in a script) must not run every scenario for an hour.
      if (only !== undefined && only.length === 0) throw new UsageError(`--only needs at least one scenario name; known: ${Object.keys(SCENARIOS).join(', ')}`);
      const unknown = (only ?? []).filter((n) => !(n in SCENARIOS));
      if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
      const { failed } = await runBench({ out: f.out, quick: f.quick === true, only, log: (m) => process.stderr.write(`${m}\n`) });
      if (failed.length) throw new TriError(`${failed.length} scenario(s) failed: ${failed.map((x) => `${x.scenario}: ${x.error.split('\n')[0]}`).join('; ')}`);
    });
}
