// Runs the micro-benchmark suites with benny (`tri cluster-bench --micro`), writes
// <out>/micro.json (every case's ops/s and time per op, the machine and its load, benny's
// summaries) and <out>/micro.svg, prints the table, the replica floor beside etcd's server CPU per
// write when a quorum-writes result holds it, and with `compare` the ratio per case to an older run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { add, configure, cycle, suite as bennySuite } from 'benny';
import type { Options, Summary } from 'benny/lib/internal/common-types.js';
import { UsageError } from '../../src/errors.js';
import { machineInfo } from '../lib/machine.js';
import { metric, type Metrics } from '../lib/result.js';
import { opsChartSvg } from './chart.js';
import { formatComparison } from './compare.js';
import { loadSuites } from './registry.js';
import { MICRO_SCENARIO, readMicroResult, type CaseFigure, type MicroResult } from './result.js';
import type { MicroCase, MicroSuite } from './suite.js';
import { COMMIT_EVERY, FLOOR_CASE } from './suites/replica.js';

/** benchmark.js timing per case: the default run, --quick, and the CI smoke pass (each case runs on small inputs, nothing is measured well). */
export const TIMINGS = {
  full: { minTime: 0.05, maxTime: 1, minSamples: 5 },
  quick: { minTime: 0.05, maxTime: 0.25, minSamples: 5 },
  smoke: { minTime: 0.0005, maxTime: 0.0005, minSamples: 1, initCount: 1, delay: 0 },
} satisfies Record<string, Options>;

export interface MicroOptions {
  out: string;
  timing?: keyof typeof TIMINGS;
  /** Filters: a suite name, or part of "suite/case" (case-insensitive). Default: every case. */
  only?: string[];
  /** An earlier micro.json to print the ratio per case against. */
  compare?: string;
  log?: (msg: string) => void;
  print?: (s: string) => void;
  /** Where suites are found (tests); default bench/micro/suites. */
  suitesDir?: string;
}

export interface MicroOutcome {
  result: MicroResult;
  path: string;
}

/**
 * Which of a suite's cases `only` selects. A term is a suite name (all its cases), "suite/part"
 * (that suite's cases whose name contains part), or a bare part of any case's name; all
 * case-insensitive.
 */
export function selectCases(suite: MicroSuite, cases: MicroCase[], only: readonly string[] | undefined): MicroCase[] {
  if (!only?.length) return cases;
  const name = suite.name.toLowerCase();
  const terms = only.map((t) => t.toLowerCase()).filter((t) => matchesSuite(suite, t));
  if (terms.includes(name)) return cases;
  const parts = terms.map((t) => (t.startsWith(`${name}/`) ? t.slice(name.length + 1) : t));
  return cases.filter((c) => parts.some((p) => c.name.toLowerCase().includes(p)));
}

export async function runMicro(opts: MicroOptions): Promise<MicroOutcome> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const print = opts.print ?? ((s: string) => process.stdout.write(`${s}\n`));
  // Read the older result first: a wrong path fails before minutes of benchmarking.
  const older = opts.compare === undefined ? undefined : readMicroResult(opts.compare);
  const timing = TIMINGS[opts.timing ?? 'full'];
  const suites = await loadSuites(opts.suitesDir);
  const only = opts.only?.length ? opts.only : undefined;
  if (only) {
    // A term must at least name a suite or be part of one's name, or the run would silently do nothing.
    const unknown = only.filter((t) => !suites.some((s) => matchesSuite(s, t)));
    if (unknown.length) throw new UsageError(`--only ${unknown.join(', ')} names no micro-benchmark suite; suites: ${suites.map((s) => s.name).join(', ')}`);
  }
  const loadStart = loadavg().map(round2);
  const cases: CaseFigure[] = [];
  let floorCpuUs: number | undefined;
  const benny: MicroResult['benny'] = {};
  const failed: MicroResult['failed'] = [];
  for (const s of suites) {
    // A filter naming only cases of other suites skips this one before its (possibly slow) setup.
    if (only && !only.some((t) => matchesSuite(s, t))) continue;
    try {
      const t0 = performance.now();
      const built = await s.build({ small: opts.timing === 'smoke' });
      try {
        const chosen = selectCases(s, built.cases, only);
        if (chosen.length === 0) continue;
        log(`micro ${s.name}: ${chosen.length} case(s), inputs made in ${Math.round(performance.now() - t0)} ms`);
        // Each case once before benny times it: a broken case fails here, by name.
        for (const c of chosen) {
          try {
            c.fn();
          } catch (err) {
            throw new Error(`case "${c.name}" threw: ${(err as Error)?.stack ?? String(err)}`);
          }
        }
        const { summary, cpuUs } = await runSuite(s.name, chosen, timing, log);
        benny[s.name] = { ...summary, results: summary.results.map(({ details, ...r }) => ({ ...r, details: { ...details, sampleResults: undefined } })) };
        for (const r of summary.results) {
          cases.push({
            suite: s.name,
            case: r.name,
            key: `${s.name}/${r.name}`,
            opsPerSec: r.ops,
            usPerOp: r.details.mean * 1e6,
            cpuUsPerOp: cpuUs.get(r.name) ?? NaN,
            rmePercent: r.margin,
            samples: r.samples,
          });
        }
        // The floor as CPU time too: wall-clock figures grow with the machine's load, CPU per write much less.
        const floorCase = s.name === 'replica' ? chosen.find((c) => c.name === FLOOR_CASE) : undefined;
        if (floorCase) floorCpuUs = cpuPerOpUs(floorCase.fn, opts.timing === 'smoke' ? 20 : 1_000, opts.timing === 'smoke' ? 64 : 50_000);
      } finally {
        built.teardown?.();
      }
    } catch (err) {
      const error = (err as Error).stack ?? String(err);
      failed.push({ suite: s.name, error });
      log(`micro ${s.name} FAILED: ${error.split('\n')[0]}`);
    }
  }
  if (only && cases.length === 0 && failed.length === 0) throw new UsageError(`--only ${only.join(',')} selected no micro-benchmark case`);

  const { metrics, peers, floorLines } = floorReport(cases, floorCpuUs, opts.out);
  const result: MicroResult = {
    scenario: MICRO_SCENARIO,
    machine: { ...machineInfo(), loadAvg: { start: loadStart, end: loadavg().map(round2) } },
    date: new Date().toISOString(),
    settings: { minTime: timing.minTime, maxTime: timing.maxTime, minSamples: timing.minSamples },
    metrics,
    peers,
    cases,
    failed,
    benny,
  };
  mkdirSync(opts.out, { recursive: true });
  const path = join(opts.out, `${MICRO_SCENARIO}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  if (cases.length) writeFileSync(join(opts.out, `${MICRO_SCENARIO}.svg`), opsChartSvg(`Hot paths, ops/s per case (${result.machine.cpuModel})`, cases));
  print(formatMicroTable(result));
  for (const l of floorLines) print(l);
  if (older) print(`\n${formatComparison(older, result)}`);
  log(`micro: wrote ${path}`);
  return { result, path };
}

function matchesSuite(s: MicroSuite, term: string): boolean {
  const t = term.toLowerCase();
  const name = s.name.toLowerCase();
  // "gossip", "gossip/decode", or a bare part of some case name (checked against the cases later).
  return t === name || t.startsWith(`${name}/`) || !t.includes('/');
}

/**
 * One suite through benny; resolves with its summary and each case's CPU microseconds per call,
 * rejects naming the case that threw. The CPU figure (process.cpuUsage while the case ran, over
 * the calls counted) moves much less than benny's wall-clock one when other work shares the cores.
 */
async function runSuite(name: string, cases: MicroCase[], timing: Options, log: (m: string) => void): Promise<{ summary: Summary; cpuUs: Map<string, number> }> {
  // benny announces each suite with console.log; that would land in the table on stdout.
  const consoleLog = console.log;
  console.log = (...args: unknown[]) => log(args.map(String).join(' '));
  const calls = new Map(cases.map((c) => [c.name, { n: 0 }]));
  const cpuUs = new Map<string, number>();
  let mark = process.cpuUsage();
  // benny calls each case once while preparing; counting starts when benchmark.js starts the suite.
  const countFromStart = async () => (s: { on(event: string, fn: () => void): unknown }) => {
    s.on('start', () => {
      for (const c of calls.values()) c.n = 0;
      mark = process.cpuUsage();
    });
    return s;
  };
  try {
    const summary = await bennySuite(
      name,
      configure({ cases: timing }),
      countFromStart,
      ...cases.map((c) => {
        const f = c.fn;
        const count = calls.get(c.name)!;
        return add(c.name, () => () => {
          count.n++;
          f();
        });
      }),
      cycle((r) => {
        // Cases run one after another, each ending in this event: the CPU since the last one is this case's.
        const used = process.cpuUsage(mark);
        mark = process.cpuUsage();
        const n = calls.get(r.name)?.n ?? 0;
        if (n > 0) cpuUs.set(r.name, (used.user + used.system) / n);
        log(`  ${name}/${r.name}: ${Math.round(r.ops).toLocaleString('en')} ops/s ±${r.margin}% (${r.samples} samples), ${fmtUs(cpuUs.get(r.name) ?? NaN)} us CPU per op`);
        return undefined;
      }),
    );
    return { summary, cpuUs };
  } catch (err) {
    // benchmark.js reports a throwing case as an 'error' event whose target carries the error.
    const target = (err as { target?: { name?: string; error?: unknown } } | null)?.target;
    if (target?.error !== undefined) throw new Error(`case "${target.name}" threw: ${(target.error as Error)?.stack ?? String(target.error)}`);
    throw err;
  } finally {
    console.log = consoleLog;
  }
}

/** The table printed after a run: suite, case, ops/s, time per op, margin of error, samples. */
export function formatMicroTable(r: MicroResult): string {
  const rows = [['suite', 'case', 'ops/s', 'us/op', '±%', 'samples', 'CPU us/op']];
  for (const c of r.cases) rows.push([c.suite, c.case, Math.round(c.opsPerSec).toLocaleString('en'), fmtUs(c.usPerOp), c.rmePercent.toFixed(1), String(c.samples), fmtUs(c.cpuUsPerOp)]);
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]): string => row.map((cell, col) => (col < 2 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ').trimEnd();
  const head = `micro-benchmarks on ${r.machine.cpuModel} (${r.machine.cpus} CPUs, ${r.machine.node}), load average ${r.machine.loadAvg.start.join(' ')} -> ${r.machine.loadAvg.end.join(' ')}`;
  const fails = r.failed.map((f) => `FAILED ${f.suite}: ${f.error.split('\n')[0]}`);
  return [head, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), ...fails].join('\n');
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  return us >= 100 ? Math.round(us).toLocaleString('en') : us >= 1 ? us.toFixed(2) : us.toFixed(3);
}

/**
 * The replica floor (the together case's time per write) as one number, the sum of its parts,
 * and etcd's server CPU per write from a quorum-writes result in the same directory, if any.
 */
function floorReport(cases: CaseFigure[], floorCpuUs: number | undefined, out: string): { metrics: Metrics; peers: Record<string, unknown>; floorLines: string[] } {
  const metrics: Metrics = {};
  const peers: Record<string, unknown> = {};
  const floorCase = cases.find((c) => c.suite === 'replica' && c.case === FLOOR_CASE);
  if (!floorCase || floorCpuUs === undefined) return { metrics, peers, floorLines: [] };
  const floor = { usPerOp: floorCpuUs };
  const part = (prefix: string): number | undefined => cases.find((c) => c.suite === 'replica' && c.case.startsWith(prefix))?.usPerOp;
  const parts = [part('validate '), part('apply to Y.Doc'), part(`append to SQLite (group commit`)];
  metrics.replica_floor_us_per_write = metric(round2(floor.usPerOp), 'us');
  metrics.replica_floor_writes_per_s_per_core = metric(Math.round(1e6 / floor.usPerOp), 'writes/s');
  metrics.replica_floor_wall_us_per_write = metric(round2(floorCase.usPerOp), 'us');
  if (parts.every((p) => p !== undefined)) metrics.replica_parts_sum_us = metric(round2(parts.reduce((a, b) => a! + b!, 0)!), 'us');
  const lines = [
    '',
    `replica floor: ${fmtUs(floor.usPerOp)} us of CPU per small episode write (validate + apply to the Y.Doc + append, group commit of ${COMMIT_EVERY}) = ${Math.round(1e6 / floor.usPerOp).toLocaleString('en')} writes/s per core` +
      ` (wall clock under benny: ${fmtUs(floorCase.usPerOp)} us` +
      (metrics.replica_parts_sum_us ? `; its parts alone: ${fmtUs(metrics.replica_parts_sum_us.value)} us)` : ')'),
  ];
  const etcd = etcdServerCpuPerWrite(join(out, 'quorum-writes.json'));
  if (etcd) {
    peers.etcd = { source: 'quorum-writes.json', server_cpu_per_write: etcd.figures, date: etcd.date };
    for (const [k, m] of Object.entries(etcd.figures)) {
      const us = m.unit === 'ms' ? m.value * 1000 : m.unit === 'us' ? m.value : NaN;
      lines.push(`etcd server CPU per write (${k}, all members together, quorum-writes run of ${etcd.date}): ${m.value} ${m.unit}` + (Number.isFinite(us) ? ` = ${(us / floor.usPerOp).toFixed(1)} x our replica floor` : ''));
    }
  } else {
    peers.etcd = { note: 'not measured in this run' };
    lines.push(`etcd server CPU per write: not measured in this run (no etcd figure in ${join(out, 'quorum-writes.json')}; run \`tri cluster-bench --only quorum-writes --out ${out}\` with etcd beside it)`);
  }
  return { metrics, peers, floorLines: lines };
}

type Figure = { value: number; unit: string };

/**
 * etcd's server CPU per write from a quorum-writes result: peers.etcd.metrics.nN_node_cpu_per_write
 * (all etcd members' CPU per acknowledged write, as bench/quorum-writes.ts writes it), or, when a
 * result has only the split, peers.split.nN.peers.etcd.serverCpuMs. Only times (ms or us): the
 * top-level nN_node_cpu_per_write_ratio_vs_etcd are ratios, not etcd's figure.
 */
export function etcdServerCpuPerWrite(path: string): { figures: Record<string, Figure>; date: string } | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as QuorumWritesFile;
    const figures: Record<string, Figure> = {};
    const isTime = (m: Figure | undefined): m is Figure => (m?.unit === 'ms' || m?.unit === 'us') && typeof m.value === 'number' && Number.isFinite(m.value);
    for (const [k, m] of Object.entries(r.peers?.etcd?.metrics ?? {})) {
      if (/^n\d+_(node|server)_cpu_per_write$/.test(k) && isTime(m)) figures[k] = m;
    }
    for (const [n, s] of Object.entries(r.peers?.split ?? {})) {
      const ms = s?.peers?.etcd?.serverCpuMs;
      if (/^n\d+$/.test(n) && !(`${n}_node_cpu_per_write` in figures) && typeof ms === 'number' && Number.isFinite(ms)) figures[`${n}_node_cpu_per_write`] = { value: ms, unit: 'ms' };
    }
    return Object.keys(figures).length ? { figures, date: r.date ?? 'unknown' } : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a quorum-writes.json this reads. */
interface QuorumWritesFile {
  date?: string;
  peers?: { etcd?: { metrics?: Record<string, Figure> }; split?: Record<string, { peers?: { etcd?: { serverCpuMs?: unknown } } } | undefined> };
}

/** CPU microseconds (user + system) per call of `fn`, over up to `maxMs` of wall time or `maxOps` calls. */
export function cpuPerOpUs(fn: () => void, maxMs: number, maxOps: number): number {
  const start = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  while (n < maxOps && (n % 64 !== 0 || performance.now() - start < maxMs)) {
    fn();
    n++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
