// Renders benchmark results as one aligned text table (scenario, metric, value, unit), the
// summary `tri cluster-bench` prints. Peers' numeric metrics appear as extra rows; a peer that is
// missing or failed appears as one row saying why and how to get it.
import type { BenchResult, Metrics } from './result.js';

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return v.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
}

export function formatTable(results: readonly BenchResult[]): string {
  const rows: string[][] = [['scenario', 'metric', 'value', 'unit']];
  for (const r of results) {
    addRows(rows, r.scenario, r.metrics);
    for (const [peer, data] of Object.entries(r.peers)) {
      const sec = data as { metrics?: Metrics; missing?: unknown; hint?: unknown } | null;
      if (sec?.metrics) addRows(rows, `${r.scenario} [${peer}]`, sec.metrics);
      else if (typeof sec?.missing === 'string') rows.push([`${r.scenario} [${peer}]`, 'missing', '-', `${sec.missing}${typeof sec.hint === 'string' ? `; ${sec.hint}` : ''}`]);
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]): string =>
    row.map((cell, col) => (col === 2 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function printTable(results: readonly BenchResult[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): void {
  out(formatTable(results));
}

function addRows(rows: string[][], scenario: string, metrics: Metrics): void {
  for (const [name, m] of Object.entries(metrics)) rows.push([scenario, name, formatValue(m.value), m.unit]);
}
