// Standalone entry point: finds or unpacks serf, runs the membership reference for each cluster
// size and writes <out>/serf-membership.json. Usage after compiling:
//   node run-serf-bench.js [--out DIR] [--agents 5,32] [--idle-ms 30000]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { printTable } from '../lib/print-table.js';
import { lineChartSvg, writeChart } from '../lib/svg-chart.js';
import { metric, writeResult, type Metrics } from '../lib/result.js';
import { ensureSerf } from './ensure-serf.js';
import { runSerfMembership, type SerfMembershipResult } from './serf-membership.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'bench/out' }, agents: { type: 'string', default: '5,32' }, 'idle-ms': { type: 'string', default: '30000' } },
  });
  const serf = await ensureSerf();
  if (!serf.ok) {
    console.error(`serf is not available: ${serf.reason}`);
    return 1;
  }
  console.error(`serf: ${serf.path} (${serf.source})`);
  const metrics: Metrics = {};
  const runs: SerfMembershipResult[] = [];
  for (const n of (values.agents ?? '5,32').split(',').map(Number)) {
    const run = await runSerfMembership(serf.path, { agents: n, idleWindowMs: Number(values['idle-ms']), log: (m) => console.error(`[serf ${n}] ${m}`) });
    runs.push(run);
    for (const [name, m] of Object.entries(run.metrics)) metrics[`n${n}_${name}`] = m;
    metrics[`n${n}_agents`] = metric(n, 'agents');
  }
  const { result, path } = writeResult(values.out ?? 'bench/out', 'serf-membership', metrics, {
    serf: { binary: serf.path, profile: 'lan', runs: runs.map((r) => ({ agents: r.agents, samples: r.samples, notes: r.notes })) },
  });
  printTable([result]);
  const chartPath = join(values.out ?? 'bench/out', 'serf-membership.svg');
  const series = (name: string, key: string): { name: string; points: [number, number][] } => ({
    name,
    points: runs.map((r): [number, number] => [r.agents, r.metrics[key]?.value ?? NaN]),
  });
  writeChart(
    chartPath,
    lineChartSvg({
      title: 'serf (lan profile): membership times against cluster size',
      xLabel: 'agents',
      unit: 'ms',
      series: [series('crash detected by all', 'detection_all'), series('crash detected by first', 'detection_first'), series('join seen by all', 'join_dissemination_all')],
    }),
  );
  console.error(`wrote ${path} and ${chartPath}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
