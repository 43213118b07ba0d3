// The micro-benchmarks' CI smoke pass: every suite runs every case once on small inputs (benny
// with a tiny time budget), and micro.json has the promised shape. No timing is asserted: the
// figures of a smoke pass mean nothing. Also the --only filter, failure reporting, the etcd slot,
// and --compare on crafted result files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareMicro, formatComparison } from '../../bench/micro/compare.js';
import { loadSuites } from '../../bench/micro/registry.js';
import { readMicroResult, type MicroResult } from '../../bench/micro/result.js';
import { etcdServerCpuPerWrite, runMicro } from '../../bench/micro/run.js';
import { FLOOR_CASE } from '../../bench/micro/suites/replica.js';
import { runTri } from '../integration/lib/run-tri.js';
import { UsageError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'tri-micro-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { log: () => undefined, print: () => undefined };

describe('micro-benchmark smoke pass', () => {
  it('runs every case of every suite once and writes micro.json and micro.svg', async () => {
    const out = join(root, 'smoke');
    const printed: string[] = [];
    const { result, path } = await runMicro({ out, timing: 'smoke', log: () => undefined, print: (s) => printed.push(s) });
    expect(result.failed).toEqual([]);

    // Every case the suites define (built here on their own) ran and has figures.
    const suites = await loadSuites();
    expect(suites.map((s) => s.name)).toEqual(expect.arrayContaining(['gossip', 'security', 'rpc', 'replica', 'sync', 'quorum', 'routing', 'recall', 'yjs']));
    const expected: string[] = [];
    for (const s of suites) {
      const built = await s.build({ small: true });
      expected.push(...built.cases.map((c) => `${s.name}/${c.name}`));
      built.teardown?.();
    }
    expect(result.cases.map((c) => c.key).sort()).toEqual(expected.sort());
    for (const c of result.cases) {
      expect(c.samples, c.key).toBeGreaterThanOrEqual(1);
      expect(c.opsPerSec, c.key).toBeGreaterThan(0);
      expect(Number.isFinite(c.usPerOp), c.key).toBe(true);
      expect(c.cpuUsPerOp, c.key).toBeGreaterThanOrEqual(0);
    }

    // The file on disk: machine with CPU model and load average, benny's summaries, the floor.
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as MicroResult;
    expect(onDisk.scenario).toBe('micro');
    expect(typeof onDisk.machine.cpuModel).toBe('string');
    expect(onDisk.machine.cpuModel.length).toBeGreaterThan(0);
    expect(onDisk.machine.loadAvg.start).toHaveLength(3);
    expect(onDisk.machine.loadAvg.end).toHaveLength(3);
    for (const s of suites) {
      expect(onDisk.benny[s.name]?.name).toBe(s.name);
      expect(onDisk.benny[s.name]?.results.length).toBe(result.cases.filter((c) => c.suite === s.name).length);
    }
    expect(onDisk.metrics.replica_floor_us_per_write?.unit).toBe('us');
    expect(onDisk.metrics.replica_floor_us_per_write?.value).toBeGreaterThan(0);
    expect(onDisk.peers.etcd).toEqual({ note: 'not measured in this run' });
    const svg = readFileSync(join(out, 'micro.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x="\d+(\.\d+)?" y=/g)?.length).toBe(result.cases.length);

    const table = printed.join('\n');
    expect(table).toContain(FLOOR_CASE);
    expect(table).toContain('replica floor:');
    expect(table).toContain('etcd server CPU per write: not measured in this run');
  });

  it('--only runs just the matching cases, and refuses a filter that names no suite', async () => {
    const { result } = await runMicro({ out: join(root, 'only'), timing: 'smoke', only: ['quorum/ack plan', 'routing/round-robin (32 '], ...quiet });
    expect(result.cases.map((c) => c.key).sort()).toEqual([
      'quorum/ack plan + count acks to a majority (32 voters)',
      'quorum/ack plan + count acks to a majority (5 voters)',
      'routing/route round-robin (32 candidates)',
    ]);
    await expect(runMicro({ out: join(root, 'only2'), timing: 'smoke', only: ['nosuch/case'], ...quiet })).rejects.toThrow(UsageError);
    await expect(runMicro({ out: join(root, 'only3'), timing: 'smoke', only: ['quorum/no such case'], ...quiet })).rejects.toThrow(/selected no micro-benchmark case/);
  });

  it('reports a case that throws as its suite failing, by name, and still runs the other suites', async () => {
    const dir = join(root, 'suites-with-a-bad-one');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'a-bad.js'), "export const suite = { name: 'bad', title: 'throws', build: () => ({ cases: [{ name: 'boom case', fn() { throw new Error('boom'); } }] }) };\n");
    writeFileSync(join(dir, 'b-good.js'), "let n = 0; export const suite = { name: 'good', title: 'counts', build: () => ({ cases: [{ name: 'count', fn() { n++; } }] }) };\n");
    const { result } = await runMicro({ out: join(root, 'bad'), timing: 'smoke', suitesDir: dir, ...quiet });
    expect(result.failed.map((f) => f.suite)).toEqual(['bad']);
    expect(result.failed[0]!.error).toContain('case "boom case" threw');
    expect(result.failed[0]!.error).toContain('boom');
    expect(result.cases.map((c) => c.key)).toEqual(['good/count']);
  });

  it('puts etcd\'s server CPU per write from quorum-writes.json beside the replica floor', async () => {
    const out = join(root, 'etcd');
    mkdirSync(out, { recursive: true });
    // The shape bench/quorum-writes.ts writes: etcd's own metrics under peers.etcd, our ratios to
    // it at the top level (not etcd's figure), and the split of each cluster size.
    const qw = {
      scenario: 'quorum-writes',
      date: '2026-12-01T00:00:00.000Z',
      metrics: { n3_node_cpu_per_write: { value: 1.969, unit: 'ms' }, n3_node_cpu_per_write_ratio_vs_etcd: { value: 5.2, unit: 'x' }, n3_client_cpu_per_write_ratio_vs_etcd: { value: 0.81, unit: 'x' } },
      peers: {
        etcd: {
          ran: true,
          metrics: {
            n3_node_cpu_per_write: { value: 0.379, unit: 'ms' },
            n3_client_cpu_per_write: { value: 0.398, unit: 'ms' },
            n3_cpu_busy_share: { value: 44.39, unit: '%' },
            n5_node_cpu_per_write: { value: 0.671, unit: 'ms' },
          },
        },
        nats: { ran: true, metrics: { n3_node_cpu_per_write: { value: 0.077, unit: 'ms' } } },
        split: { n3: { ours: { serverCpuMs: 1.969 }, peers: { etcd: { serverCpuMs: 0.379 }, nats: { serverCpuMs: 0.077 } } } },
      },
    };
    writeFileSync(join(out, 'quorum-writes.json'), JSON.stringify(qw));
    const printed: string[] = [];
    const { result } = await runMicro({ out, timing: 'smoke', only: ['replica/replica floor'], log: () => undefined, print: (s) => printed.push(s) });
    expect(result.cases.map((c) => c.case)).toEqual([FLOOR_CASE]);
    expect(result.peers.etcd).toEqual({
      source: 'quorum-writes.json',
      server_cpu_per_write: { n3_node_cpu_per_write: { value: 0.379, unit: 'ms' }, n5_node_cpu_per_write: { value: 0.671, unit: 'ms' } },
      date: qw.date,
    });
    expect(printed.join('\n')).toMatch(/etcd server CPU per write \(n3_node_cpu_per_write, .*\): 0\.379 ms = [\d.]+ x our replica floor/);
    expect(printed.join('\n')).not.toMatch(/ratio_vs_etcd/);
  });

  it('falls back to the split when a quorum-writes result has no etcd metrics', () => {
    const path = join(root, 'split-only.json');
    writeFileSync(path, JSON.stringify({ date: 'd', metrics: { n5_node_cpu_per_write_ratio_vs_etcd: { value: 4.78, unit: 'x' } }, peers: { split: { n5: { peers: { etcd: { serverCpuMs: 0.671 } } } } } }));
    expect(etcdServerCpuPerWrite(path)).toEqual({ figures: { n5_node_cpu_per_write: { value: 0.671, unit: 'ms' } }, date: 'd' });
    writeFileSync(path, JSON.stringify({ date: 'd', metrics: { n3_node_cpu_per_write_ratio_vs_etcd: { value: 5.2, unit: 'x' } }, peers: { etcd: { ran: false, metrics: {} } } }));
    expect(etcdServerCpuPerWrite(path)).toBeUndefined();
  });
});

describe('--compare', () => {
  const crafted = (cases: Array<[string, number]>, cpuModel = 'Test CPU'): MicroResult => ({
    scenario: 'micro',
    machine: { cpus: 2, cpuModel, memGiB: 1, node: 'v20', platform: 'linux-x64', loadAvg: { start: [1, 1, 1], end: [1.5, 1, 1] } },
    date: '2026-12-01T00:00:00.000Z',
    settings: { minTime: 0.05, maxTime: 1, minSamples: 5 },
    metrics: {},
    peers: {},
    cases: cases.map(([key, opsPerSec]) => ({ suite: key.split('/')[0]!, case: key.split('/')[1]!, key, opsPerSec, usPerOp: 1e6 / opsPerSec, cpuUsPerOp: 1e6 / opsPerSec, rmePercent: 1, samples: 5 })),
    failed: [],
    benny: {},
  });
  const write = (name: string, r: unknown): string => {
    const p = join(root, name);
    writeFileSync(p, JSON.stringify(r));
    return p;
  };

  it('gives new/old ops/s per case, and names cases only one run has', () => {
    const older = readMicroResult(write('old.json', crafted([['gossip/encode', 1000], ['gossip/decode', 400], ['rpc/gone', 10]])));
    const newer = readMicroResult(write('new.json', crafted([['gossip/encode', 2000], ['gossip/decode', 300], ['sync/added', 5]], 'Other CPU')));
    expect(compareMicro(older, newer)).toEqual([
      { key: 'gossip/encode', oldOps: 1000, newOps: 2000, ratio: 2 },
      { key: 'gossip/decode', oldOps: 400, newOps: 300, ratio: 0.75 },
      { key: 'sync/added', oldOps: undefined, newOps: 5, ratio: undefined },
      { key: 'rpc/gone', oldOps: 10, newOps: undefined, ratio: undefined },
    ]);
    const text = formatComparison(older, newer);
    expect(text).toMatch(/gossip\/encode\s+1,000\s+2,000\s+2\.00x/);
    expect(text).toMatch(/gossip\/decode\s+400\s+300\s+0\.75x/);
    expect(text).toMatch(/sync\/added\s+-\s+5\s+new case/);
    expect(text).toContain('1 case(s) of the old run not run now: rpc/gone');
    expect(text).not.toMatch(/^rpc\/gone\s/m);
    expect(text).toContain('old on Test CPU, new on Other CPU');
  });

  it('refuses a file that is not a micro result, with the reason', () => {
    expect(() => readMicroResult(write('scenario.json', { scenario: 'quorum-writes', metrics: {} }))).toThrow(/is not a micro-benchmark result/);
    expect(() => readMicroResult(write('garbage.json', 'not json'.slice(0, 3)))).toThrow(UsageError);
    expect(() => readMicroResult(join(root, 'missing.json'))).toThrow(/cannot read/);
  });

  it('a run with compare prints the ratio for the cases it ran', async () => {
    const old = write('old-run.json', crafted([['quorum/countedVerdict, the rule over reachable voters (5 voters)', 1]]));
    const printed: string[] = [];
    await runMicro({ out: join(root, 'cmp'), timing: 'smoke', only: ['quorum/countedVerdict, the rule over reachable voters (5'], compare: old, log: () => undefined, print: (s) => printed.push(s) });
    expect(printed.join('\n')).toMatch(/quorum\/countedVerdict, the rule over reachable voters \(5 voters\)\s+1\s+[\d,]+\s+[\d.]+x/);
  });
});

describe('tri cluster-bench --micro', () => {
  it('refuses --compare without --micro, a missing file and an unknown suite before running anything (exit 2)', async () => {
    const out = join(root, 'cli');
    const noMicro = await runTri(['cluster-bench', '--compare', 'old.json', '--out', out]);
    expect(noMicro.code).toBe(2);
    expect(noMicro.stderr).toMatch(/add --micro/);
    const missing = await runTri(['cluster-bench', '--micro', '--compare', join(root, 'missing.json'), '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const unknown = await runTri(['cluster-bench', '--micro', '--only', 'nosuch/case', '--out', out]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/names no micro-benchmark suite; suites: gossip/);
    expect(() => readFileSync(join(out, 'micro.json'))).toThrow();
  }, 60_000);
});
