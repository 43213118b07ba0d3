// One measured run of the task-throughput scenario (task-throughput.ts) on one cluster of real
// node processes: start N nodes with a given replication factor (formed and settled as
// task-mode-form.ts says: batches, per-batch bounds, gossip profile by size), warm up, sample the idle CPU (per node too),
// submit echo tasks through every node with a bounded window, wait until every copy of every
// task table holds every result, and read the nodes' /metrics. task-throughput.ts runs it twice
// in one run: the cluster-wide task table (replication factor >= nodes, every node holds every
// task: how tasks ran before they were sharded) and tasks sharded with their agents (RF 3).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from './lib/stats.js';
import { fetchStatus, HTTP_PORT } from './lib/proc-cluster.js';
import { load1m, procCpuSeconds } from './quorum/load.js';
import { sleep, TaskProcCluster } from './task-failover.js';
import { profileBreakdown, type ProfileBreakdown } from './task-profile.js';
import { formCluster, runProfile, waitSettled, type GossipProfile } from './task-mode-form.js';
import { cpus } from 'node:os';

export interface ThroughputPlan {
  nodes: number;
  tasks: number;
  /** Outstanding submits per node. */
  window: number;
  durable: boolean;
}

export interface ModeFigures {
  replicationFactor: number;
  /** Whether tasks were sharded (replication factor below the node count). */
  sharded: boolean;
  tasks: number;
  errors: number;
  tasksPerSec: number;
  submitsPerSec: number;
  submitP50: number;
  submitP99: number;
  cpuPerTaskMs: number;
  taskCpuPerTaskMs: number;
  idleCores: number;
  writesPerTask: number;
  messagesPerTask: number;
  kindsPerTask: Record<string, number>;
  loadAvg: number;
  /** Node CPU per task per node (cpuPerTaskMs / nodes): what one process spends, the figure to set against the floor per node. */
  cpuPerTaskPerNodeMs: number;
  /** Idle CPU per node, ms per second: what one quiet process burns (gossip, anti-entropy, timers, the bench's polling). */
  idleMsPerSecPerNode: number;
  /** The same for n1 alone (the node the bench polls during formation, and the first scheduler). */
  idleMsPerSecN1: number;
  /** Gossip profile the nodes ran with. */
  gossipProfile: GossipProfile;
  /** Seconds from the first start until n1 listed every node ACTIVE, and until placement settled. */
  formS: number;
  settleS: number;
  /** With TRI_TASK_BENCH_PROF: where the nodes' busy time went while tasks ran (task-profile.ts). */
  profile?: ProfileBreakdown;
}

/**
 * How long the formed cluster may take to settle placement (one configuration, nothing moving):
 * 120 s up to 8 nodes, 8 s more per node beyond. Formation itself is bounded per batch (task-mode-form.ts).
 */
export function formationBoundMs(nodes: number): number {
  return 120_000 + 8_000 * Math.max(0, nodes - 8);
}

/** How long the idle cluster's CPU is sampled before the run (longer for many nodes: /proc counts 10 ms ticks). */
const idleSampleMs = (nodes: number): number => (nodes > 8 ? 10_000 : 3_000);

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

/** Runs one mode on a fresh cluster of `plan.nodes` processes started with `--replication-factor replicationFactor`. */
export async function runThroughputMode(triPath: string, plan: ThroughputPlan, replicationFactor: number, log: (m: string) => void): Promise<ModeFigures> {
  const span = { fromUs: 0, toUs: 0, pids: [] as number[] };
  const figures = await measureMode(triPath, plan, replicationFactor, log, span);
  // The profiles are written when the nodes exit (measureMode stopped them).
  const profDir = process.env.TRI_TASK_BENCH_PROF;
  if (profDir) {
    figures.profile = profileBreakdown(profDir, span.pids, span.fromUs, span.toUs, Math.max(1, figures.tasks - figures.errors));
    if (figures.profile) log(`task-throughput [RF ${replicationFactor}]: where the nodes' busy time went (${figures.profile.busyPct}% busy; % of busy, ms per task): ${Object.entries(figures.profile.sharePct).map(([k, v]) => `${k} ${v}% ${figures.profile!.msPerTask[k]}`).join('; ')}`);
    if (figures.profile) log(`task-throughput [RF ${replicationFactor}]: our functions with the most busy time, callees included (% of busy): ${Object.entries(figures.profile.inclusivePct).slice(0, 24).map(([k, v]) => `${k} ${v}%`).join('; ')}`);
  }
  return figures;
}

/** Monotonic microseconds, the clock V8 stamps profile samples with. */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function measureMode(triPath: string, plan: ThroughputPlan, replicationFactor: number, log: (m: string) => void, span: { fromUs: number; toUs: number; pids: number[] }): Promise<ModeFigures> {
  const profile = runProfile(plan.nodes);
  const cluster = new TaskProcCluster(triPath, { firstHost: 131, profile, durable: plan.durable, extraArgs: ['--replication-factor', String(replicationFactor)] });
  const sharded = replicationFactor < plan.nodes;
  const agents = plan.nodes * 16;
  try {
    const t0 = performance.now();
    await formCluster(cluster, plan.nodes, cpus().length, log);
    const formS = (performance.now() - t0) / 1000;
    const settleS = (await waitSettled(cluster, plan.nodes, formationBoundMs(plan.nodes))) / 1000;
    log(`task-throughput [RF ${replicationFactor}]: ${plan.nodes} nodes ACTIVE in ${formS.toFixed(1)} s, placement settled ${settleS.toFixed(1)} s later (gossip profile ${profile}), load ${load1m()}`);
    const clients = await Promise.all(cluster.nodes.map((n) => cluster.client(n)));
    // Warm-up: one task per node (connections, JIT), not counted.
    await sleep(1_000); // placement settled above; let the last timers of formation fire
    const warm = await Promise.allSettled(clients.map((c, i) => c.submitTask({ type: 'echo', input: { warm: i }, agent: `a${i}` })));
    const warmFailed = warm.filter((w) => w.status === 'rejected').length;
    if (warmFailed) log(`task-throughput [RF ${replicationFactor}]: ${warmFailed} warm-up submits failed: ${String((warm.find((w) => w.status === 'rejected') as PromiseRejectedResult).reason)}`);
    await sleep(2_000);
    const base = await doneCounts(cluster);
    // CPU the node processes spend per task: robust where the wall-clock rate depends on what else runs.
    const nodeCpu = (): number => cluster.nodes.reduce((a, n) => a + procCpuSeconds(n.child.pid), 0);
    // What the idle cluster burns (gossip, anti-entropy) in cores: at 32 processes on 2 cores it
    // is a large part of the machine, and of node_cpu_per_task, whatever the tasks cost.
    const perNode0 = cluster.nodes.map((n) => procCpuSeconds(n.child.pid));
    const idleStarted = performance.now();
    await sleep(idleSampleMs(plan.nodes));
    const idleS = (performance.now() - idleStarted) / 1000;
    const perNodeIdle = cluster.nodes.map((n, i) => (procCpuSeconds(n.child.pid) - perNode0[i]!) / idleS);
    const idleCores = perNodeIdle.reduce((a, b) => a + b, 0);
    const idleMsPerSecPerNode = (idleCores * 1000) / plan.nodes;
    const idleMsPerSecN1 = perNodeIdle[0]! * 1000;
    log(`task-throughput [RF ${replicationFactor}]: idle ${idleCores.toFixed(3)} cores = ${idleMsPerSecPerNode.toFixed(1)} ms/s per node (n1 ${idleMsPerSecN1.toFixed(1)}, busiest ${(Math.max(...perNodeIdle) * 1000).toFixed(1)}) over ${idleS.toFixed(1)} s, load ${load1m()}`);
    const cpu0 = nodeCpu();
    span.fromUs = monoUs();
    span.pids = cluster.nodes.map((n) => n.child.pid ?? -1);
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
    if (errors) log(`task-throughput [RF ${replicationFactor}]: submit errors by kind ${JSON.stringify(Object.fromEntries(errorKinds))}`);
    const want = next - errors; // a timed-out submit (WriteTimeoutError) may still run: not counted
    // Every replica must see every result; the slowest replica ends the measurement.
    let doneMs = NaN;
    let last: number[] = [];
    const deadline = performance.now() + 180_000;
    while (performance.now() < deadline) {
      last = await doneCounts(cluster);
      // Sharded: each task's table is on exactly RF nodes, so every copy has it when the sum is RF x want.
      if (sharded ? last.reduce((a, d, i) => a + d - base[i]!, 0) >= replicationFactor * want : last.every((d, i) => d - base[i]! >= want)) {
        doneMs = performance.now() - started;
        break;
      }
      await sleep(100);
    }
    const minDone = sharded ? Math.floor(last.reduce((a, d, i) => a + d - base[i]!, 0) / replicationFactor) : Math.min(...last.map((d, i) => d - base[i]!));
    const cpuSeconds = nodeCpu() - cpu0;
    span.toUs = monoUs();
    const cpuPerTaskMs = (cpuSeconds * 1000) / Math.max(1, want);
    // Less what the cluster would have burnt idle over the same time (can only be an estimate).
    const taskCpuPerTaskMs = (Math.max(0, cpuSeconds - (idleCores * (performance.now() - started)) / 1000) * 1000) / Math.max(1, want);
    const counts1 = await totalWriteCounts(cluster);
    const kindsPerTask = Object.fromEntries(Object.entries(counts1.kinds).map(([k, v]) => [k, Math.round(((v - (counts0.kinds[k] ?? 0)) / Math.max(1, want)) * 100) / 100]));
    log(`task-throughput [RF ${replicationFactor}]: quorum writes ${counts0.writes} -> ${counts1.writes}, sync messages sent ${counts0.messages} -> ${counts1.messages}; per task by kind ${JSON.stringify(kindsPerTask)}`);
    // Includes the background (renewals, anti-entropy): close to 2/task without batching.
    const writesPerTask = (counts1.writes - counts0.writes) / Math.max(1, want);
    const messagesPerTask = (counts1.messages - counts0.messages) / Math.max(1, want);
    const loadAvg = load1m();
    log(`task-throughput [RF ${replicationFactor}]: ${next} tasks (${errors} submit errors) submitted in ${(submittedMs / 1000).toFixed(1)} s, all done everywhere in ${(doneMs / 1000).toFixed(1)} s (slowest replica ${minDone}/${want}); node CPU ${cpuPerTaskMs.toFixed(2)} ms/task (${taskCpuPerTaskMs.toFixed(2)} above the idle cluster's ${idleCores.toFixed(2)} cores), ${writesPerTask.toFixed(3)} quorum writes/task, ${messagesPerTask.toFixed(1)} sync messages/task, load ${loadAvg}`);
    return {
      replicationFactor,
      sharded,
      tasks: next,
      errors,
      tasksPerSec: Math.round((want / doneMs) * 1000),
      submitsPerSec: Math.round((latencies.length / submittedMs) * 1000),
      submitP50: Math.round(percentile(latencies, 50) * 10) / 10,
      submitP99: Math.round(percentile(latencies, 99) * 10) / 10,
      cpuPerTaskMs,
      taskCpuPerTaskMs,
      idleCores,
      writesPerTask,
      messagesPerTask,
      kindsPerTask,
      loadAvg,
      cpuPerTaskPerNodeMs: cpuPerTaskMs / plan.nodes,
      idleMsPerSecPerNode,
      idleMsPerSecN1,
      gossipProfile: profile,
      formS,
      settleS,
    };
  } finally {
    await cluster.stop();
  }
}
