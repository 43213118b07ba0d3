// Task throughput on real processes (scenario `task-throughput`): N node processes on
// 127.0.8.131.. (default ports, `local` profile, 16 slots each: 32 nodes = 512 agent slots), one
// agent id per slot (a0..a{slots-1}), `echo` tasks submitted through every node at once with a
// bounded window of outstanding submits per node (default strategy, local-first). Measures:
//   tasks_per_sec        tasks done (as the last node's replica of the task table sees them)
//                        per second from the first submit to the last result
//   submit_latency_p50   one submit (a quorum write of the task, then its placement)
//   node_cpu_per_task    CPU of all node processes over the run, per task (robust where the
//                        wall-clock rate depends on what else runs on the machine)
//   quorum_writes_per_task, sync_messages_per_task
//                        from the nodes' /metrics: how well writes are batched (2 per task
//                        unbatched: submit+assign, outcome+episode) and what crosses the wire
// and, in-process, the routing overhead per task: route() over 32 candidates, and one scheduler
// pass (route + assign) as the task table grows, since every submit runs one. Goal: >= 2,000/s.
// And the floor (task-floor.ts): what one replica spends receiving, applying and durably storing
// one task's updates (its episode, its share of the batched task-table writes), times the
// replicas every update goes to, against the machine's cores: floor_max_tasks_per_sec is the
// most this machine could do at this node count if nothing else cost anything.
// `quick`: 4 nodes, 64 agents. Knobs (environment): TRI_TP_NODES, TRI_TP_TASKS (the first
// thousand or so mostly measure the JIT warming up), TRI_TP_WINDOW (outstanding submits per
// node), TRI_TP_DURABLE=0 (in-memory stores instead of SQLite data directories). Durable by
// default: BullMQ beside it runs on redis with appendfsync always, so our nodes fsync too (every
// task-table and episode write group-committed to SQLite, fdatasynced before it is acknowledged).
import http from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { percentile } from './lib/stats.js';
import { fetchStatus, HTTP_PORT } from './lib/proc-cluster.js';
import { load1m, procCpuSeconds } from './quorum/load.js';
import { sleep, snapshotDist, TaskProcCluster, type TaskBenchOptions } from './task-failover.js';
import { route, TaskScheduler, TaskTable, type Candidate, type SchedulerMember } from '../src/tasks/index.js';
import { floorArithmetic, measureReplicaFloor } from './task-floor.js';
import { runBullmqThroughput } from './peers/bullmq.js';
import { peerEnabled, ratioMetrics, type PeerSection } from './peers/ratios.js';
import { peerBarChart } from './peers/peer-charts.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { join } from 'node:path';

export interface ThroughputPlan {
  nodes: number;
  tasks: number;
  /** Outstanding submits per node. */
  window: number;
  durable: boolean;
}

export function planThroughput(quick: boolean): ThroughputPlan {
  const nodes = Number(process.env.TRI_TP_NODES ?? (quick ? 4 : 32));
  return {
    nodes,
    tasks: Number(process.env.TRI_TP_TASKS ?? 3_000),
    // Up to 8 nodes, one outstanding submit per slot: local-first keeps each task on its
    // submitter, and the submits a node receives in one event-loop turn share one quorum write
    // (TaskService batches them), so a deeper window means fewer, fuller writes. At 32 processes
    // on 2 cores a task costs so much more (every write is applied and acknowledged by 31 peers)
    // that 16 per node (512 outstanding) pushed submits past the 5 s write timeout and the run
    // collapsed (25 Nov 2026: 4 tasks/s, 2,168 of 3,000 submits timed out); 2 per node held.
    // Still so with the task writes' group commit (one write in flight per node): 8 per node
    // collapsed the same way (25 Nov 2026, machine shared, load ~9 before the run: 3 tasks/s,
    // 1,968 submits timed out) while 2 per node completed.
    window: Number(process.env.TRI_TP_WINDOW ?? (nodes > 8 ? 2 : 16)),
    durable: process.env.TRI_TP_DURABLE !== '0',
  };
}

/** Microseconds per route() call over `n` candidates, per strategy. */
export function measureRouting(n = 32, calls = 20_000): Record<string, number> {
  const cands: Candidate[] = Array.from({ length: n }, (_, i) => ({
    name: `n${i + 1}`,
    local: i === 0,
    freeSlots: 16,
    slots: 16,
    inFlight: i % 5,
    rttMs: 0.2 + (i % 7) * 0.1,
    throughputBytesPerSec: 1e8,
    state: 'ACTIVE',
  }));
  let x = 1;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  const out: Record<string, number> = {};
  for (const strategy of ['local-first', 'latency-aware', 'round-robin'] as const) {
    let cursor: string | null = null;
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) cursor = route(strategy, cands, { random, payloadBytes: 20, cursor }).cursor;
    out[strategy] = ((performance.now() - t0) * 1000) / calls;
  }
  return out;
}

/** Microseconds per submit + scheduler pass (what a node does per submit) with `size` tasks already in the table, all finished. */
export function measureSchedulerPass(size: number, n = 32, samples = 200): number {
  let x = 7;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  const table = new TaskTable({ node: 'n1', random });
  const members: SchedulerMember[] = Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, state: 'ACTIVE', slots: 16, freeSlots: 16, rttMs: 0.3 }));
  const sched = new TaskScheduler({ self: 'n1' });
  for (let i = 0; i < size; i++) {
    const id = table.submit({ type: 'echo', input: { i }, agent: `a${i % 512}` }, i);
    const tok = table.assign(id, 'n1', i);
    table.complete(id, { token: tok, holder: 'n1' }, { i }, i);
  }
  const t0 = performance.now();
  for (let i = 0; i < samples; i++) {
    const id = table.submit({ type: 'echo', input: { i }, agent: `a${i % 512}` }, size + i);
    sched.tick(table, members, size + i, random, size + i);
    const s = table.state(id)!;
    table.complete(id, s.current!, { i }, size + i);
  }
  return ((performance.now() - t0) * 1000) / samples;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** How long the idle cluster's CPU is sampled before the run. */
const IDLE_SAMPLE_MS = 3_000;

/** Submitting stops after this long whatever the plan, so a slow cluster still ends the run. */
const SUBMIT_WINDOW_MS = 120_000;

/** Quorum writes acknowledged and sync messages sent by a node so far (its /metrics), or undefined. */
interface WriteCounts {
  writes: number;
  messages: number;
  /** Sync messages sent, by kind (update, ack, ae-*, ...). */
  kinds: Record<string, number>;
}

function writeCounts(address: string): Promise<WriteCounts | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port: HTTP_PORT, path: '/metrics', timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let writes = 0;
        let messages = 0;
        const kinds: Record<string, number> = {};
        for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
          const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
          if (!m) continue;
          if (m[1] === 'tri_write_latency_seconds_count') writes += Number(m[3]);
          else if (m[1] === 'tri_sync_messages_total' && m[2]!.includes('direction="out"')) {
            messages += Number(m[3]);
            const kind = /kind="([^"]*)"/.exec(m[2]!)?.[1] ?? '?';
            kinds[kind] = (kinds[kind] ?? 0) + Number(m[3]);
          }
        }
        resolve({ writes, messages, kinds });
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function totalWriteCounts(cluster: TaskProcCluster): Promise<WriteCounts> {
  const all = await Promise.all(cluster.nodes.map((n) => writeCounts(n.address)));
  const total: WriteCounts = { writes: 0, messages: 0, kinds: {} };
  for (const c of all) {
    if (!c) continue;
    total.writes += c.writes;
    total.messages += c.messages;
    for (const [k, v] of Object.entries(c.kinds)) total.kinds[k] = (total.kinds[k] ?? 0) + v;
  }
  return total;
}

async function doneCounts(cluster: TaskProcCluster): Promise<number[]> {
  return Promise.all(cluster.nodes.map(async (n) => ((await fetchStatus(n.address, 5_000)) as unknown as { tasks?: { done?: number } } | undefined)?.tasks?.done ?? -1));
}

export async function runTaskThroughput(opts: TaskBenchOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const plan = planThroughput(opts.quick);
  const routing = measureRouting();
  const passes = Object.fromEntries([0, 1_000, 10_000].map((size) => [size, measureSchedulerPass(size)]));
  log(`task-throughput: route() ${JSON.stringify(routing)} us; scheduler pass by table size ${JSON.stringify(passes)} us`);
  const floor = measureReplicaFloor();
  const cores = cpus().length;
  const floorHere = floorArithmetic(floor, plan.nodes, cores, 2000);
  const floor32 = floorArithmetic(floor, 32, cores, 2000);
  log(
    `task-throughput: floor per replica per task ${floor.episodeUs.toFixed(0)} us (episode, ${floor.episodeBytes} B) + ${floor.tableUs.toFixed(0)} us (task table at ${floor.batch} tasks/write; ${floor.tableUnbatchedUs.toFixed(0)} us at 1), ` +
      `of which SQLite ${floor.storeUs.toFixed(0)} us; at ${plan.nodes} nodes ${floorHere.floor_cpu_ms_per_task!.toFixed(2)} ms/task -> at most ${Math.round(floorHere.floor_max_tasks_per_sec!)} tasks/s on ${cores} cores; at 32 nodes ${floor32.floor_cpu_ms_per_task!.toFixed(2)} ms/task -> ${Math.round(floor32.floor_max_tasks_per_sec!)} tasks/s (${Math.round(floor32.floor_max_tasks_per_sec_quorum_only!)} if only a quorum stored it), load ${load1m()}`,
  );

  const snap = snapshotDist();
  const cluster = new TaskProcCluster(snap.triPath, { firstHost: 131, profile: 'local', durable: plan.durable });
  const agents = plan.nodes * 16;
  let metrics: Metrics;
  try {
    const t0 = performance.now();
    await cluster.start(plan.nodes, 120_000, 4);
    log(`task-throughput: ${plan.nodes} nodes ACTIVE in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const clients = await Promise.all(cluster.nodes.map((n) => cluster.client(n)));
    // Warm-up: one task per node (connections, JIT), not counted.
    await sleep(plan.nodes > 8 ? 5_000 : 1_000); // let the last joiners finish their snapshots
    const warm = await Promise.allSettled(clients.map((c, i) => c.submitTask({ type: 'echo', input: { warm: i }, agent: `a${i}` })));
    const warmFailed = warm.filter((w) => w.status === 'rejected').length;
    if (warmFailed) log(`task-throughput: ${warmFailed} warm-up submits failed: ${String((warm.find((w) => w.status === 'rejected') as PromiseRejectedResult).reason)}`);
    await sleep(2_000);
    const base = await doneCounts(cluster);
    // CPU the node processes spend per task: robust where the wall-clock rate depends on what else runs.
    const nodeCpu = (): number => cluster.nodes.reduce((a, n) => a + procCpuSeconds(n.child.pid), 0);
    // What the idle cluster burns (gossip, anti-entropy) in cores: at 32 processes on 2 cores it
    // is a large part of the machine, and of node_cpu_per_task, whatever the tasks cost.
    const idle0 = nodeCpu();
    const idleStarted = performance.now();
    await sleep(IDLE_SAMPLE_MS);
    const idleCores = (nodeCpu() - idle0) / ((performance.now() - idleStarted) / 1000);
    const cpu0 = nodeCpu();
    const counts0 = await totalWriteCounts(cluster);
    let next = 0;
    let errors = 0;
    const errorKinds = new Map<string, number>();
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      clients.flatMap((c) =>
        Array.from({ length: plan.window }, async () => {
          while (next < plan.tasks && performance.now() - started < SUBMIT_WINDOW_MS) {
            const i = next++;
            const s = performance.now();
            try {
              await c.submitTask({ type: 'echo', input: { i }, agent: `a${i % agents}` });
              latencies.push(performance.now() - s);
            } catch (err) {
              errors++;
              const kind = (err as Error).name || 'Error';
              errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
            }
          }
        }),
      ),
    );
    const submittedMs = performance.now() - started;
    if (errors) log(`task-throughput: submit errors by kind ${JSON.stringify(Object.fromEntries(errorKinds))}`);
    const want = next - errors; // a timed-out submit (WriteTimeoutError) may still run: not counted
    // Every replica must see every result; the slowest replica ends the measurement.
    let doneMs = NaN;
    let last: number[] = [];
    const deadline = performance.now() + 180_000;
    while (performance.now() < deadline) {
      last = await doneCounts(cluster);
      if (last.every((d, i) => d - base[i]! >= want)) {
        doneMs = performance.now() - started;
        break;
      }
      await sleep(100);
    }
    const minDone = Math.min(...last.map((d, i) => d - base[i]!));
    const cpuSeconds = nodeCpu() - cpu0;
    const cpuPerTaskMs = (cpuSeconds * 1000) / Math.max(1, want);
    // Less what the cluster would have burnt idle over the same time (can only be an estimate).
    const taskCpuPerTaskMs = (Math.max(0, cpuSeconds - (idleCores * (performance.now() - started)) / 1000) * 1000) / Math.max(1, want);
    const counts1 = await totalWriteCounts(cluster);
    const kindsPerTask = Object.fromEntries(Object.entries(counts1.kinds).map(([k, v]) => [k, Math.round(((v - (counts0.kinds[k] ?? 0)) / Math.max(1, want)) * 100) / 100]));
    log(`task-throughput: quorum writes ${counts0.writes} -> ${counts1.writes}, sync messages sent ${counts0.messages} -> ${counts1.messages}; per task by kind ${JSON.stringify(kindsPerTask)}`);
    // Includes the background (renewals, anti-entropy): close to 2/task without batching.
    const writesPerTask = (counts1.writes - counts0.writes) / Math.max(1, want);
    const messagesPerTask = (counts1.messages - counts0.messages) / Math.max(1, want);
    const loadAvg = load1m();
    log(`task-throughput: ${next} tasks (${errors} submit errors) submitted in ${(submittedMs / 1000).toFixed(1)} s, all done everywhere in ${(doneMs / 1000).toFixed(1)} s (slowest replica ${minDone}/${want}); node CPU ${cpuPerTaskMs.toFixed(2)} ms/task (${taskCpuPerTaskMs.toFixed(2)} above the idle cluster's ${idleCores.toFixed(2)} cores), ${writesPerTask.toFixed(3)} quorum writes/task, ${messagesPerTask.toFixed(1)} sync messages/task, load ${loadAvg}`);
    metrics = {
      nodes: metric(plan.nodes, 'processes'),
      // 1: every node on a SQLite data directory (fsync before acknowledging), as redis with appendfsync always.
      durable: metric(plan.durable ? 1 : 0, 'bool'),
      agents: metric(agents, 'agents'),
      tasks: metric(next, 'tasks'),
      submit_errors: metric(errors, 'tasks'),
      tasks_per_sec: metric(Math.round((want / doneMs) * 1000), 'tasks/s'),
      submits_per_sec: metric(Math.round((latencies.length / submittedMs) * 1000), 'tasks/s'),
      submit_latency_p50: metric(Math.round(percentile(latencies, 50) * 10) / 10, 'ms'),
      submit_latency_p99: metric(Math.round(percentile(latencies, 99) * 10) / 10, 'ms'),
      node_cpu_per_task: metric(Math.round(cpuPerTaskMs * 100) / 100, 'ms'),
      node_cpu_per_task_above_idle: metric(Math.round(taskCpuPerTaskMs * 100) / 100, 'ms'),
      idle_cluster_cpu: metric(Math.round(idleCores * 100) / 100, 'cores'),
      quorum_writes_per_task: metric(Math.round(writesPerTask * 1000) / 1000, 'writes'),
      sync_messages_per_task: metric(Math.round(messagesPerTask * 10) / 10, 'messages'),
      load_avg_1m: metric(loadAvg, 'load'),
      route_local_first: metric(Math.round(routing['local-first']! * 100) / 100, 'us/task'),
      route_latency_aware: metric(Math.round(routing['latency-aware']! * 100) / 100, 'us/task'),
      route_round_robin: metric(Math.round(routing['round-robin']! * 100) / 100, 'us/task'),
      ...Object.fromEntries(Object.entries(passes).map(([size, us]) => [`scheduler_pass_table_${size}`, metric(Math.round(us), 'us/task')])),
      floor_episode_replica_us: metric(Math.round(floor.episodeUs), 'us/task'),
      floor_bare_episode_replica_us: metric(Math.round(floor.bareEpisodeUs), 'us/task'),
      floor_table_replica_us: metric(Math.round(floor.tableUs), 'us/task'),
      floor_table_unbatched_replica_us: metric(Math.round(floor.tableUnbatchedUs), 'us/task'),
      floor_store_replica_us: metric(Math.round(floor.storeUs), 'us/task'),
      floor_replica_cpu_ms_per_task: metric(round3(floorHere.floor_replica_cpu_ms_per_task!), 'ms'),
      floor_cpu_ms_per_task: metric(round3(floorHere.floor_cpu_ms_per_task!), 'ms'),
      floor_quorum_cpu_ms_per_task: metric(round3(floorHere.floor_quorum_cpu_ms_per_task!), 'ms'),
      floor_max_tasks_per_sec: metric(Math.round(floorHere.floor_max_tasks_per_sec!), 'tasks/s'),
      floor_cpu_ms_per_task_32: metric(round3(floor32.floor_cpu_ms_per_task!), 'ms'),
      floor_max_tasks_per_sec_32: metric(Math.round(floor32.floor_max_tasks_per_sec!), 'tasks/s'),
      floor_max_tasks_per_sec_32_quorum_only: metric(Math.round(floor32.floor_max_tasks_per_sec_quorum_only!), 'tasks/s'),
      floor_cores_for_goal_32: metric(Math.round(floor32.floor_cores_at_goal! * 10) / 10, 'cores'),
      cpu_above_floor: metric(Math.round((cpuPerTaskMs / floorHere.floor_cpu_ms_per_task!) * 10) / 10, 'x'),
    };
  } finally {
    await cluster.stop();
    snap.cleanup();
  }
  // BullMQ beside ours: as many worker processes as our nodes, as many jobs in flight per worker
  // as our slots, as many adds outstanding as our submits; redis fsyncing every write, then as shipped.
  const peers: Record<string, PeerSection> = {};
  if (peerEnabled('bullmq')) {
    const bullPlan = { workers: plan.nodes, concurrency: 16, jobs: plan.tasks, outstanding: plan.nodes * plan.window };
    peers.bullmq_fsync_always = await runBullmqThroughput(bullPlan, 'fsync-always', log);
    peers.bullmq_as_shipped = await runBullmqThroughput(bullPlan, 'as-shipped', log);
    for (const [name, sec] of Object.entries(peers)) if (sec.ran) Object.assign(metrics, ratioMetrics(metrics, sec.metrics, ['tasks_per_sec', 'node_cpu_per_task', 'submit_latency_p50'], name));
  }
  const scenario = opts.quick ? 'task-throughput-quick' : 'task-throughput';
  if (Object.keys(peers).length) {
    const names = { bullmq_fsync_always: 'BullMQ, redis fsync always', bullmq_as_shipped: 'BullMQ, redis as shipped' };
    const cat = (metricName: string): { label: string; metric: string }[] => [{ label: `${plan.nodes} processes`, metric: metricName }];
    writeChart(join(opts.out, `${scenario}-rate.svg`), barChartSvg(peerBarChart({ title: 'No-op tasks per second, same run', unit: 'tasks/s', categories: cat('tasks_per_sec'), ours: metrics, peers, names })));
    writeChart(join(opts.out, `${scenario}-cpu.svg`), barChartSvg(peerBarChart({ title: 'CPU per task (ours: all nodes; BullMQ: redis + workers), same run', unit: 'ms', categories: cat('node_cpu_per_task'), ours: metrics, peers, names })));
  }
  const { result, path } = writeResult(opts.out, scenario, metrics, {
    ...peers,
    goal: { tasksPerSec: 2000 },
    plan,
    floor: { ...floor, cores, arithmetic: 'floor_cpu_ms_per_task = (episode + table) per replica x (nodes - 1); floor_max_tasks_per_sec = cores / floor_cpu_ms_per_task; quorum_only: x (majority - 1) instead' },
  });
  log(`task-throughput: wrote ${path}`);
  return result;
}
