// The peers that run beside ours in `tri cluster-bench` (etcd, NATS JetStream, BullMQ on redis),
// each started for real from Debian's packages on 127.0.17.x for a small run: it must measure,
// and leave no server or worker running. Each is skipped loudly when its binary cannot be had.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureDebianBinary, ETCD, NATS, REDIS } from '../../bench/lib/debian-binary.js';
import { runBullmqThroughput } from '../../bench/peers/bullmq.js';
import { runEtcdWrites, runNatsWrites, type WritePlan } from '../../bench/peers/quorum-peers.js';
import type { PeerSection } from '../../bench/peers/ratios.js';

// This file's loopback range (the peers keep their host numbers: etcd .21-, NATS .31-, redis .41).
process.env.TRI_BENCH_NET = '127.0.17';

const plan: WritePlan = { sizes: [3], concurrency: 8, sequentialWrites: 50, loadedMs: 1_000, warmWrites: 200, warmMaxMs: 300, idleMs: 300 };
const lines: string[] = [];
const log = (m: string): void => {
  lines.push(m);
};

const found = { etcd: await ensureDebianBinary(ETCD), nats: await ensureDebianBinary(NATS), redis: await ensureDebianBinary(REDIS) };
for (const [name, r] of Object.entries(found)) if (!r.ok) console.warn(`SKIPPING ${name} reference run: ${r.reason} (${r.hint})`);

/** Processes whose command line mentions the given fragment (ours to check we left none). */
function running(fragment: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(fragment) && !l.includes('ps -eo'));
}

function ran(s: PeerSection): Extract<PeerSection, { ran: true }> {
  if (!s.ran) throw new Error(`peer did not run: ${s.missing} (${s.hint}); log: ${lines.join(' | ')}`);
  return s;
}

describe.sequential('peer reference runs', () => {
  it.skipIf(!found.etcd.ok)('etcd: 3 members, fsync per commit, measured through the etcd3 client, then stopped', async () => {
    const s = ran(await runEtcdWrites(plan, log));
    expect(s.metrics.n3_latency_p50!.value).toBeGreaterThan(0);
    expect(s.metrics.n3_throughput!.value).toBeGreaterThan(0);
    expect(s.metrics.n3_node_cpu_per_write!.value).toBeGreaterThan(0);
    expect(s.metrics.n3_errors!.value).toBe(0);
    expect(String(s.settings.version)).toMatch(/3\.\d+\.\d+/);
    expect(running('--initial-cluster-token tri-bench')).toEqual([]);
  }, 120_000);

  it.skipIf(!found.nats.ok)('NATS: JetStream KV with 3 replicas, its sync setting stated, then stopped', async () => {
    const s = ran(await runNatsWrites(plan, log));
    expect(s.metrics.n3_latency_p50!.value).toBeGreaterThan(0);
    expect(s.metrics.n3_throughput!.value).toBeGreaterThan(0);
    expect(s.metrics.n3_errors!.value).toBe(0);
    const sync = s.settings.sync as { everyWrite: boolean; note: string };
    expect(typeof sync.everyWrite).toBe('boolean');
    expect(sync.note.length).toBeGreaterThan(10);
    expect(running('tri-bench-nats-')).toEqual([]);
  }, 120_000);

  it.skipIf(!found.redis.ok)('BullMQ: 2 worker processes on redis fsyncing every write run every no-op job, then stop', async () => {
    const s = ran(await runBullmqThroughput({ workers: 2, concurrency: 4, jobs: 200, outstanding: 8 }, 'fsync-always', log));
    expect(s.metrics.tasks_per_sec!.value).toBeGreaterThan(0);
    expect(s.metrics.server_cpu_per_task!.value).toBeGreaterThan(0);
    expect(s.metrics.submit_errors!.value).toBe(0);
    expect(String(s.settings.redis)).toContain('appendfsync always');
    expect(running('bullmq-worker.js 127.0.17.41')).toEqual([]);
    expect(running('tri-bench-redis-')).toEqual([]);
    expect(running('127.0.17.41:6379')).toEqual([]); // redis retitles itself with its address
  }, 120_000);
});

it('a package Debian does not have gives the reason and how to get the peer, and leaves no torn cache', async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const cache = mkdtempSync(join(tmpdir(), 'tri-deb-cache-'));
  try {
    const r = await ensureDebianBinary({ name: 'nope', command: 'tri-no-such-command-17', packages: ['tri-no-such-package-17'], binary: 'usr/bin/nope' }, cache);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain('apt-get download tri-no-such-package-17');
    expect(r.hint).toContain('apt-get update');
    expect(readdirSync(join(cache, 'nope'))).toEqual([]); // the staging directory is gone
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}, 60_000);
