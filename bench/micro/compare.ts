// `--compare OLD.json`: the ratio of ops/s per case between an earlier run and this one, so a
// change's effect on every hot path is one table (for the commit message of performance work).
import type { MicroResult } from './result.js';

export interface CompareRow {
  key: string;
  oldOps: number | undefined;
  newOps: number | undefined;
  /** new / old ops/s: above 1 is faster. Undefined when the case is in only one run. */
  ratio: number | undefined;
}

export function compareMicro(older: MicroResult, newer: MicroResult): CompareRow[] {
  const old = new Map(older.cases.map((c) => [c.key, c.opsPerSec]));
  const rows: CompareRow[] = [];
  for (const c of newer.cases) {
    const o = old.get(c.key);
    rows.push({ key: c.key, oldOps: o, newOps: c.opsPerSec, ratio: o !== undefined && o > 0 ? c.opsPerSec / o : undefined });
    old.delete(c.key);
  }
  for (const [key, o] of old) rows.push({ key, oldOps: o, newOps: undefined, ratio: undefined });
  return rows;
}

const ops = (v: number | undefined): string => (v === undefined ? '-' : Math.round(v).toLocaleString('en'));

/** The comparison as an aligned text table, with a line on what the two runs were measured on. */
export function formatComparison(older: MicroResult, newer: MicroResult): string {
  const rows = compareMicro(older, newer);
  const table = [['case', 'old ops/s', 'new ops/s', 'new/old']];
  for (const r of rows) {
    if (r.newOps === undefined) continue; // summed up below: a filtered run leaves out most cases
    table.push([r.key, ops(r.oldOps), ops(r.newOps), r.oldOps === undefined ? 'new case' : `${r.ratio!.toFixed(2)}x`]);
  }
  const notRun = rows.filter((r) => r.newOps === undefined).map((r) => r.key);
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const line = (row: string[]): string => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
  const machines =
    older.machine.cpuModel === newer.machine.cpuModel
      ? `both on ${newer.machine.cpuModel}`
      : `old on ${older.machine.cpuModel}, new on ${newer.machine.cpuModel}: ratios compare machines too`;
  const load = `load average (1 min) old ${older.machine.loadAvg?.end?.[0] ?? '?'}, new ${newer.machine.loadAvg?.end?.[0] ?? '?'}`;
  const tail = notRun.length === 0 ? [] : [`${notRun.length} case(s) of the old run not run now${notRun.length <= 5 ? `: ${notRun.join('; ')}` : ''}`];
  return [`compared with the run of ${older.date} (${machines}; ${load})`, line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), ...tail].join('\n');
}
