// The quorum-writes peers, run in the same scenario as ours with the same phases: etcd (3 and 5
// members) and NATS JetStream KV (R3 and R5). Per size: an uncounted warm-up, sequential writes
// (one in flight, p50/p99), then `concurrency` in flight for a fixed time (writes/s, p50/p99
// under that load), and the CPU the servers and this client spent per write under load
// (/proc/PID/stat, process.cpuUsage). Each write stores one episode-sized value under its own key.
import { availableParallelism } from 'node:os';
import { metric, summarize, type Metrics } from '../lib/index.js';
import { ensureDebianBinary, ETCD, installHint, NATS, type DebianBinarySpec } from '../lib/debian-binary.js';
import { cpuPerWriteAboveIdle, idleCpuMsPerSec, load1m, schedMsOf, selfCpuSeconds } from '../quorum/load.js';
import { EtcdCluster } from './etcd.js';
import { NatsCluster } from './nats.js';
import { episodeValue, runOps } from './op-load.js';
import { guardPeer, missingPeer, type PeerSection } from './ratios.js';

export interface WritePlan {
  sizes: readonly number[];
  concurrency: number;
  sequentialWrites: number;
  loadedMs: number;
  /** The uncounted loaded warm-up: this many writes, or this long at most (as ours: quorum-writes.ts warmUp). */
  warmWrites: number;
  warmMaxMs: number;
  /** How long the servers' idle CPU is measured, after the sequential phase. */
  idleMs: number;
}

/** A running peer cluster as the write phases need it. */
interface WriteTarget {
  put: (i: number, worker: number) => Promise<unknown>;
  serverCpuSeconds: () => number;
  /** The servers' process ids (run-queue wait per write). */
  pids: () => (number | undefined)[];
  stop: () => Promise<void>;
  settings: Record<string, unknown>;
}

/** Runs the write phases against one started peer; metrics named as ours (n3_latency_p50, ...). */
async function measureWrites(n: number, target: WriteTarget, plan: WritePlan, label: string, log: (m: string) => void): Promise<{ metrics: Metrics; details: Record<string, unknown> }> {
  await runOps({ op: target.put, concurrency: plan.concurrency, maxOps: plan.warmWrites, maxMs: plan.warmMaxMs });
  const seq = await runOps({ op: target.put, concurrency: 1, maxOps: plan.sequentialWrites, maxMs: 30_000 });
  const s = summarize(seq.latencies);
  const idleMsPerSec = await idleCpuMsPerSec(target.serverCpuSeconds, plan.idleMs);
  const cpu0 = { server: target.serverCpuSeconds(), client: selfCpuSeconds(), sched: schedMsOf(target.pids()) };
  const tp = await runOps({ op: target.put, concurrency: plan.concurrency, maxOps: 1_000_000, maxMs: plan.loadedMs });
  const sched = schedMsOf(target.pids());
  const runQueueMs = (sched.runQueueMs - cpu0.sched.runQueueMs) / Math.max(1, tp.acked);
  const serverMs = ((target.serverCpuSeconds() - cpu0.server) * 1000) / Math.max(1, tp.acked);
  const clientMs = ((selfCpuSeconds() - cpu0.client) * 1000) / Math.max(1, tp.acked);
  const t = summarize(tp.latencies);
  const rate = (tp.acked / tp.elapsedMs) * 1000;
  const busy = busyShare(serverMs + clientMs, rate);
  const loadAvg = load1m();
  const errors = Object.values({ ...seq.errors, ...tp.errors }).reduce((a, b) => a + b, 0);
  log(`${label} n=${n}: sequential p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)} ms; ${rate.toFixed(0)} writes/s with ${plan.concurrency} in flight, p50 ${t.p50.toFixed(2)} ms p99 ${t.p99.toFixed(2)} ms; CPU per write: servers ${serverMs.toFixed(3)} ms (${cpuPerWriteAboveIdle(serverMs, idleMsPerSec, rate).toFixed(3)} above their idle ${idleMsPerSec.toFixed(1)} ms/s), client ${clientMs.toFixed(3)} ms; run-queue wait per write ${runQueueMs.toFixed(2)} ms over ${sched.threads} threads (cores busy ${(busy * 100).toFixed(0)}%), errors ${JSON.stringify({ ...seq.errors, ...tp.errors })}, load ${loadAvg}`);
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    metrics: {
      [`n${n}_latency_p50`]: metric(r2(s.p50), 'ms'),
      [`n${n}_latency_p99`]: metric(r2(s.p99), 'ms'),
      [`n${n}_throughput`]: metric(Math.round(rate), 'writes/s'),
      [`n${n}_loaded_latency_p50`]: metric(r2(t.p50), 'ms'),
      [`n${n}_loaded_latency_p99`]: metric(r2(t.p99), 'ms'),
      [`n${n}_node_cpu_per_write`]: metric(r3(serverMs), 'ms'),
      [`n${n}_client_cpu_per_write`]: metric(r3(clientMs), 'ms'),
      [`n${n}_idle_cpu_per_s`]: metric(r2(idleMsPerSec), 'ms/s'),
      [`n${n}_node_cpu_per_write_above_idle`]: metric(r3(cpuPerWriteAboveIdle(serverMs, idleMsPerSec, rate)), 'ms'),
      [`n${n}_cpu_busy_share`]: metric(r2(busy * 100), '%'),
      [`n${n}_runqueue_wait_per_write`]: metric(r2(runQueueMs), 'ms'),
      [`n${n}_server_threads`]: metric(sched.threads, 'threads'),
      [`n${n}_errors`]: metric(errors, 'writes'),
      [`n${n}_load_avg_1m`]: metric(loadAvg, 'load'),
    },
    details: { sequential: { ...s, acked: seq.acked, errors: seq.errors }, loaded: { ...t, concurrency: plan.concurrency, acked: tp.acked, elapsedMs: Math.round(tp.elapsedMs), errors: tp.errors, loadAvg1m: loadAvg } },
  };
}

/**
 * Share of the machine's cores the servers and the client kept busy under load: near 100% the
 * rate is bounded by CPU; well below, by waiting (fsync, round trips, timers).
 */
export function busyShare(cpuMsPerWrite: number, writesPerSec: number, cores = availableParallelism()): number {
  return (cpuMsPerWrite * writesPerSec) / 1000 / cores;
}

async function runPeer(
  spec: DebianBinarySpec,
  label: string,
  plan: WritePlan,
  log: (m: string) => void,
  start: (binary: string, env: Record<string, string>, n: number) => Promise<WriteTarget>,
): Promise<PeerSection> {
  const bin = await ensureDebianBinary(spec);
  if (!bin.ok) {
    log(`${label}: missing (${bin.reason}); ${bin.hint}`);
    return missingPeer(bin.reason, bin.hint);
  }
  return guardPeer(installHint(spec), async () => {
    const metrics: Metrics = {};
    const details: Record<string, unknown> = {};
    let settings: Record<string, unknown> = {};
    for (const n of plan.sizes) {
      const target = await start(bin.path, bin.env, n);
      try {
        const r = await measureWrites(n, target, plan, label, log);
        Object.assign(metrics, r.metrics);
        details[`n${n}`] = r.details;
        settings = target.settings;
      } finally {
        await target.stop();
      }
    }
    const version = await binaryVersion(bin.path, bin.env);
    return { ran: true, metrics, settings: { ...settings, binary: bin.path, version }, details };
  }, log, label);
}

export function runEtcdWrites(plan: WritePlan, log: (m: string) => void): Promise<PeerSection> {
  return runPeer(ETCD, 'quorum-writes [etcd]', plan, log, async (binary, env, n) => {
    const cluster = new EtcdCluster(binary, env);
    try {
      const leader = await cluster.start(n);
      const client = cluster.client(leader);
      return {
        put: (i, w) => client.put(`bench/agent-${i % 64}/${i}`).value(episodeValue(i, w)).exec(),
        serverCpuSeconds: () => cluster.cpuSeconds(),
        pids: () => cluster.pids(),
        stop: () => cluster.stop(),
        settings: { members: 'etcd 3.4 Raft, fsync per commit (default; no --unsafe-no-fsync)', client: 'etcd3 (gRPC) to the leader', disk: 'os.tmpdir(), as our nodes' },
      };
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  });
}

export function runNatsWrites(plan: WritePlan, log: (m: string) => void): Promise<PeerSection> {
  return runPeer(NATS, 'quorum-writes [nats]', plan, log, async (binary, env, n) => {
    const cluster = new NatsCluster(binary, env);
    try {
      const kv = await cluster.start(n);
      return {
        put: (i, w) => kv.put(`agent-${i % 64}.${i}`, episodeValue(i, w)),
        serverCpuSeconds: () => cluster.cpuSeconds(),
        pids: () => cluster.pids(),
        stop: () => cluster.stop(),
        settings: { kv: `JetStream KV, file storage, replicas = cluster size`, sync: cluster.sync, client: 'nats (npm) connected to server 1', disk: 'os.tmpdir(), as our nodes' },
      };
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  });
}

async function binaryVersion(path: string, env: Record<string, string>): Promise<string> {
  const { runCommand } = await import('../lib/run-command.js');
  const r = await runCommand('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), path, '--version'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  return (r?.stdout ?? '').trim().split('\n')[0] ?? '';
}
