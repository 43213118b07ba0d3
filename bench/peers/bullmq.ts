// BullMQ (npm) on Debian's redis-server as the task peer, in the same scenarios as ours:
// - throughput: `workers` worker processes with `concurrency` each (as many as our nodes and
//   their slots), no-op jobs added from this process with as many adds outstanding as our
//   submits, timed from the first add until redis counts every job completed; CPU per job of
//   redis, of the workers, and of both (our nodes are server and worker in one);
// - failover: a worker holding a long job is SIGKILLed; time until a second worker runs the job
//   again, which BullMQ's stalled-job check decides (its defaults: lock 30 s, check every 30 s).
// Each with redis fsyncing every write (appendonly yes, appendfsync always) or as shipped.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue as BullQueue } from 'bullmq';
import { metric, percentile, type Metrics } from '../lib/index.js';
import { ensureDebianBinary, installHint, REDIS } from '../lib/debian-binary.js';
import { load1m, selfCpuSeconds } from '../quorum/load.js';
import { PeerProcess, sleep } from './peer-process.js';
import { guardPeer, missingPeer, type PeerSection } from './ratios.js';
import { REDIS_PORT, RedisServer, type RedisDurability } from './redis.js';

export interface BullThroughputPlan {
  workers: number;
  concurrency: number;
  jobs: number;
  /** Adds outstanding at once (ours: outstanding submits per node x nodes). */
  outstanding: number;
}

/** The compiled worker script beside this file, or under dist/ when this runs from source (vitest). */
export function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'bullmq-worker.js');
  return existsSync(beside) ? beside : resolve(here, '..', '..', 'dist', 'bench', 'peers', 'bullmq-worker.js');
}

function spawnWorker(name: string, host: string, queue: string, concurrency: number, mode: 'noop' | 'hold'): PeerProcess {
  return new PeerProcess(name, process.execPath, [workerScript(), host, String(REDIS_PORT), queue, String(concurrency), mode]);
}

/** Until a line of `p`'s output satisfies `pred` (bounded); the time it was seen. */
async function waitLine(p: PeerProcess, pred: (line: string) => boolean, timeoutMs: number, pollMs = 10): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (p.tail.some(pred)) return performance.now();
    p.assertRunning();
    await sleep(pollMs);
  }
  throw new Error(`${p.name}: no expected line within ${timeoutMs} ms; log: ${p.tail.slice(-5).join(' | ')}`);
}

async function withRedis<T>(durability: RedisDurability, run: (redis: RedisServer) => Promise<T>): Promise<T> {
  const bin = await ensureDebianBinary(REDIS);
  if (!bin.ok) throw new MissingBinary(bin.reason, bin.hint);
  const redis = new RedisServer(bin.path, bin.env, bin.root);
  try {
    await redis.start(durability);
    return await run(redis);
  } finally {
    await redis.stop();
  }
}

class MissingBinary extends Error {
  constructor(
    readonly reason: string,
    readonly hint: string,
  ) {
    super(reason);
  }
}

async function section(label: string, log: (m: string) => void, run: () => Promise<PeerSection>): Promise<PeerSection> {
  return guardPeer(installHint(REDIS), async () => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof MissingBinary) {
        log(`${label}: missing (${err.reason}); ${err.hint}`);
        return missingPeer(err.reason, err.hint);
      }
      throw err;
    }
  }, log, label);
}

async function completed(queue: BullQueue): Promise<number> {
  return (await queue.getJobCounts('completed')).completed ?? 0;
}

export function runBullmqThroughput(plan: BullThroughputPlan, durability: RedisDurability, log: (m: string) => void): Promise<PeerSection> {
  const label = `task-throughput [bullmq, redis ${durability}]`;
  return section(label, log, () =>
    withRedis(durability, async (redis) => {
      const { Queue } = await import('bullmq');
      const workers = Array.from({ length: plan.workers }, (_, i) => spawnWorker(`bullmq worker ${i + 1}`, redis.address, 'tp', plan.concurrency, 'noop'));
      const queue = new Queue('tp', { connection: { host: redis.address, port: REDIS_PORT } });
      try {
        await Promise.all(workers.map((w) => waitLine(w, (l) => l === 'ready', 30_000)));
        // Warm-up (connections, JIT), uncounted: a few jobs per worker.
        const warm = plan.workers * 4;
        await Promise.all(Array.from({ length: warm }, (_, i) => queue.add('echo', { warm: i })));
        for (let i = 0; i < 600 && (await completed(queue)) < warm; i++) await sleep(50);
        const base = await completed(queue);
        const cpu = (): { redis: number; workers: number; client: number } => ({ redis: redis.cpuSeconds(), workers: workers.reduce((a, w) => a + w.cpuSeconds(), 0), client: selfCpuSeconds() });
        const cpu0 = cpu();
        const latencies: number[] = [];
        let next = 0;
        let errors = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: plan.outstanding }, async () => {
            while (next < plan.jobs && performance.now() - started < 120_000) {
              const i = next++;
              const t0 = performance.now();
              try {
                await queue.add('echo', { i });
                latencies.push(performance.now() - t0);
              } catch {
                errors++;
              }
            }
          }),
        );
        const want = latencies.length;
        let doneMs = NaN;
        const deadline = performance.now() + 180_000;
        while (performance.now() < deadline) {
          if ((await completed(queue)) - base >= want) {
            doneMs = performance.now() - started;
            break;
          }
          await sleep(20);
        }
        if (Number.isNaN(doneMs)) throw new Error(`only ${(await completed(queue)) - base} of ${want} jobs completed within 180 s`);
        const cpu1 = cpu();
        const per = (s: number): number => Math.round(((s * 1000) / Math.max(1, want)) * 1000) / 1000;
        const rate = Math.round((want / doneMs) * 1000);
        const metrics: Metrics = {
          tasks_per_sec: metric(rate, 'tasks/s'),
          submit_latency_p50: metric(Math.round(percentile(latencies, 50) * 10) / 10, 'ms'),
          submit_latency_p99: metric(Math.round(percentile(latencies, 99) * 10) / 10, 'ms'),
          node_cpu_per_task: metric(per(cpu1.redis - cpu0.redis + cpu1.workers - cpu0.workers), 'ms'),
          server_cpu_per_task: metric(per(cpu1.redis - cpu0.redis), 'ms'),
          worker_cpu_per_task: metric(per(cpu1.workers - cpu0.workers), 'ms'),
          client_cpu_per_task: metric(per(cpu1.client - cpu0.client), 'ms'),
          submit_errors: metric(errors, 'tasks'),
          load_avg_1m: metric(load1m(), 'load'),
        };
        log(`${label}: ${want} jobs in ${(doneMs / 1000).toFixed(2)} s = ${rate} jobs/s with ${plan.workers} workers x ${plan.concurrency}; CPU per job: redis ${metrics.server_cpu_per_task!.value} ms, workers ${metrics.worker_cpu_per_task!.value} ms, client ${metrics.client_cpu_per_task!.value} ms; load ${metrics.load_avg_1m!.value}`);
        return {
          ran: true,
          metrics,
          settings: { redis: redisSettings(durability, redis.conf), workers: `${plan.workers} processes x concurrency ${plan.concurrency}, no-op processor`, adds: `${plan.outstanding} outstanding from the bench process`, jobs: plan.jobs, bullmq: 'defaults (completed jobs kept)' },
        };
      } finally {
        await queue.close().catch(() => undefined);
        await Promise.all(workers.map((w) => w.kill()));
      }
    }),
  );
}

export function runBullmqFailover(rounds: number, durability: RedisDurability, log: (m: string) => void): Promise<PeerSection> {
  const label = `task-failover [bullmq, redis ${durability}]`;
  return section(label, log, () =>
    withRedis(durability, async (redis) => {
      const { Queue } = await import('bullmq');
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const name = `fo${r}`;
        const queue = new Queue(name, { connection: { host: redis.address, port: REDIS_PORT } });
        const a = spawnWorker(`bullmq worker A${r}`, redis.address, name, 1, 'hold');
        let b: PeerProcess | undefined;
        try {
          await waitLine(a, (l) => l === 'ready', 30_000);
          const job = await queue.add('long', { round: r });
          await waitLine(a, (l) => l === `started ${job.id}`, 30_000);
          b = spawnWorker(`bullmq worker B${r}`, redis.address, name, 1, 'hold');
          await waitLine(b, (l) => l === 'ready', 30_000);
          await sleep(1_000);
          const killedAt = performance.now();
          await a.kill();
          const again = await waitLine(b, (l) => l === `started ${job.id}`, 150_000, 20);
          times.push(again - killedAt);
          log(`${label}: round ${r + 1}: job ${job.id} ran again on worker B ${((again - killedAt) / 1000).toFixed(1)} s after SIGKILL of worker A`);
        } finally {
          await queue.close().catch(() => undefined);
          await a.kill();
          await b?.kill();
        }
      }
      const r1 = (x: number): number => Math.round(x * 10) / 10;
      const sorted = [...times].sort((x, y) => x - y);
      return {
        ran: true,
        metrics: {
          failover_median: metric(r1(percentile(sorted, 50)), 'ms'),
          failover_max: metric(r1(sorted[sorted.length - 1]!), 'ms'),
          rounds: metric(times.length, 'rounds'),
        },
        settings: { redis: redisSettings(durability, redis.conf), bullmq: 'defaults: lockDuration 30 s, stalledInterval 30 s, maxStalledCount 1', measured: 'SIGKILL of the worker holding the job until a second, already running worker starts it' },
        details: { failoverMs: times.map(r1) },
      };
    }),
  );
}

function redisSettings(d: RedisDurability, conf: string | undefined): string {
  const base = conf ? `Debian's ${conf}` : 'built-in defaults (no redis.conf found)';
  return d === 'fsync-always' ? `${base} + appendonly yes, appendfsync always (fsync per write)` : `${base} as shipped (appendonly no: RDB snapshots only)`;
}
