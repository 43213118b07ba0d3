// Soak (issue 14): 5 real node processes under a steady load through the library's client
// (episode writes and echo tasks at fixed rates, task retention and a memory budget on), one node
// SIGKILLed and restarted on its data directory every 2 minutes. Every 10 s it samples each node's
// RSS, heap, data-directory bytes, resident documents and task-table entries, and the write latency
// and errors of the last 10 s. At the end it checks the writers' ledgers: every acknowledged
// episode is on every node, and no task has two results (one episode per task id at most). The
// JSON holds every sample; the charts show RSS and disk per node over time. Growth is the slope
// of a line fitted after the warm-up, and the result prints what 30 days at this load would need.
// Every written agent has a retention policy (soak-steady.ts), so the data set itself stops
// growing; the warm-up ends when retention trims every agent and the task table (at least 1 min
// in the quick run, 5 in the full one), recorded in the JSON as `warmup_end`.
//   quick: 5 minutes (kills every 2 min);  full: 30 minutes.
// Nodes bind PREFIX.1-5 (TRI_SOAK_PREFIX, default 127.0.3.), the benchmarks' loopback range.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeClient } from '../src/client/node-client.js';
import { lineChartSvg, metric, percentile, writeChart, writeResult, type BenchResult } from './lib/index.js';
import { defaultTriPath, snapshotCli } from './lib/proc-cluster.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { childHeapFlags } from '../src/node/heap-flags.js';
import { parseBytes } from '../src/cli/paging-flags.js';
import { after30DaysMB, dataDirFiles, dbBreakdown, recallBreakdown, withoutWalMB, ECHO_POLICY, load1, p99Windows, retentionView, slopePer10Min, SOAK_AGENT_POLICY, trimming, warmupEnd } from './soak-steady.js';

const NODES = 5;
const WRITES_PER_S = 50;
const TASKS_PER_S = 20;
const AGENTS = 200;
const SAMPLE_MS = 10_000;
const KILL_EVERY_MS = 120_000;
const DOWN_MS = 5_000;

interface Proc {
  name: string;
  address: string;
  dir: string;
  child: ChildProcess | undefined;
}

interface Sample {
  t: number;
  nodes: Array<{ name: string; up: boolean; rssMB: number; heapMB: number; diskMB: number; files: Record<string, number>; resident: number; taskEntries: number; sweepTrimmed: number; forgottenByPolicy: number }>;
  trimming: boolean;
  load1: number;
  writes: number;
  writeP50: number;
  writeP99: number;
  errors: number;
  tasks: number;
}

export async function runSoak(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  const durationMs = opts.quick ? 5 * 60_000 : 30 * 60_000;
  const warmupMs = opts.quick ? 60_000 : 5 * 60_000;
  const prefix = process.env.TRI_SOAK_PREFIX ?? '127.0.3.';
  // Small enough that the quick run's data passes it within its first minutes, so the run shows
  // RSS held at the budget rather than a node still filling it (TRI_SOAK_BUDGET overrides).
  const budget = process.env.TRI_SOAK_BUDGET ?? (opts.quick ? '16MB' : '64MB');
  const root = mkdtempSync(join(tmpdir(), 'tri-soak-'));
  const keyFile = join(root, 'cluster.key');
  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const cli = await snapshotCli(defaultTriPath());
  const procs: Proc[] = Array.from({ length: NODES }, (_, i) => ({ name: `n${i + 1}`, address: `${prefix}${i + 1}`, dir: join(root, `n${i + 1}`), child: undefined }));
  const start = (p: Proc, join: string | undefined): void => {
    const args = [cli.triPath, 'node', 'start', '--name', p.name, '--bind', p.address, '--key-file', keyFile, '--data', p.dir, '--profile', 'lan', '--log-level', 'warn'];
    args.push('--task-retention', opts.quick ? '60s' : '5m', '--memory-budget', budget, ...(join ? ['--join', `${join}:9999`] : []));
    // V8's heap sized from the budget, as an operator would start a node (docs/retention.md).
    p.child = spawn(process.execPath, [...childHeapFlags(parseBytes(budget)), ...args], { stdio: 'ignore' });
  };
  const ledger: Array<{ agent: string; id: string }> = [];
  const taskIds: string[] = [];
  const samples: Sample[] = [];
  let window: number[] = [];
  let allWrites: Array<[t: number, ms: number]> = [];
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let tasksAcked = 0;
  const clients: NodeClient[] = [];
  const t0 = Date.now();
  try {
    start(procs[0]!, undefined); // founds the cluster
    await sleep(1500);
    for (const p of procs.slice(1)) start(p, procs[0]!.address);
    // Writes start once every node's own view shows all members ACTIVE (as `tri cluster` waits).
    const formed = async (): Promise<boolean> => {
      const views = await Promise.all(procs.map((p) => get(`http://${p.address}:10080/status`)));
      return views.every((v) => {
        try {
          const st = JSON.parse(v) as { members: Array<{ state: string }> };
          return st.members.length === NODES && st.members.every((m) => m.state === 'ACTIVE');
        } catch {
          return false;
        }
      });
    };
    for (let waited = 0; !(await formed()); waited += 500) {
      if (waited > 60_000) throw new Error('the 5 soak nodes did not all show each other ACTIVE within 60 s');
      await sleep(500);
    }
    const connect = (p: Proc) => NodeClient.connect({ at: `${p.address}:10000`, key: readFileSync(keyFile, 'utf8').trim(), timeoutMs: 10_000 });
    for (const p of procs) clients.push(await connect(p));
    // A writer whose node was killed talks to it again once it is back (as an application would).
    const reconnect = async (i: number): Promise<void> => {
      for (let tries = 0; tries < 60; tries++) {
        await sleep(1000);
        try {
          const fresh = await connect(procs[i]!);
          const old = clients[i]!;
          clients[i] = fresh;
          await old.close().catch(() => undefined);
          return;
        } catch {
          // not listening yet
        }
      }
    };
    // Task episodes go to the agent named after the type; it and every written agent are bounded
    // as an operator would bound them, so the data reaches a steady state.
    await clients[0]!.memoryPolicy('echo', ECHO_POLICY);
    for (let a = 0; a < AGENTS; a += 20) await Promise.all(Array.from({ length: Math.min(20, AGENTS - a) }, (_, k) => clients[(a + k) % NODES]!.memoryPolicy(`soak-${a + k}`, SOAK_AGENT_POLICY)));
    log(`soak: ${NODES} nodes up, load ${WRITES_PER_S} writes/s + ${TASKS_PER_S} echo tasks/s for ${durationMs / 60_000} min`);
    const began = Date.now();
    let n = 0;
    const fail = (err: unknown): void => {
      errors++;
      const kind = (err as Error)?.name ?? 'Error';
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    };
    const writer = setInterval(() => {
      for (let k = 0; k < WRITES_PER_S / 10; k++) {
        const i = n++;
        const agent = `soak-${i % AGENTS}`;
        const c = clients[i % NODES]!;
        const s = performance.now();
        c.addEpisode({ agent, task: `w${i}`, outcome: 'ok', note: `soak write ${i}` }).then((ep) => {
          const ms = performance.now() - s;
          window.push(ms);
          allWrites.push([Date.now() - began, ms]);
          ledger.push({ agent, id: ep.id });
        }, fail);
      }
      for (let k = 0; k < TASKS_PER_S / 10; k++) {
        const c = clients[(n + k) % NODES]!;
        c.submitTask({ type: 'echo', input: { n: n + k } }).then((t) => {
          tasksAcked++;
          taskIds.push(t.id);
        }, fail);
      }
    }, 100);
    const lastViews: Array<ReturnType<typeof retentionView>> = [];
    let killNext = 1;
    const killer = setInterval(() => {
      const p = procs[killNext % NODES]!;
      killNext++;
      log(`soak: SIGKILL ${p.name}, restart in ${DOWN_MS / 1000} s`);
      p.child?.kill('SIGKILL');
      setTimeout(() => {
        start(p, p === procs[0] ? procs[1]!.address : procs[0]!.address);
        void reconnect(procs.indexOf(p));
      }, DOWN_MS);
    }, KILL_EVERY_MS);
    while (Date.now() - began < durationMs) {
      await sleep(SAMPLE_MS);
      const w = window;
      window = [];
      // An unanswered /status (a starved or restarting node) keeps that node's last view.
      const views = await Promise.all(procs.map(async (p, i) => retentionView(await get(`http://${p.address}:10080/status`)) ?? lastViews[i]));
      lastViews.splice(0, NODES, ...views);
      const nodes = await Promise.all(procs.map((p, i) => sampleNode(p, views[i])));
      samples.push({
        t: Math.round((Date.now() - began) / 1000),
        nodes,
        trimming: trimming(views, AGENTS + 1),
        load1: load1(),
        writes: w.length,
        writeP50: w.length ? percentile(w, 50) : NaN,
        writeP99: w.length ? percentile(w, 99) : NaN,
        errors,
        tasks: tasksAcked,
      });
      const last = samples.at(-1)!;
      log(`soak: t=${last.t}s writes ${last.writes} p99 ${last.writeP99.toFixed(1)} ms errors ${errors} rss ${last.nodes.map((x) => x.rssMB.toFixed(0)).join('/')} MB disk ${last.nodes.map((x) => x.diskMB.toFixed(1)).join('/')} MB trimming ${last.trimming} load ${last.load1}`);
    }
    clearInterval(writer);
    clearInterval(killer);
    await sleep(DOWN_MS + 15_000); // the last restarted node rejoins; pushes and anti-entropy settle
    // Ledger checks on every node: acknowledged writes present; at most one episode per task.
    let missing = 0;
    const byAgent = new Map<string, Set<string>>();
    for (const w of ledger) byAgent.set(w.agent, (byAgent.get(w.agent) ?? new Set()).add(w.id));
    for (const c of clients.slice(0, NODES)) {
      for (const [agent, ids] of byAgent) {
        const have = new Set<string>();
        for (let attempt = 0; ; attempt++) {
          try {
            for await (const page of c.memoryPages(agent, { limit: 1000 })) for (const e of page) have.add(e.id);
            break;
          } catch (err) {
            if (attempt >= 5) throw err; // a node this slow to answer is a finding: the run fails
            await sleep(2000);
          }
        }
        for (const id of ids) if (!have.has(id)) missing++;
      }
    }
    // Two results: a task whose recorded outcome differs between nodes (tasks still in the table;
    // retention trimmed the older ones). Episodes per task are counted apart: a task's episode id
    // derives from its id (src/tasks/task-episode.ts), so a node killed after storing an outcome
    // and its episode, before a majority acknowledged them, and the run that replaced it leave one.
    const views = await Promise.all(clients.map(async (c) => {
      const m = new Map<string, string>();
      for await (const page of c.taskPages({ limit: 1000 })) for (const t of page) if (t.status === 'done' || t.status === 'failed') m.set(t.id, JSON.stringify([t.status, t.node, t.result, t.error]));
      return m;
    }));
    let twoResults = 0;
    for (const [id, o] of views[0]!) if (views.slice(1).some((v) => v.has(id) && v.get(id) !== o)) twoResults++;
    const perTask = new Map<string, number>();
    for await (const page of clients[0]!.memoryPages('echo', { limit: 1000 })) {
      for (const e of page) {
        const id = String(e.fields['taskId'] ?? '');
        perTask.set(id, (perTask.get(id) ?? 0) + 1);
      }
    }
    const doubled = [...perTask.values()].filter((x) => x > 1).length;
    for (const p of procs) p.child?.kill('SIGKILL');
    await sleep(500);
    const databases = Object.fromEntries(procs.map((p) => [p.name, { ...dbBreakdown(join(p.dir, 'node.db')), recall: recallBreakdown(join(p.dir, 'recall.db')) }]));
    return finish(opts, samples, allWrites, warmupMs, durationMs, { missing, doubled, twoResults, acked: ledger.length, tasksAcked, errors, errorKinds, elapsedMs: Date.now() - t0, databases }, parseInt(budget, 10));
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const p of procs) p.child?.kill('SIGKILL');
    await sleep(500);
    cli.cleanup();
    rmSync(root, { recursive: true, force: true });
    allWrites = [];
  }
}

function finish(
  opts: ScenarioOptions,
  samples: Sample[],
  writes: Array<[number, number]>,
  warmupMs: number,
  durationMs: number,
  r: { missing: number; doubled: number; twoResults: number; acked: number; tasksAcked: number; errors: number; errorKinds: Record<string, number>; elapsedMs: number; databases: Record<string, unknown> },
  budgetMB: number,
): BenchResult {
  // The warm-up ends when retention trims every agent and the task table, at `warmupMs` at least.
  const warmS = warmupEnd(samples, warmupMs / 1000) ?? NaN;
  const after = samples.filter((s) => s.t >= warmS);
  // Slopes per node after the warm-up, in MB per 10 minutes (least squares over the samples it was up).
  const slope = (pick: (s: Sample, i: number) => number | undefined, i: number): number =>
    slopePer10Min(after.flatMap((s) => {
      const v = pick(s, i);
      return v === undefined ? [] : [[s.t, v] as const];
    }));
  const rssSlopes = Array.from({ length: NODES }, (_, i) => slope((s, k) => (s.nodes[k]!.up ? s.nodes[k]!.rssMB : undefined), i));
  const diskSlopes = Array.from({ length: NODES }, (_, i) => slope((s, k) => (s.nodes[k]!.up ? s.nodes[k]!.diskMB : undefined), i));
  const dbSlopes = Array.from({ length: NODES }, (_, i) => slope((s, k) => (s.nodes[k]!.up ? withoutWalMB(s.nodes[k]!.files) : undefined), i));
  const p99 = p99Windows(writes, warmS * 1000, durationMs);
  const firstP99 = p99.first;
  const lastP99 = p99.last;
  const maxDisk = Math.max(...diskSlopes.filter(Number.isFinite));
  const endDisk = Math.max(...(samples.at(-1)?.nodes.map((x) => x.diskMB) ?? [0]));
  const metrics = {
    soak_minutes: metric(durationMs / 60_000, 'min'),
    warmup_end: metric(warmS, 's'),
    p99_window: metric(p99.spanMs / 1000, 's'),
    rss_growth_max: metric(Math.max(...rssSlopes.filter(Number.isFinite)), 'MB per 10 min'),
    disk_growth_max: metric(maxDisk, 'MB per 10 min'),
    disk_growth_without_wal_max: metric(Math.max(...dbSlopes.filter(Number.isFinite)), 'MB per 10 min'),
    write_p99_first: metric(firstP99, 'ms'),
    write_p99_last: metric(lastP99, 'ms'),
    write_p99_ratio: metric(lastP99 / firstP99, 'x'),
    writes_acknowledged: metric(r.acked, 'writes'),
    writes_lost: metric(r.missing, 'writes'),
    tasks_acknowledged: metric(r.tasksAcked, 'tasks'),
    tasks_with_two_results: metric(r.twoResults, 'tasks'),
    tasks_with_two_episodes: metric(r.doubled, 'tasks'),
    errors: metric(r.errors, 'errors'),
    memory_budget: metric(budgetMB, 'MB'),
    rss_max_after_warmup: metric(Math.max(...after.flatMap((s) => s.nodes.filter((x) => x.up).map((x) => x.rssMB))), 'MB'),
    heap_max_after_warmup: metric(Math.max(...after.flatMap((s) => s.nodes.filter((x) => x.up && Number.isFinite(x.heapMB)).map((x) => x.heapMB))), 'MB'),
    disk_after_30_days: metric(after30DaysMB(endDisk, maxDisk), 'MB'),
    load_average_max: metric(Math.max(...samples.map((s) => s.load1)), 'load'),
  };
  const chart = (what: 'rssMB' | 'diskMB', title: string, unit: string): void =>
    writeChart(
      join(opts.out, `soak-${what === 'rssMB' ? 'rss' : 'disk'}.svg`),
      lineChartSvg({ title, xLabel: 's', unit, series: Array.from({ length: NODES }, (_, i) => ({ name: `n${i + 1}`, points: samples.filter((s) => s.nodes[i]!.up).map((s) => [s.t, s.nodes[i]![what]] as [number, number]) })) }),
    );
  chart('rssMB', 'RSS per node under the soak load', 'MB');
  chart('diskMB', 'data directory per node', 'MB');
  return writeResult(opts.out, 'soak', metrics, { samples, rssSlopes, diskSlopes, errorKinds: r.errorKinds, databases: r.databases, policies: { agents: SOAK_AGENT_POLICY, echo: ECHO_POLICY }, warmup: 'until the last policy sweep trimmed every written agent (echo included) and a task table was trimmed, at least 1 min (quick) or 5 min (full)', load: { writesPerS: WRITES_PER_S, tasksPerS: TASKS_PER_S, agents: AGENTS, killEveryMs: KILL_EVERY_MS } }).result;
}

async function sampleNode(p: Proc, view: ReturnType<typeof retentionView>): Promise<Sample['nodes'][number]> {
  const pid = p.child?.pid;
  const up = p.child !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  let rssMB = NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) rssMB = Number(m[1]) / 1024;
  } catch {
    // not running
  }
  const text = up ? await get(`http://${p.address}:10080/metrics`) : '';
  const read = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  return {
    name: p.name,
    up: up && text !== '',
    rssMB,
    heapMB: read(/^nodejs_heap_size_used_bytes\{[^}]*\} (\S+)$/m) / 2 ** 20,
    diskMB: dirBytes(p.dir) / 2 ** 20,
    files: dataDirFiles(p.dir),
    sweepTrimmed: view?.sweepTrimmed ?? NaN,
    forgottenByPolicy: view?.forgottenByPolicy ?? NaN,
    resident: read(/^tri_documents\{where="resident"[^}]*\} (\S+)$/m),
    taskEntries: read(/^tri_task_table_entries\{[^}]*\} (\S+)$/m),
  };
}

function dirBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))); // with an error, so 'error' resolves the promise
    req.on('error', () => resolve(''));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
