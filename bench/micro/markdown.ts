// Prints the micro-benchmark table in Markdown from a micro.json (for README.md and
// bench/micro/README.md):   node dist/bench/micro/markdown.js bench/results/micro.json
import { pathToFileURL } from 'node:url';
import { readMicroResult, type MicroResult } from './result.js';
import { fmtUs } from './run.js';

export function microMarkdown(r: MicroResult): string {
  const lines = [
    `${r.cases.length} cases on ${r.machine.cpuModel} (${r.machine.cpus} CPUs, Node.js ${r.machine.node}), ${r.date.slice(0, 16).replace('T', ' ')} UTC, ` +
      `load average ${r.machine.loadAvg.start[0]} at the start and ${r.machine.loadAvg.end[0]} at the end; benny with up to ${r.settings.maxTime} s per case.`,
    '',
    '| suite | case | ops/s | us/op | ± % | CPU us/op |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of r.cases) lines.push(`| ${c.suite} | ${c.case.replace(/\|/g, '\\|')} | ${Math.round(c.opsPerSec).toLocaleString('en')} | ${fmtUs(c.usPerOp)} | ${c.rmePercent.toFixed(1)} | ${fmtUs(c.cpuUsPerOp)} |`);
  const floor = r.metrics.replica_floor_us_per_write;
  if (floor) {
    lines.push('', `Replica floor (one small episode write: validate + apply + append, group commit of 32): **${fmtUs(floor.value)} us** of CPU per write (process.cpuUsage over up to 1 s of writes), ${r.metrics.replica_floor_writes_per_s_per_core?.value.toLocaleString('en')} writes/s per core; ${fmtUs(r.metrics.replica_floor_wall_us_per_write?.value ?? NaN)} us of wall time per write under benny.`);
    const etcd = r.peers.etcd as { server_cpu_per_write?: Record<string, { value: number; unit: string }>; note?: string } | undefined;
    if (etcd?.server_cpu_per_write) {
      lines.push(`etcd's server CPU per write beside it: ${Object.entries(etcd.server_cpu_per_write).map(([k, m]) => `${k} ${m.value} ${m.unit}`).join(', ')}.`);
    } else {
      lines.push(`etcd's server CPU per write beside it: ${etcd?.note ?? 'not measured in this run'}.`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${microMarkdown(readMicroResult(process.argv[2] ?? 'bench/results/micro.json'))}\n`);
}
