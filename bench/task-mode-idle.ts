// What an idle node costs (issue 21, the 32-process task run): N node processes formed as the
// task-throughput run forms them (task-mode-form.ts), left quiet, each process's CPU read from
// /proc over a window. Nothing polls the nodes during the window. With TRI_TASK_BENCH_PROF=DIR the
// nodes run under --cpu-prof and the window's samples are split by part (task-profile.ts) and by
// our own functions' self time, to find per-tick work that is waste.
//   node dist/bench/task-mode-idle.js [nodes=8] [seconds=20] [profile] [out-dir]
// With out-dir, writes task-mode-idle-<nodes>p.json there (machine and CPU model included).
// Addresses: TRI_BENCH_NET (default 127.0.8) hosts 200 and up.
import { cpus } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { load1m, procCpuSeconds } from './quorum/load.js';
import { sleep, snapshotDist, TaskProcCluster } from './task-failover.js';
import { formCluster, runProfile, waitSettled, type GossipProfile } from './task-mode-form.js';
import { profileBreakdown, type CpuProfile } from './task-profile.js';
import { metric, writeResult } from './lib/result.js';

export interface IdleFigures {
  nodes: number;
  seconds: number;
  gossipProfile: GossipProfile;
  /** By thread name: user and system CPU ms per second per node, and wake-ups per second per node. */
  threads: Record<string, { userMs: number; sysMs: number; wakeups: number }>;
  /** CPU per node, ms per second, mean and by node. */
  msPerSecPerNode: number;
  byNode: Record<string, number>;
  loadAvg: number;
}

/** Per thread name (main thread 'node', 'V8 Worker', 'libuv-worker', ...): user and system CPU seconds, and wake-ups (voluntary context switches). */
function threadTimes(pid: number): Map<string, { user: number; sys: number; wakeups: number }> {
  const out = new Map<string, { user: number; sys: number; wakeups: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim().replace(/\d+$/, '');
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const wakeups = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))?.[1] ?? 0);
      const cur = out.get(name) ?? { user: 0, sys: 0, wakeups: 0 };
      out.set(name, { user: cur.user + Number(f[11]) / 100, sys: cur.sys + Number(f[12]) / 100, wakeups: cur.wakeups + wakeups });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** threadTimes summed over processes. */
function allThreadTimes(pids: readonly number[]): Map<string, { user: number; sys: number; wakeups: number }> {
  const sum = new Map<string, { user: number; sys: number; wakeups: number }>();
  for (const p of pids) {
    for (const [k, v] of threadTimes(p)) {
      const cur = sum.get(k) ?? { user: 0, sys: 0, wakeups: 0 };
      sum.set(k, { user: cur.user + v.user, sys: cur.sys + v.sys, wakeups: cur.wakeups + v.wakeups });
    }
  }
  return sum;
}

/** Our functions' self time (ms per node-second) in samples within [fromUs, toUs], top `n`. */
function topFunctions(dir: string, pids: readonly number[], fromUs: number, toUs: number, nodeSeconds: number, n = 25): Record<string, number> {
  const self = new Map<string, number>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && pids.some((pid) => x.includes(`.${pid}.`)))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i]!;
      if (t < fromUs || t > toUs) continue;
      const fr = byId.get(p.samples[i]!)!.callFrame;
      if (fr.functionName === '(idle)') continue;
      const key = `${fr.functionName || '(anon)'} ${fr.url.replace(/^.*\/dist\//, '').replace(/^.*node_modules\//, '')}`;
      self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
    }
  }
  return Object.fromEntries(
    [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [k, Math.round((us / 1000 / nodeSeconds) * 100) / 100]),
  );
}

export async function measureIdle(nodes: number, seconds: number, profile: GossipProfile, log: (m: string) => void): Promise<IdleFigures> {
  const snap = snapshotDist();
  // TRI_IDLE_NODE_ARGS: extra node.js flags for every node (e.g. --import a module that counts timers).
  const nodeArgs = (process.env.TRI_IDLE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const cluster = new TaskProcCluster(snap.triPath, { firstHost: 200, profile, durable: true, extraArgs: ['--replication-factor', '3'], nodeArgs });
  try {
    await formCluster(cluster, nodes, cpus().length, log);
    await waitSettled(cluster, nodes, 300_000);
    await cluster.stopClients();
    await sleep(5_000); // the last effects of formation (member snapshots, first anti-entropy rounds)
    const pids = cluster.nodes.map((n) => n.child.pid ?? -1);
    const cpu0 = pids.map((p) => procCpuSeconds(p));
    const th0 = allThreadTimes(pids);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const s = (performance.now() - t0) / 1000;
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const per = pids.map((p, i) => ((procCpuSeconds(p) - cpu0[i]!) / s) * 1000);
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    const threads = Object.fromEntries(
      [...allThreadTimes(pids)].map(([k, v]) => {
        const b = th0.get(k) ?? { user: 0, sys: 0, wakeups: 0 };
        return [k, { userMs: r1(((v.user - b.user) * 1000) / s / nodes), sysMs: r1(((v.sys - b.sys) * 1000) / s / nodes), wakeups: r1((v.wakeups - b.wakeups) / s / nodes) }];
      }),
    );
    const figures: IdleFigures = {
      nodes,
      seconds: Math.round(s * 10) / 10,
      gossipProfile: profile,
      threads,
      msPerSecPerNode: Math.round((per.reduce((a, b) => a + b, 0) / nodes) * 10) / 10,
      byNode: Object.fromEntries(cluster.nodes.map((n, i) => [n.name, Math.round(per[i]! * 10) / 10])),
      loadAvg: load1m(),
    };
    log(`idle: ${nodes} nodes (${profile}) ${figures.msPerSecPerNode} ms/s per node over ${figures.seconds} s, load ${figures.loadAvg}: ${JSON.stringify(figures.byNode)}; by thread (per node) ${JSON.stringify(threads)}`);
    const dir = process.env.TRI_TASK_BENCH_PROF;
    if (dir) {
      await cluster.stop();
      const b = profileBreakdown(dir, pids, fromUs, toUs, nodes * s);
      if (b) log(`idle: busy ${b.busyPct}%; ms per node-second by part ${JSON.stringify(b.msPerTask)}`);
      log(`idle: top self time, ms per node-second: ${JSON.stringify(topFunctions(dir, pids, fromUs, toUs, nodes * s), null, 1)}`);
    }
    return figures;
  } finally {
    await cluster.stop();
    snap.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nodes = Number(process.argv[2] ?? 8);
  const seconds = Number(process.argv[3] ?? 20);
  const profile = runProfile(nodes, process.argv[4]);
  const out = process.argv[5];
  measureIdle(nodes, seconds, profile, (m) => console.log(m)).then(
    (f) => {
      console.log(JSON.stringify(f));
      if (out) {
        const metrics = { nodes: metric(f.nodes, 'processes'), idle_cpu_per_node: metric(f.msPerSecPerNode, 'ms/s'), idle_wakeups_per_node: metric(f.threads.node?.wakeups ?? NaN, '1/s'), load_avg_1m: metric(f.loadAvg, 'load') };
        console.log(`wrote ${writeResult(out, `task-mode-idle-${nodes}p`, metrics, { idle: f }).path}`);
      }
    },
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
