// Task failover on real processes (DESIGN.md "Benchmarks", scenario `task-failover`): a 3-node
// cluster (127.0.8.101-103, default ports) runs a long `sleep` task on n3 (submitted there,
// local-first); n3 is SIGKILLed and we time, on the scheduling leader n1:
//   detection  SIGKILL -> n1 lists n3 as FAILED
//   failover   SIGKILL -> the task is running again on a survivor (new token, the executor has it)
// for the `lan` and `local` gossip profiles, a fresh cluster per round. The goal is failover
// <= detection + 1 s; published figures for comparison: Akka ~25-45 s, Orleans ~90 s, BullMQ
// 30-60 s (their default failure detectors / stalled-job checks).
//
// Also exports the small process launcher the task benchmarks share (TaskProcCluster: nodes on
// 127.0.8.x only, every process SIGKILLed on stop and on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { median, summarize } from './lib/stats.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { defaultTriPath } from './lib/proc-cluster.js';
import { benchPrefix } from './lib/bench-net.js';
import { runBullmqFailover } from './peers/bullmq.js';
import { peerEnabled, ratioMetrics, type PeerSection } from './peers/ratios.js';
import { NodeClient } from '../src/client/node-client.js';
import type { TaskView } from '../src/tasks/index.js';
import type { MemberView } from '../src/node/cluster-node.js';

export const TASK_BENCH_PREFIX = benchPrefix('127.0.8.');
/** Set TRI_TASK_BENCH_LOGS=DIR to keep every node's info-level log in DIR/<name>.log (diagnosis). */
const LOG_DIR = process.env.TRI_TASK_BENCH_LOGS;
/** Set TRI_TASK_BENCH_PROF=DIR to run every node with --cpu-prof into DIR (nodes then stop with SIGTERM, so the profile is written). */
const PROF_DIR = process.env.TRI_TASK_BENCH_PROF;

export interface TaskBenchOptions {
  out: string;
  quick: boolean;
  log?: (msg: string) => void;
}

// ---- a launcher for our node processes on 127.0.8.x -------------------------------------------

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export interface TaskProc {
  name: string;
  address: string;
  child: ChildProcess;
  tail: string[];
}

export class TaskProcCluster {
  readonly nodes: TaskProc[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'tri-task-bench-'));
  readonly key = randomBytes(32).toString('base64');
  private readonly keyFile = join(this.dir, 'cluster.key');
  private readonly clients = new Map<string, NodeClient>();

  constructor(
    private readonly triPath: string,
    private readonly opts: { firstHost: number; profile: 'lan' | 'local' | 'wan'; slots?: number; durable?: boolean; extraArgs?: string[]; nodeArgs?: string[] },
  ) {
    hookExit();
    writeFileSync(this.keyFile, `${this.key}\n`, { mode: 0o600 });
  }

  address(i: number): string {
    const host = this.opts.firstHost + i;
    if (host < 1 || host > 254) throw new Error(`node ${i} would leave ${TASK_BENCH_PREFIX}1-254`);
    return `${TASK_BENCH_PREFIX}${host}`;
  }

  /** Spawns node i (name n{i+1}), joining through the nodes `seeds` (default node 0) unless it is node 0. Does not wait. */
  spawnNode(i: number, seeds: readonly number[] = [0]): TaskProc {
    const name = `n${i + 1}`;
    const address = this.address(i);
    const args = [...(this.opts.nodeArgs ?? []), ...(PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : []), this.triPath, 'node', 'start', '--name', name, '--bind', address, '--key-file', this.keyFile, '--profile', this.opts.profile, '--log-level', LOG_DIR ? 'info' : 'warn'];
    if (this.opts.slots !== undefined) args.push('--slots', String(this.opts.slots));
    if (this.opts.durable) args.push('--data', join(this.dir, name));
    if (i > 0) for (const s of seeds) args.push('--join', `${this.address(s)}:9999`);
    args.push(...(this.opts.extraArgs ?? []));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const node: TaskProc = { name, address, child, tail: [] };
    const keep = (d: Buffer): void => {
      for (const l of d.toString().split('\n')) if (l.trim()) node.tail.push(l);
      node.tail.splice(0, Math.max(0, node.tail.length - 20));
    };
    child.stdout?.on('data', keep);
    if (LOG_DIR) {
      mkdirSync(LOG_DIR, { recursive: true });
      const file = createWriteStream(join(LOG_DIR, `${name}.log`), { flags: 'a' });
      child.stdout?.pipe(file);
    }
    child.stderr?.on('data', keep);
    this.nodes[i] = node;
    return node;
  }

  /** Closes every client (so nothing of ours talks to the nodes while they are measured idle). */
  async stopClients(): Promise<void> {
    for (const c of this.clients.values()) await c.close().catch(() => undefined);
    this.clients.clear();
  }

  /** Drops the cached client of `n` (its connection failed). */
  forgetClient(n: TaskProc): void {
    this.clients.delete(n.name);
  }

  running(n: TaskProc): boolean {
    return n.child.exitCode === null && n.child.signalCode === null;
  }

  async client(n: TaskProc): Promise<NodeClient> {
    let c = this.clients.get(n.name);
    if (!c) {
      c = await NodeClient.connect({ at: `${n.address}:10000`, key: this.key, timeoutMs: 30_000 });
      this.clients.set(n.name, c);
    }
    return c;
  }

  /** Starts `count` nodes (`batch` at a time after the first) and waits until n1 sees them all ACTIVE. */
  async start(count: number, timeoutMs: number, batch = 4): Promise<void> {
    this.spawnNode(0);
    await this.waitMembers(1, timeoutMs);
    for (let i = 1; i < count; i += batch) {
      for (let j = i; j < Math.min(count, i + batch); j++) this.spawnNode(j);
      await this.waitMembers(Math.min(count, i + batch), timeoutMs);
    }
  }

  /** Until node 0 lists `count` members ACTIVE (and each of them lists itself ACTIVE). */
  async waitMembers(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = '';
    while (performance.now() < deadline) {
      const dead = this.nodes.slice(0, count).find((n) => !this.running(n));
      if (dead) throw new Error(`node ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}): ${dead.tail.join(' | ')}`);
      try {
        const c = await this.client(this.nodes[0]!);
        const ms = await c.members();
        const active = ms.filter((m) => m.state === 'ACTIVE').length;
        last = `${active}/${count} ACTIVE`;
        if (active >= count) return;
      } catch (err) {
        last = (err as Error).message;
        this.clients.delete(this.nodes[0]!.name);
      }
      await sleep(200);
    }
    throw new Error(`cluster did not reach ${count} ACTIVE members in ${timeoutMs} ms (${last})`);
  }

  kill(n: TaskProc): void {
    n.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    for (const c of this.clients.values()) await c.close().catch(() => undefined);
    this.clients.clear();
    const running = this.nodes.filter((n) => n && this.running(n));
    const exited = running.map((n) => new Promise<void>((r) => n.child.once('exit', () => r())));
    if (PROF_DIR) {
      for (const n of running) n.child.kill('SIGTERM');
      await Promise.race([Promise.all(exited), sleep(15_000)]);
    }
    for (const n of running) if (this.running(n)) this.kill(n);
    await Promise.race([Promise.all(exited), sleep(5_000)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A private copy of the compiled tree (every directory of dist/: src, gossip, crdt, errors, bench)
 * so a rebuild of the shared checkout mid-run cannot hand a node a half-written module.
 */
export function snapshotDist(triPath = defaultTriPath()): { triPath: string; cleanup: () => void } {
  const distRoot = resolve(dirname(triPath), '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'tri-task-cli-'));
  // Every top-level directory: a leaf module added later (errors/ was) needs no list kept in step.
  for (const sub of readdirSync(distRoot, { withFileTypes: true })) {
    if (sub.isDirectory()) cpSync(join(distRoot, sub.name), join(dir, 'dist', sub.name), { recursive: true });
  }
  cpSync(join(distRoot, '..', 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(distRoot, '..', 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { triPath: join(dir, 'dist', 'src', 'cli', 'tri.js'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- the scenario ------------------------------------------------------------------------------

export interface FailoverRound {
  profile: 'lan' | 'local';
  /** SIGKILL -> n1 lists the victim FAILED. */
  detectionMs: number;
  /** SIGKILL -> n1's table shows the task reassigned to a survivor. */
  reassignedMs: number;
  /** SIGKILL -> the new holder's own replica shows it running there (the run request follows the assignment on the same stream). */
  runningMs: number;
  newHolder: string;
}

const POLL_MS = 10;

async function oneRound(triPath: string, profile: 'lan' | 'local', firstHost: number, log: (m: string) => void): Promise<FailoverRound> {
  const cluster = new TaskProcCluster(triPath, { firstHost, profile });
  try {
    await cluster.start(3, 60_000, 2);
    const [n1, , n3] = cluster.nodes as [TaskProc, TaskProc, TaskProc];
    const c1 = await cluster.client(n1);
    const c3 = await cluster.client(n3);
    // Every node must list every other ACTIVE before the kill (n1 is the leader: lowest name).
    for (const n of cluster.nodes) {
      const deadline = performance.now() + 30_000;
      for (;;) {
        const ms = await (await cluster.client(n)).members();
        if (ms.filter((m) => m.state === 'ACTIVE').length === 3) break;
        if (performance.now() > deadline) throw new Error(`${n.name} does not see 3 ACTIVE members`);
        await sleep(100);
      }
    }
    const task = await c3.submitTask({ type: 'sleep', input: { ms: 300_000 }, agent: 'failover' });
    if (task.status !== 'running' || task.node !== 'n3') throw new Error(`expected the task running on n3, got ${JSON.stringify(task)}`);
    // The assignment reached n1's replica (the submit was a quorum write, so it did, but check).
    for (let i = 0; i < 200 && (await c1.getTask(task.id)).node !== 'n3'; i++) await sleep(20);
    await sleep(1_000);
    const killedAt = performance.now();
    cluster.kill(n3);
    let detectionMs = NaN;
    let reassignedMs = NaN;
    let runningMs = NaN;
    let newHolder = '';
    const deadline = killedAt + 120_000;
    while (performance.now() < deadline && (Number.isNaN(detectionMs) || Number.isNaN(runningMs))) {
      const [members, t] = await Promise.all([
        Number.isNaN(detectionMs) ? c1.members() : Promise.resolve(undefined as MemberView[] | undefined),
        Number.isNaN(reassignedMs) ? c1.getTask(task.id) : Promise.resolve(undefined as TaskView | undefined),
      ]);
      const now = performance.now() - killedAt;
      if (members?.find((m) => m.name === 'n3')?.state === 'FAILED') detectionMs = now;
      if (t && t.status === 'running' && t.node !== 'n3' && t.node) {
        reassignedMs = now;
        newHolder = t.node;
      }
      if (!Number.isNaN(reassignedMs) && Number.isNaN(runningMs)) {
        const holder = cluster.nodes.find((n) => n.name === newHolder)!;
        const v = await (await cluster.client(holder)).getTask(task.id);
        if (v.status === 'running' && v.node === newHolder) runningMs = performance.now() - killedAt;
      }
      await sleep(POLL_MS);
    }
    if (Number.isNaN(runningMs)) throw new Error(`the task was not running elsewhere 120 s after the kill (detection ${detectionMs} ms)`);
    log(`task-failover ${profile}: detection ${detectionMs.toFixed(0)} ms, reassigned ${reassignedMs.toFixed(0)} ms, running on ${newHolder} ${runningMs.toFixed(0)} ms after SIGKILL`);
    return { profile, detectionMs, reassignedMs, runningMs, newHolder };
  } finally {
    await cluster.stop();
  }
}

export async function runTaskFailover(opts: TaskBenchOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const rounds = opts.quick ? 2 : 5;
  const snap = snapshotDist();
  const all: FailoverRound[] = [];
  try {
    for (const profile of ['local', 'lan'] as const) {
      for (let r = 0; r < rounds; r++) all.push(await oneRound(snap.triPath, profile, profile === 'local' ? 101 : 111, log));
    }
  } finally {
    snap.cleanup();
  }
  const metrics: Metrics = {};
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  for (const profile of ['lan', 'local'] as const) {
    const rs = all.filter((r) => r.profile === profile);
    const det = rs.map((r) => r.detectionMs);
    const run = rs.map((r) => r.runningMs);
    const extra = rs.map((r) => r.runningMs - r.detectionMs);
    metrics[`${profile}_detection_median`] = metric(r1(median(det)), 'ms');
    metrics[`${profile}_failover_median`] = metric(r1(median(run)), 'ms');
    metrics[`${profile}_failover_max`] = metric(r1(Math.max(...run)), 'ms');
    metrics[`${profile}_failover_minus_detection_median`] = metric(r1(median(extra)), 'ms');
    metrics[`${profile}_failover_minus_detection_max`] = metric(r1(Math.max(...extra)), 'ms');
    metrics[`${profile}_rounds`] = metric(rs.length, 'rounds');
  }
  // BullMQ run here (its stalled-job check, defaults), beside ours; the others stay published figures.
  const peers: Record<string, PeerSection> = {};
  if (peerEnabled('bullmq')) {
    peers.bullmq = await runBullmqFailover(opts.quick ? 1 : 3, 'fsync-always', log);
    if (peers.bullmq.ran) {
      const b = peers.bullmq.metrics;
      for (const profile of ['lan', 'local'] as const) {
        const ours = { failover_median: metrics[`${profile}_failover_median`]!, failover_max: metrics[`${profile}_failover_max`]! };
        for (const [k, v] of Object.entries(ratioMetrics(ours, b, ['failover_median', 'failover_max'], 'bullmq'))) metrics[`${profile}_${k}`] = v;
      }
    }
  }
  const published = { akka: { lowS: 25, highS: 45 }, orleans: { lowS: 90, highS: 90 }, bullmq: { lowS: 30, highS: 60 } };
  const bullRun = peers.bullmq?.ran ? peers.bullmq.metrics.failover_median!.value / 1000 : NaN;
  const { result, path } = writeResult(opts.out, 'task-failover', metrics, {
    ...peers,
    published: { note: 'published failover figures (default settings), not run here', ...published },
    rounds: all,
    summaries: Object.fromEntries((['lan', 'local'] as const).map((p) => [p, summarize(all.filter((r) => r.profile === p).map((r) => r.runningMs))])),
  });
  const chart = barChartSvg({
    title: 'Task failover: SIGKILL of the executing node until the task runs elsewhere (median)',
    unit: 's',
    categories: ['trinity local', 'trinity lan', ...(Number.isFinite(bullRun) ? ['BullMQ (this run)'] : []), 'Akka (pub.)', 'BullMQ (pub.)', 'Orleans (pub.)'],
    series: [{ name: 'seconds', values: [metrics.local_failover_median!.value / 1000, metrics.lan_failover_median!.value / 1000, ...(Number.isFinite(bullRun) ? [bullRun] : []), 35, 45, 90] }],
  });
  writeChart(join(opts.out, 'task-failover.svg'), chart);
  log(`task-failover: wrote ${path}`);
  return result;
}
