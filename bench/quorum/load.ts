// Load generation for the quorum benchmarks: acknowledged episode writes through the RPC client
// (NodeClient.addEpisode, TLS-PSK, the path `tri memory add` takes), with a fixed number of
// requests in flight spread over the clients given. Bounded by count and by time.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { NodeClient } from '../../src/client/node-client.js';

export interface LoadResult {
  /** Latency of each acknowledged write, ms, as the client saw it (RPC round trip included). */
  latencies: number[];
  acked: number;
  /** Failures by error class name (QuorumError, WriteTimeoutError, ...). */
  errors: Record<string, number>;
  elapsedMs: number;
}

export interface LoadOptions {
  clients: readonly NodeClient[];
  /** Requests in flight at once (workers); worker w uses clients[w % clients.length]. */
  concurrency: number;
  /** Stop after this many writes were issued ... */
  maxWrites: number;
  /** ... or once this much time passed, whichever first. */
  maxMs: number;
  /** Agent ids the writes rotate over (one Yjs document each). */
  agents: number;
  agentPrefix?: string;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let issued = 0;
  const started = performance.now();
  const deadline = started + o.maxMs;
  const prefix = o.agentPrefix ?? 'bench';
  const worker = async (w: number): Promise<void> => {
    const client = o.clients[w % o.clients.length]!;
    while (issued < o.maxWrites && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        await client.addEpisode({ agent: `${prefix}-${i % o.agents}`, task: `task ${i}`, outcome: 'ok', note: `episode ${i} from worker ${w}`, tags: ['bench'] });
        latencies.push(performance.now() - t0);
      } catch (err) {
        const name = (err as Error).name && (err as Error).name !== 'Error' ? (err as Error).name : ((err as Error).message.split(':')[0] ?? 'Error');
        errors[name] = (errors[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  return { latencies, acked: latencies.length, errors, elapsedMs: performance.now() - started };
}

export function load1m(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux); NaN elsewhere. */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/**
 * Scheduler figures of a process from /proc (Linux; zeros elsewhere), summed over its threads:
 * ms on a CPU and ms runnable but waiting for one (the run queue), and its thread count. On a
 * machine with more runnable threads than cores, a write's wake-ups (RPC in, push in, fsync
 * returned, ack in) each wait here: time that shows as neither CPU nor I/O.
 */
export function procSchedMs(pid: number | undefined): { cpuMs: number; runQueueMs: number; threads: number } {
  const out = { cpuMs: 0, runQueueMs: 0, threads: 0 };
  if (pid === undefined) return out;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const [onCpu, waiting] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').trim().split(' ').map(Number);
      out.cpuMs += (onCpu ?? 0) / 1e6;
      out.runQueueMs += (waiting ?? 0) / 1e6;
      out.threads++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** procSchedMs summed over processes. */
export function schedMsOf(pids: readonly (number | undefined)[]): { cpuMs: number; runQueueMs: number; threads: number } {
  return pids.map(procSchedMs).reduce((a, b) => ({ cpuMs: a.cpuMs + b.cpuMs, runQueueMs: a.runQueueMs + b.runQueueMs, threads: a.threads + b.threads }), { cpuMs: 0, runQueueMs: 0, threads: 0 });
}

/**
 * CPU ms per second a set of servers spends with no writes at all (membership, heartbeats,
 * timers) over `ms` of idle: the part of CPU per write under load that is not per write. /proc
 * counts in 10 ms ticks per process, so give it a few seconds. Waits `settleMs` first (the
 * previous phase's last commits and syncs).
 */
export async function idleCpuMsPerSec(cpuSeconds: () => number, ms: number, settleMs = 500): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((cpuSeconds() - c0) * 1000) / ((performance.now() - t0) / 1000);
}

/** Server CPU per write under load less the idle rate: what the writes themselves cost (ms). */
export function cpuPerWriteAboveIdle(serverMsPerWrite: number, idleMsPerSec: number, writesPerSec: number): number {
  return serverMsPerWrite - idleMsPerSec / Math.max(1e-9, writesPerSec);
}

/** CPU seconds of this process so far. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Cumulative acknowledged-write counts by upper bound (s) from a node's /metrics (tri_write_latency_seconds). */
export async function writeLatencyBuckets(address: string, httpPort = 10_080): Promise<Map<number, number>> {
  const http = await import('node:http');
  const text = await new Promise<string>((resolve, reject) => {
    const req = http.get({ host: address, port: httpPort, path: '/metrics', timeout: 3_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('tri_write_latency_seconds_bucket') || !line.includes('outcome="acknowledged"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le !== undefined) out.set(le === '+Inf' ? Infinity : Number(le), v);
  }
  return out;
}

/** Share (0-1) of the writes between two bucket snapshots that took at most `le` seconds. */
export function shareWithin(before: Map<number, number>, after: Map<number, number>, le: number): number {
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  const within = (after.get(le) ?? 0) - (before.get(le) ?? 0);
  return total > 0 ? within / total : NaN;
}
