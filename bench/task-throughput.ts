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
// Two modes in the same run, each on a fresh cluster (task-mode.ts): the cluster-wide task table
// (replication factor >= the node count, at most 31: every node stores and acknowledges every
// task, how tasks ran before they were sharded; the metrics keep their old names) and tasks
// sharded with their agents at RF 3 (`sharded_*`: each agent's tasks and memory on its 3
// replicas; done when the copies of all shards hold every result, RF x tasks in the nodes'
// /status counts). Goal for the sharded mode at 32 processes: >= 1,000/s, <= 8 sync messages per task.
// And, in-process, the routing overhead per task: route() over 32 candidates, and one scheduler
// pass (route + assign) as the task table grows, since every submit runs one. Goal: >= 2,000/s.
// And the floor (task-floor.ts): what one replica spends receiving, applying and durably storing
// one task's updates (its episode, its share of the batched task-table writes), times the
// replicas every update goes to, against the machine's cores: floor_max_tasks_per_sec is the
// most this machine could do at this node count if nothing else cost anything.
// `quick`: 4 nodes, 64 agents. Knobs (environment): TRI_TP_NODES, TRI_TP_TASKS (the first
// thousand or so mostly measure the JIT warming up), TRI_TP_WINDOW (outstanding submits per
// node), TRI_TP_DURABLE=0 (in-memory stores instead of SQLite data directories),
// TRI_TASK_BENCH_PROF=DIR (nodes under --cpu-prof; each mode's figures then say where the nodes'
// busy time went while tasks ran, task-profile.ts). Durable by
// default: BullMQ beside it runs on redis with appendfsync always, so our nodes fsync too (every
// task-table and episode write group-committed to SQLite, fdatasynced before it is acknowledged).
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { load1m } from './quorum/load.js';
import { snapshotDist, type TaskBenchOptions } from './task-failover.js';
import { runThroughputMode, type ModeFigures, type ThroughputPlan } from './task-mode.js';
import { route, TaskScheduler, TaskTable, type Candidate, type SchedulerMember } from '../src/tasks/index.js';
import { floorArithmetic, measureReplicaFloor } from './task-floor.js';
import { measureTaskStages, stagesArithmetic, type TaskStages } from './task-stages.js';
import { runBullmqThroughput } from './peers/bullmq.js';
import { peerEnabled, ratioMetrics, type PeerSection } from './peers/ratios.js';
import { peerBarChart } from './peers/peer-charts.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { join } from 'node:path';

export type { ThroughputPlan } from './task-mode.js';

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

/** The in-process stages of one task (task-stages.ts) as metrics. */
function stageMetrics(s: TaskStages, a: ReturnType<typeof stagesArithmetic>): Metrics {
  const us = (x: number): { value: number; unit: string } => metric(Math.round(x * 10) / 10, 'us/task');
  return {
    stage_writer_submit_us: us(s.writerSubmitUs),
    stage_writer_answer_us: us(s.writerAnswerUs),
    stage_writer_outcome_us: us(s.writerOutcomeUs),
    stage_writer_episode_us: us(s.writerEpisodeUs),
    stage_replica_table_us: us(s.replicaTableUs),
    stage_replica_episode_us: us(s.replicaEpisodeUs),
    stage_recall_fold_us: us(s.recallFoldUs),
    stage_cluster_us: us(a.clusterUs),
    stage_sealed_episode_saving_us: us(a.sealedSavingUs),
  };
}

/** Tasks sharded with their agents: the replication factor of the sharded mode. */
const SHARDED_RF = 3;

/** The smallest odd replication factor (at most 31) with every node holding every task. */
export function fullReplicationFactor(nodes: number): number {
  return Math.min(31, nodes % 2 === 1 ? nodes : nodes + 1);
}

/** One mode's figures as metrics, names prefixed (the cluster-wide table's keep their old names). */
function modeMetrics(f: ModeFigures, prefix: string): Metrics {
  return {
    [`${prefix}tasks`]: metric(f.tasks, 'tasks'),
    [`${prefix}submit_errors`]: metric(f.errors, 'tasks'),
    [`${prefix}tasks_per_sec`]: metric(f.tasksPerSec, 'tasks/s'),
    [`${prefix}submits_per_sec`]: metric(f.submitsPerSec, 'tasks/s'),
    [`${prefix}submit_latency_p50`]: metric(f.submitP50, 'ms'),
    [`${prefix}submit_latency_p99`]: metric(f.submitP99, 'ms'),
    [`${prefix}node_cpu_per_task`]: metric(Math.round(f.cpuPerTaskMs * 100) / 100, 'ms'),
    [`${prefix}node_cpu_per_task_above_idle`]: metric(Math.round(f.taskCpuPerTaskMs * 100) / 100, 'ms'),
    [`${prefix}idle_cluster_cpu`]: metric(Math.round(f.idleCores * 100) / 100, 'cores'),
    [`${prefix}quorum_writes_per_task`]: metric(Math.round(f.writesPerTask * 1000) / 1000, 'writes'),
    [`${prefix}sync_messages_per_task`]: metric(Math.round(f.messagesPerTask * 10) / 10, 'messages'),
  };
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
    `task-throughput: floor per replica per task ${floor.episodeUs.toFixed(0)} us (episode, ${floor.episodeBytes} B; ${floor.sealedEpisodeUs.toFixed(0)} us as one value) + ${floor.tableUs.toFixed(0)} us (task table at ${floor.batch} tasks/write; ${floor.tableUnbatchedUs.toFixed(0)} us at 1), ` +
      `of which SQLite ${floor.storeUs.toFixed(0)} us; at ${plan.nodes} nodes ${floorHere.floor_cpu_ms_per_task!.toFixed(2)} ms/task -> at most ${Math.round(floorHere.floor_max_tasks_per_sec!)} tasks/s on ${cores} cores; at 32 nodes ${floor32.floor_cpu_ms_per_task!.toFixed(2)} ms/task -> ${Math.round(floor32.floor_max_tasks_per_sec!)} tasks/s (${Math.round(floor32.floor_max_tasks_per_sec_quorum_only!)} if only a quorum stored it), load ${load1m()}`,
  );

  // One task end to end, stage by stage, in-process (task-stages.ts): what of a node's CPU per task the task path itself explains.
  const stages = measureTaskStages();
  const stagesHere = stagesArithmetic(stages, plan.nodes);
  log(`task-throughput: one task in-process (us): ${Object.entries(stages).filter(([k]) => k.endsWith('Us')).map(([k, v]) => `${k} ${(v as number).toFixed(1)}`).join(', ')}; at ${plan.nodes} nodes ${stagesHere.clusterUs.toFixed(0)} us per task (recall ${(stagesHere.recallShare * 100).toFixed(0)}%; an episode as one value would save ${stagesHere.sealedSavingUs.toFixed(0)} us), load ${load1m()}`);

  const snap = snapshotDist();
  // The cluster-wide task table (every node holds every task: RF at least the node count, at most
  // 31, so 31 of 32 at 32 processes), then tasks sharded with their agents at RF 3, in one run.
  // TRI_TP_MODES=sharded runs the sharded mode alone (at 32 processes on a loaded 2-core machine
  // the cluster-wide table's run, every task on 31 nodes, takes many minutes and says little).
  const modes = (process.env.TRI_TP_MODES ?? 'full,sharded').split(',').map((m) => m.trim());
  if (!modes.includes('full') && !modes.includes('sharded')) throw new Error(`TRI_TP_MODES lists "full" and/or "sharded", got "${process.env.TRI_TP_MODES}"`);
  let full: ModeFigures | undefined;
  let sharded: ModeFigures | undefined;
  try {
    if (modes.includes('full')) full = await runThroughputMode(snap.triPath, plan, fullReplicationFactor(plan.nodes), log);
    if (modes.includes('sharded')) sharded = await runThroughputMode(snap.triPath, plan, SHARDED_RF, log);
  } finally {
    snap.cleanup();
  }
  const floorSharded = floorArithmetic(floor, SHARDED_RF, cores, 2000);
  const agents = plan.nodes * 16;
  const metrics: Metrics = {
    nodes: metric(plan.nodes, 'processes'),
    // 1: every node on a SQLite data directory (fsync before acknowledging), as redis with appendfsync always.
    durable: metric(plan.durable ? 1 : 0, 'bool'),
    agents: metric(agents, 'agents'),
    ...(full && {
      replication_factor_full: metric(full.replicationFactor, 'replicas'),
      ...modeMetrics(full, ''),
      load_avg_1m: metric(full.loadAvg, 'load'),
      cpu_above_floor: metric(Math.round((full.cpuPerTaskMs / floorHere.floor_cpu_ms_per_task!) * 10) / 10, 'x'),
    }),
    route_local_first: metric(Math.round(routing['local-first']! * 100) / 100, 'us/task'),
    route_latency_aware: metric(Math.round(routing['latency-aware']! * 100) / 100, 'us/task'),
    route_round_robin: metric(Math.round(routing['round-robin']! * 100) / 100, 'us/task'),
    ...Object.fromEntries(Object.entries(passes).map(([size, us]) => [`scheduler_pass_table_${size}`, metric(Math.round(us), 'us/task')])),
    floor_episode_replica_us: metric(Math.round(floor.episodeUs), 'us/task'),
    floor_bare_episode_replica_us: metric(Math.round(floor.bareEpisodeUs), 'us/task'),
    floor_sealed_episode_replica_us: metric(Math.round(floor.sealedEpisodeUs), 'us/task'),
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
    ...stageMetrics(stages, stagesHere),
    // Sharded (RF 3): each task's updates go to its agent's 3 replicas only, whatever the node count.
    ...(sharded && {
      replication_factor_sharded: metric(SHARDED_RF, 'replicas'),
      ...modeMetrics(sharded, 'sharded_'),
      sharded_load_avg_1m: metric(sharded.loadAvg, 'load'),
      sharded_floor_cpu_ms_per_task: metric(round3(floorSharded.floor_cpu_ms_per_task!), 'ms'),
      sharded_floor_max_tasks_per_sec: metric(Math.round(floorSharded.floor_max_tasks_per_sec!), 'tasks/s'),
      sharded_cpu_above_floor: metric(Math.round((sharded.cpuPerTaskMs / floorSharded.floor_cpu_ms_per_task!) * 10) / 10, 'x'),
      // Per node: what each process spends per task, against the floor's share per node.
      sharded_node_cpu_per_task_per_node: metric(Math.round((sharded.cpuPerTaskMs / plan.nodes) * 1000) / 1000, 'ms'),
      sharded_floor_cpu_ms_per_task_per_node: metric(round3(floorSharded.floor_cpu_ms_per_task! / plan.nodes), 'ms'),
    }),
    ...(full && sharded && { sharded_speedup: metric(Math.round((sharded.tasksPerSec / Math.max(1, full.tasksPerSec)) * 100) / 100, 'x') }),
  };
  // BullMQ beside ours: as many worker processes as our nodes, as many jobs in flight per worker
  // as our slots, as many adds outstanding as our submits; redis fsyncing every write, then as shipped.
  const peers: Record<string, PeerSection> = {};
  if (peerEnabled('bullmq') && full) {
    const bullPlan = { workers: plan.nodes, concurrency: 16, jobs: plan.tasks, outstanding: plan.nodes * plan.window };
    peers.bullmq_fsync_always = await runBullmqThroughput(bullPlan, 'fsync-always', log);
    peers.bullmq_as_shipped = await runBullmqThroughput(bullPlan, 'as-shipped', log);
    for (const [name, sec] of Object.entries(peers)) if (sec.ran) Object.assign(metrics, ratioMetrics(metrics, sec.metrics, ['tasks_per_sec', 'node_cpu_per_task', 'submit_latency_p50'], name));
  }
  // A sharded-only run is its own result (it has no cluster-wide figures), named by its size.
  const scenario = !full ? `task-throughput-sharded-${plan.nodes}p` : opts.quick ? 'task-throughput-quick' : 'task-throughput';
  if (Object.keys(peers).length) {
    const names = { bullmq_fsync_always: 'BullMQ, redis fsync always', bullmq_as_shipped: 'BullMQ, redis as shipped' };
    const cat = (metricName: string): { label: string; metric: string }[] => [{ label: `${plan.nodes} processes`, metric: metricName }];
    writeChart(join(opts.out, `${scenario}-rate.svg`), barChartSvg(peerBarChart({ title: 'No-op tasks per second, same run', unit: 'tasks/s', categories: cat('tasks_per_sec'), ours: metrics, peers, names })));
    writeChart(join(opts.out, `${scenario}-cpu.svg`), barChartSvg(peerBarChart({ title: 'CPU per task (ours: all nodes; BullMQ: redis + workers), same run', unit: 'ms', categories: cat('node_cpu_per_task'), ours: metrics, peers, names })));
  }
  const { result, path } = writeResult(opts.out, scenario, metrics, {
    ...peers,
    goal: { tasksPerSec: 2000, shardedTasksPerSec: 1000, shardedSyncMessagesPerTask: 8 },
    modes: { full, sharded },
    plan,
    stages,
    floor: { ...floor, cores, arithmetic: 'floor_cpu_ms_per_task = (episode + table) per replica x (nodes - 1); floor_max_tasks_per_sec = cores / floor_cpu_ms_per_task; quorum_only: x (majority - 1) instead; sharded_: x (RF - 1), the other replicas of the agent' },
  });
  log(`task-throughput: wrote ${path}`);
  return result;
}
