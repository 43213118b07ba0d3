// The pure pieces of the peer benchmarks (etcd, NATS, BullMQ beside ours): address ranges, ratios,
// the peers' configuration files, and the tables and charts that show ours beside them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchPrefix } from '../../bench/lib/bench-net.js';
import { perNodePerSecond, sealOpenCost } from '../../bench/crypto-operator.js';
import { formatTable } from '../../bench/lib/print-table.js';
import { makeResult, metric, type BenchResult } from '../../bench/lib/result.js';
import { natsConfig } from '../../bench/peers/nats.js';
import { peerBarChart } from '../../bench/peers/peer-charts.js';
import { busyShare } from '../../bench/peers/quorum-peers.js';
import { writeSplit } from '../../bench/peers/write-split.js';
import { cpuPerWriteAboveIdle } from '../../bench/quorum/load.js';
import { missingPeer, peerEnabled, ratioMetrics, type PeerSection } from '../../bench/peers/ratios.js';
import { redisConfig, redisOverrides } from '../../bench/peers/redis.js';
import { peerCell, readmeTable, resolveSize } from '../../bench/readme-table.js';

describe('bench address ranges', () => {
  it('keeps the default /24 unless TRI_BENCH_NET names another', () => {
    expect(benchPrefix('127.0.11.', undefined)).toBe('127.0.11.');
    expect(benchPrefix('127.0.11.', '')).toBe('127.0.11.');
    expect(benchPrefix('127.0.11.', '127.0.17')).toBe('127.0.17.');
    expect(benchPrefix('127.0.8.', '127.0.17.')).toBe('127.0.17.');
  });

  it('refuses anything that is not a /24 of loopback', () => {
    for (const bad of ['10.0.0', '127.0.300', '127.0.17.5', 'x', '127.0']) expect(() => benchPrefix('127.0.11.', bad)).toThrow(/TRI_BENCH_NET/);
  });
});

describe('ratios ours / peer', () => {
  const ours = { a: metric(2, 'ms'), b: metric(300, 'writes/s'), c: metric(NaN, 'ms'), d: metric(1, 'ms'), e: metric(5, 'ms') };
  const peer = { a: metric(4, 'ms'), b: metric(200, 'writes/s'), c: metric(1, 'ms'), d: metric(0, 'ms') };

  it('divides ours by the peer for names both hold as finite numbers, and skips a zero peer', () => {
    expect(ratioMetrics(ours, peer, ['a', 'b', 'c', 'd', 'e', 'missing'], 'etcd')).toEqual({
      a_ratio_vs_etcd: { value: 0.5, unit: 'x' },
      b_ratio_vs_etcd: { value: 1.5, unit: 'x' },
    });
  });

  it('refuses a peer name that would make an odd metric name', () => {
    expect(() => ratioMetrics(ours, peer, ['a'], 'BullMQ fsync')).toThrow(/peer name/);
  });

  it('keeps one line of a failure and how to get the peer', () => {
    expect(missingPeer('etcd m1 exited (1): boom\nstack', 'apt-get update')).toEqual({ ran: false, missing: 'etcd m1 exited (1): boom', hint: 'apt-get update' });
  });

  it('runs every peer unless TRI_BENCH_PEERS lists some', () => {
    expect(peerEnabled('etcd', undefined)).toBe(true);
    expect(peerEnabled('etcd', 'etcd, nats')).toBe(true);
    expect(peerEnabled('bullmq', 'etcd,nats')).toBe(false);
    expect(peerEnabled('etcd', 'none')).toBe(false);
  });

  it('calls a run CPU-bound by the share of the cores it kept busy', () => {
    // 0.5 ms of CPU per write at 2,000 writes/s is one core: half of two.
    expect(busyShare(0.5, 2_000, 2)).toBeCloseTo(0.5, 9);
    expect(busyShare(1, 2_000, 2)).toBeCloseTo(1, 9);
  });
});

describe('peer configuration', () => {
  it('writes a NATS server config with JetStream, the routes to the others, and sync only when asked', () => {
    const conf = natsConfig({ name: 's1', address: '127.0.17.31', storeDir: '/tmp/x', routes: ['127.0.17.32', '127.0.17.33'], syncAlways: true });
    expect(conf).toContain('listen: 127.0.17.31:4222');
    expect(conf).toContain('store_dir: "/tmp/x"');
    expect(conf).toContain('sync_interval: always');
    expect(conf).toContain('routes: [nats-route://127.0.17.32:6222, nats-route://127.0.17.33:6222]');
    expect(natsConfig({ name: 's1', address: '127.0.17.31', storeDir: '/tmp/x', routes: [], syncAlways: false })).not.toContain('sync_interval');
  });

  it("replaces Debian's redis directives it overrides and keeps the rest as shipped", () => {
    const shipped = ['bind 127.0.0.1 -::1', 'daemonize yes', 'dir /var/lib/redis', '# appendonly no', 'appendonly no', 'appendfsync everysec', 'save 3600 1', 'hz 10'].join('\n');
    const always = redisConfig(shipped, redisOverrides({ address: '127.0.17.41', dir: '/tmp/r', durability: 'fsync-always' }));
    const lines = always.split('\n');
    expect(lines).toContain('bind 127.0.17.41');
    expect(lines).toContain('dir /tmp/r');
    expect(lines).toContain('appendonly yes');
    expect(lines).toContain('appendfsync always');
    expect(lines).toContain('hz 10');
    expect(lines).toContain('save 3600 1');
    expect(lines).toContain('# appendonly no'); // comments stay
    for (const gone of ['bind 127.0.0.1 -::1', 'daemonize yes', 'dir /var/lib/redis', 'appendonly no', 'appendfsync everysec']) expect(lines).not.toContain(gone);
    const shippedMode = redisConfig(shipped, redisOverrides({ address: '127.0.17.41', dir: '/tmp/r', durability: 'as-shipped' })).split('\n');
    expect(shippedMode).toContain('appendonly no');
    expect(shippedMode).toContain('appendfsync everysec');
  });
});

function quorumResult(peers: Record<string, unknown>): BenchResult {
  return makeResult('quorum-writes', { n3_latency_p50: metric(2, 'ms'), n5_latency_p50: metric(3, 'ms') }, peers);
}

describe('tables and charts beside the peers', () => {
  const etcd = { ran: true, metrics: { n3_latency_p50: metric(4, 'ms') }, settings: {} };
  const natsNoSync = { ran: true, metrics: { n3_latency_p50: metric(1, 'ms') }, settings: { sync: { everyWrite: false } } };
  const missing = missingPeer('"apt-get download etcd-server" failed: no lists', 'apt-get update, then rerun');

  it('gives a peer figure and ours / peer, says when a peer did not sync, and why one is missing', () => {
    const r = quorumResult({ etcd, nats: natsNoSync });
    expect(peerCell(r, { section: 'etcd', label: 'etcd' }, 'n3_latency_p50', r.metrics.n3_latency_p50)).toEqual({ value: 'etcd: 4 ms', ratio: '0.5 x etcd' });
    expect(peerCell(r, { section: 'nats', label: 'NATS' }, 'n3_latency_p50', r.metrics.n3_latency_p50)).toEqual({ value: 'NATS (no fsync per write): 1 ms', ratio: '2 x NATS' });
    expect(peerCell(r, { section: 'etcd', label: 'etcd' }, 'n5_latency_p50', r.metrics.n5_latency_p50)).toEqual({ value: 'etcd: not measured', ratio: '-' });
    const m = quorumResult({ etcd: missing });
    expect(peerCell(m, { section: 'etcd', label: 'etcd' }, 'n3_latency_p50', m.metrics.n3_latency_p50).value).toBe('etcd: missing ("apt-get download etcd-server" failed: no lists; apt-get update, then rerun)');
    expect(peerCell(m, { section: 'serf', label: 'serf' }, 'n3_latency_p50', undefined)).toEqual({ value: 'serf: not run', ratio: '-' });
  });

  it('prints the README table from result files with peer and ratio columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-readme-table-'));
    try {
      writeFileSync(join(dir, 'quorum-writes.json'), JSON.stringify(quorumResult({ etcd, nats: missing })));
      writeFileSync(join(dir, 'notes.json'), '{"not": "a result"}');
      const lines = readmeTable(dir).split('\n');
      expect(lines[0]).toBe('| what | measured | peer, same run | ours / peer | goal | run |');
      const row = lines.find((l) => l.startsWith('| acknowledged write latency p50, 3 processes'));
      expect(row).toContain('| 2 ms | etcd: 4 ms; NATS: missing (');
      expect(row).toContain('| 0.5 x etcd; - |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a missing peer as one row with the reason and how to get it', () => {
    const table = formatTable([quorumResult({ etcd, nats: missing })]);
    expect(table).toMatch(/quorum-writes \[etcd\]\s+n3_latency_p50\s+4\s+ms/);
    expect(table).toMatch(/quorum-writes \[nats\]\s+missing\s+-\s+"apt-get download etcd-server" failed: no lists; apt-get update, then rerun/);
  });

  it('draws one bar per implementation and none for a missing peer', () => {
    const spec = peerBarChart({
      title: 't',
      unit: 'ms',
      categories: [{ label: '3 processes', metric: 'n3_latency_p50' }, { label: '5 processes', metric: 'n5_latency_p50' }],
      ours: quorumResult({}).metrics,
      peers: { etcd: { ...etcd, ran: true }, nats: missing },
      names: { etcd: 'etcd 3.4' },
    });
    expect(spec.series.map((s) => s.name)).toEqual(['trinity', 'etcd 3.4', 'nats (missing)']);
    expect(spec.series[0]!.values).toEqual([2, 3]);
    expect(spec.series[1]!.values[0]).toBe(4);
    expect(Number.isNaN(spec.series[1]!.values[1])).toBe(true);
    expect(spec.series[2]!.values.every(Number.isNaN)).toBe(true);
  });
});

describe('where the time of a write goes', () => {
  const ours = {
    n3_node_cpu_per_write: metric(1.5, 'ms'),
    n3_client_cpu_per_write: metric(0.1, 'ms'),
    n3_cpu_busy_share: metric(90, '%'),
    n3_throughput: metric(1_000, 'writes/s'),
    n3_latency_p50: metric(2, 'ms'),
    n3_floor_cpu_per_write: metric(0.6, 'ms'),
  };
  const peer = (cpu: number, rate: number): PeerSection => ({
    ran: true,
    settings: {},
    metrics: { n3_node_cpu_per_write: metric(cpu, 'ms'), n3_client_cpu_per_write: metric(0.5, 'ms'), n3_cpu_busy_share: metric(40, '%'), n3_throughput: metric(rate, 'writes/s'), n3_latency_p50: metric(1.5, 'ms') },
  });

  it('says we lose on CPU when our servers spend more per write, with our floor and what is above it', () => {
    const s = writeSplit(3, ours, { etcd: peer(0.5, 2_000), gone: missingPeer('x', 'y') });
    expect(s.ours.aboveFloorMs).toBeCloseTo(0.9, 9);
    expect(s.peers.etcd!.serverCpuRatio).toBeCloseTo(3, 9);
    expect(s.peers.etcd!.throughputRatio).toBeCloseTo(0.5, 9);
    expect(Object.keys(s.peers)).toEqual(['etcd']);
    expect(s.verdicts).toHaveLength(1);
    expect(s.verdicts[0]).toContain('we lose on CPU');
    expect(s.verdicts[0]).toContain('our floor alone is 0.600 ms (above etcd');
  });

  it('says we lose on waiting when our CPU per write is not higher but we complete fewer writes', () => {
    const s = writeSplit(3, ours, { etcd: peer(1.5, 2_000) });
    expect(s.verdicts[0]).toContain('we lose on waiting');
    expect(writeSplit(3, ours, { etcd: peer(1.5, 1_000) }).verdicts[0]).toContain('no loss to explain');
  });

  it('takes each side\'s idle CPU out of its CPU per write, and says so beside the whole figure', () => {
    // 1.5 ms per write at 1,000 writes/s with 300 ms/s idle: 1.2 ms is the writes' own.
    expect(cpuPerWriteAboveIdle(1.5, 300, 1_000)).toBeCloseTo(1.2, 9);
    const withIdle = { ...ours, n3_idle_cpu_per_s: metric(300, 'ms/s'), n3_node_cpu_per_write_above_idle: metric(1.2, 'ms') };
    const base = peer(0.5, 2_000);
    const p: PeerSection = { ran: true, settings: {}, metrics: { ...(base.ran ? base.metrics : {}), n3_idle_cpu_per_s: metric(200, 'ms/s'), n3_node_cpu_per_write_above_idle: metric(0.4, 'ms') } };
    const s = writeSplit(3, withIdle, { etcd: p });
    expect(s.ours.idleCpuMsPerSec).toBe(300);
    expect(s.peers.etcd!.serverCpuAboveIdleMs).toBe(0.4);
    expect(s.verdicts[0]).toContain('less each side\'s idle CPU (300.0 against 200.0 ms/s) 1.200 against 0.400 ms (3x)');
    // Without the idle figures (an older result) the verdict is as before.
    expect(writeSplit(3, ours, { etcd: peer(0.5, 2_000) }).verdicts[0]).not.toContain('idle');
  });
});

it('names the cluster size a result was measured at in a README row that leaves it open', () => {
  const r = makeResult('crypto-operator', { n16_idle_cost: metric(1, '%'), n8_idle_cost: metric(2, '%') });
  expect(resolveSize({ metric: 'n{n}_idle_cost', label: 'cost at {n} nodes' }, r)).toEqual({ metric: 'n16_idle_cost', label: 'cost at 16 nodes' });
  expect(resolveSize({ metric: 'n{n}_other', label: 'at {n}' }, r)).toEqual({ metric: 'n{n}_other', label: 'at N' });
  expect(resolveSize({ metric: 'plain', label: 'x' }, r)).toEqual({ metric: 'plain', label: 'x' });
});

describe('encryption as an operator pays it', () => {
  it('turns two snapshots of gossip counters and CPU into per node per second figures', () => {
    const p = perNodePerSecond({ cpuS: 10, out: 100, in: 90, bytesOut: 5_000 }, { cpuS: 10.4, out: 500, in: 490, bytesOut: 25_000 }, 4, 10);
    expect(p.cpuMs).toBeCloseTo(10, 9); // 0.4 s of CPU over 4 nodes and 10 s
    expect(p.out).toBeCloseTo(10, 9);
    expect(p.in).toBeCloseTo(10, 9);
    expect(p.meanBytes).toBeCloseTo(50, 9);
    expect(Number.isNaN(perNodePerSecond({ cpuS: 0, out: 1, in: 1, bytesOut: 1 }, { cpuS: 0, out: 1, in: 1, bytesOut: 1 }, 1, 1).meanBytes)).toBe(true);
  });

  it('measures a seal and an open on the real PacketCrypto', () => {
    const c = sealOpenCost(200, 500);
    expect(c.sealUs).toBeGreaterThan(0);
    expect(c.openUs).toBeGreaterThan(0);
    expect(c.sealUs).toBeLessThan(10_000);
  });
});
