// move-writes: acknowledged writes while replica sets move. 4 real `tri node start` processes
// (127.0.34.41+, RF 3, durable SQLite), steady writes through the RPC client to the 4 (never to
// the node that moves), 8 in flight over 32 agents. Phases, each under the same load:
//   steady  the 4 nodes alone;
//   join    a 5th node starts and joins: from its start until every node shows 5 voters, and 4 s
//           more (handoff of the agents whose replica set now holds it);
//   leave   the 5th node stops gracefully (SIGTERM: it leaves the voter set, drains, exits):
//           until every node shows 4 voters, and 4 s more.
// Goals (issue 21): no QuorumError caused by the move, p99 during each move at most 2x steady.
// CPU of the node processes per acknowledged write is recorded per phase (p99 moves with load).
// MOVE_WRITES_TRI=path/to/dist/src/cli/tri.js runs another build's nodes (alternated old/new runs).
// MOVE_WRITES_LOG_DIR=DIR keeps every node's info log lines (DIR/<node>.log); the JSON's
// details.phases has the wall-clock time (ms since the epoch) of each phase's start and end, to
// line them up with the nodes' logs and TRI_WRITE_TRACE's lines.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { benchPrefix } from './lib/bench-net.js';
import { metric, summarize, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { QuorumCluster } from './quorum/cluster.js';
import { load1m, procCpuSeconds, runLoad } from './quorum/load.js';
import type { NodeClient } from '../src/client/node-client.js';

export const MOVE_GOALS = { p99Ratio: 2, quorumErrors: 0 };
const PREFIX = benchPrefix('127.0.34.');
const IN_FLIGHT = 8;
const AGENTS = 32;
const HANDOFF_MS = 4_000;
/**
 * Every window polls every node's /status this often (the move windows to see the move end, the
 * steady one only so that all three carry the same polling: a /status costs a node ~4 ms of CPU,
 * and polling 10 times a second during the moves alone was about as much CPU as the writes).
 */
const POLL_MS = 1_000;

interface Window {
  latencies: number[];
  errors: Record<string, number>;
  /** The distinct refusals (digits stripped), with how many, when first (ms into the window), which node refused, and that node's view of the members then. */
  samples: Record<string, { count: number; firstAtMs: number; at?: string; view?: unknown }>;
  ms: number;
  /** CPU seconds of every node process over the window (user + system, /proc). */
  cpuS: number;
}

export async function runMoveWrites(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const logDir = process.env.MOVE_WRITES_LOG_DIR;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const logs = logDir ? { logLevel: 'info' as const, onLine: (node: string, line: string) => appendFileSync(joinPath(logDir, `${node}.log`), `${line}\n`) } : {};
  const cluster = new QuorumCluster({ prefix: PREFIX, first: 41, triArgs: ['--replication-factor', '3'], ...logs, ...(process.env.MOVE_WRITES_TRI ? { triPath: process.env.MOVE_WRITES_TRI } : {}) });
  const phases: Record<string, number> = {};
  try {
    await cluster.start(4);
    const clients: NodeClient[] = [];
    for (let i = 0; i < 4; i++) clients.push(await cluster.client(i));
    await runLoad({ clients, concurrency: IN_FLIGHT, maxWrites: opts.quick ? 400 : 1_500, maxMs: 30_000, agents: AGENTS, agentPrefix: 'move' });
    const steadyCpu0 = clusterCpu(cluster);
    phases.steadyStart = Date.now();
    const polling = pollStatus(cluster);
    const steady = await runLoad({ clients, concurrency: IN_FLIGHT, maxWrites: 1_000_000, maxMs: opts.quick ? 5_000 : 15_000, agents: AGENTS, agentPrefix: 'move' }).finally(polling.stop);
    const steadyCpuS = clusterCpu(cluster) - steadyCpu0;
    phases.joinStart = Date.now();
    const join = await underLoad(cluster, clients, async () => {
      await cluster.add(120_000, POLL_MS); // a pre-warming joiner at load 30+ took over 60 s to be ACTIVE everywhere
      phases.joinActive = Date.now();
      await settled(cluster, 5, phases, 'join');
    });
    phases.leaveStart = Date.now();
    const leave = await underLoad(cluster, clients, async () => {
      await cluster.leave(4);
      phases.leaveExited = Date.now();
      await settled(cluster, 4, phases, 'leave');
    });
    phases.leaveEnd = Date.now();
    const s = summarize(steady.latencies);
    const j = summarize(join.latencies);
    const l = summarize(leave.latencies);
    const quorumErrors = (join.errors.QuorumError ?? 0) + (leave.errors.QuorumError ?? 0);
    const otherErrors = [join.errors, leave.errors, steady.errors].flatMap((e) => Object.entries(e)).filter(([k]) => k !== 'QuorumError').reduce((a, [, v]) => a + v, 0) + (steady.errors.QuorumError ?? 0);
    const load = load1m();
    log(
      `move-writes: steady p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms (${steady.acked} writes); join p50 ${j.p50.toFixed(2)} p99 ${j.p99.toFixed(2)} ms over ${join.ms.toFixed(0)} ms (${join.latencies.length} writes, errors ${JSON.stringify(join.errors)}); ` +
        `leave p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} ms over ${leave.ms.toFixed(0)} ms (${leave.latencies.length} writes, errors ${JSON.stringify(leave.errors)}); load ${load}; ` +
        `refusals: join ${JSON.stringify(join.samples)} leave ${JSON.stringify(leave.samples)}`,
    );
    const r = (x: number): number => Math.round(x * 100) / 100;
    const metrics: Metrics = {
      steady_latency_p50: metric(r(s.p50), 'ms'),
      steady_latency_p99: metric(r(s.p99), 'ms'),
      join_latency_p50: metric(r(j.p50), 'ms'),
      join_latency_p99: metric(r(j.p99), 'ms'),
      leave_latency_p50: metric(r(l.p50), 'ms'),
      leave_latency_p99: metric(r(l.p99), 'ms'),
      join_p99_over_steady: metric(r(j.p99 / s.p99), 'x'),
      leave_p99_over_steady: metric(r(l.p99 / s.p99), 'x'),
      move_quorum_errors: metric(quorumErrors, 'writes'),
      move_other_errors: metric(otherErrors, 'writes'),
      join_window: metric(Math.round(join.ms), 'ms'),
      leave_window: metric(Math.round(leave.ms), 'ms'),
      steady_cpu_per_write: metric(r((steadyCpuS * 1e3) / Math.max(1, steady.acked)), 'ms'),
      join_cpu_per_write: metric(r((join.cpuS * 1e3) / Math.max(1, join.latencies.length)), 'ms'),
      leave_cpu_per_write: metric(r((leave.cpuS * 1e3) / Math.max(1, leave.latencies.length)), 'ms'),
      load_avg_1m: metric(load, 'load'),
    };
    const peers = {
      goals: { p99_over_steady: MOVE_GOALS.p99Ratio, quorum_errors: MOVE_GOALS.quorumErrors },
      setup: { nodes: '4 + 1 joining then leaving', replicationFactor: 3, inFlight: IN_FLIGHT, agents: AGENTS, load: 'RPC client (NodeClient.addEpisode, TLS-PSK) to the 4 steady nodes' },
      details: {
        steady: { ...s, errors: steady.errors },
        join: { ...j, errors: join.errors, refusals: join.samples, windowMs: Math.round(join.ms) },
        leave: { ...l, errors: leave.errors, refusals: leave.samples, windowMs: Math.round(leave.ms) },
        phases,
      },
    };
    return writeResult(opts.out, 'move-writes', metrics, peers).result;
  } finally {
    await cluster.stop();
  }
}

/** Polls every node's /status every POLL_MS until stopped (the steady window's share of the polling the move windows do). */
function pollStatus(cluster: QuorumCluster): { stop: () => void } {
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await Promise.all(cluster.nodes.map((_, i) => cluster.status(i).catch(() => undefined)));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  void loop();
  return { stop: () => void (stopped = true) };
}

/** CPU seconds the cluster's node processes used so far (a node that exited counts nothing more). */
function clusterCpu(cluster: QuorumCluster): number {
  return cluster.nodes.reduce((a, n) => a + (procCpuSeconds(n.proc.pid) || 0), 0);
}

/** Runs `move` while IN_FLIGHT writers keep writing; the latencies and errors of exactly that window. */
async function underLoad(cluster: QuorumCluster, clients: readonly NodeClient[], move: () => Promise<void>): Promise<Window> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const samples: Window['samples'] = {};
  let stop = false;
  let i = 0;
  const writer = async (w: number): Promise<void> => {
    const client = clients[w % clients.length]!;
    for (let n = 0; !stop && n < 200_000; n++) {
      const k = i++;
      const w0 = performance.now();
      try {
        await client.addEpisode({ agent: `move-${k % AGENTS}`, task: `move ${k}`, outcome: 'ok', note: `episode ${k}`, tags: ['bench'] });
        latencies.push(performance.now() - w0);
      } catch (err) {
        const name = (err as Error).name && (err as Error).name !== 'Error' ? (err as Error).name : 'Error';
        errors[name] = (errors[name] ?? 0) + 1;
        const what = `${name}: ${(err as Error).message.replace(/\d+/g, 'N').slice(0, 600)}`;
        const first = samples[what] === undefined;
        samples[what] ??= { count: 0, firstAtMs: Math.round(performance.now() - t0), at: cluster.nodes[w % clients.length]?.name };
        samples[what].count++;
        // What the refusing node saw then: who it counted alive, on which configuration.
        if (first) void cluster.status(w % clients.length).then((st) => (samples[what]!.view = st && { quorum: st.quorum, members: st.members.map((m) => `${m.name} ${m.state} ${m.swimState}`), moving: (st as { memory?: { movingFrom?: number[] } }).memory?.movingFrom }), () => undefined);
      }
    }
  };
  const t0 = performance.now();
  const cpu0 = clusterCpu(cluster);
  const exited = cluster.nodes.map((n) => ({ pid: n.proc.pid, last: procCpuSeconds(n.proc.pid) }));
  const sampler = setInterval(() => exited.forEach((e) => (e.last = procCpuSeconds(e.pid) || e.last)), 500);
  const writers = Array.from({ length: IN_FLIGHT }, (_, w) => writer(w));
  try {
    await move();
  } finally {
    stop = true;
    await Promise.all(writers);
    clearInterval(sampler);
  }
  // The nodes there at the start (the leaver's last sample before it exited) and any added since.
  const gone = exited.filter((e) => !cluster.nodes.some((n) => n.proc.pid === e.pid)).reduce((a, e) => a + (e.last || 0), 0);
  const cpuS = clusterCpu(cluster) + gone - cpu0;
  return { latencies, errors, samples, ms: performance.now() - t0, cpuS };
}

/**
 * Until every node shows `voters` voters (bounded: 60 s), then HANDOFF_MS more: handoff runs at
 * once on the change and every 2 s after, so the window covers the documents moving. (Counting
 * `memory.documentsMoving` down to 0 does not work under load: a writer outside an agent's set
 * holds its own writes as strays until handed off, so writes keep it above 0.)
 */
async function settled(cluster: QuorumCluster, voters: number, phases: Record<string, number>, name: string): Promise<void> {
  const ok = await cluster.waitAll((s) => s.quorum?.voters === voters, 60_000, POLL_MS);
  if (!ok) throw new Error(`the move did not reach ${voters} voters everywhere within 60 s`);
  phases[`${name}Voters`] = Date.now();
  await new Promise((r) => setTimeout(r, HANDOFF_MS));
}
