// One node under the soak's load (bench/soak.ts: 50 episode writes/s over 200 agents, 20 echo
// tasks/s, task retention 60 s), with a memory budget smaller than the data, for a bounded time:
// RSS and heap sampled every 10 s. The five-process soak needs five nodes' CPU; on a saturated
// machine its nodes starve (SWIM suspects them, writes time out) and its memory figures say
// little. One node shows what residency, eviction and the heap guard do to memory alone.
//   node dist/bench/soak-one.js [--minutes 5] [--budget 16MB] [--heap-flags on|off] [--address 127.0.14.1] [--out bench/results]
//                               [--policies all|echo] [--scale 1] [--snapshots 3,8 [--snapshot-dir DIR]]
// --policies all (the default) gives every written agent a retention policy (soak-steady.ts), so
// the data reaches a steady state; echo limits only the echo agent (the soak before session 11).
// The warm-up ends when retention trims every agent; slopes, p99 windows and the 30-day estimate
// are taken from there, and the database's bytes per table are read once the node is stopped.
// --snapshots writes a V8 heap snapshot of the node at each of those minutes into DIR (default
// $TMPDIR/tri-heap-snapshots), for `node dist/bench/heap-diff.js OLD NEW`.
// --heap-flags on (the default) starts the node with the V8 heap flags derived from the budget
// (src/node/heap-flags.ts), as `tri cluster` and the soak do; off leaves V8's defaults.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeClient } from '../src/client/node-client.js';
import { defaultTriPath } from './lib/proc-cluster.js';
import { childHeapFlags } from '../src/node/heap-flags.js';
import { parseBytes } from '../src/cli/paging-flags.js';
import { metric, percentile, writeResult } from './lib/index.js';
import { after30DaysMB, dataDirFiles, dbBreakdown, recallBreakdown, withoutWalMB, ECHO_POLICY, load1, p99Windows, retentionView, slopePer10Min, SOAK_AGENT_POLICY, trimming, warmupEnd, type RetentionView } from './soak-steady.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, budget: { type: 'string', default: '16MB' }, address: { type: 'string', default: '127.0.14.1' }, out: { type: 'string', default: 'bench/results' }, 'heap-flags': { type: 'string', default: 'on' }, policies: { type: 'string', default: 'all' }, scale: { type: 'string', default: '1' }, snapshots: { type: 'string', default: '' }, 'snapshot-dir': { type: 'string', default: join(tmpdir(), 'tri-heap-snapshots') } } });
if (values['heap-flags'] !== 'on' && values['heap-flags'] !== 'off') throw new Error('--heap-flags is on or off');
if (values.policies !== 'all' && values.policies !== 'echo') throw new Error('--policies is all or echo');
// --scale: a fraction of the soak's load with the agents scaled alike (each agent is written as
// often as in the full load, so retention's warm-up takes as long): for a machine too busy to give
// one node the CPU of the whole load. 1 is the load.
const scale = Number(values.scale);
if (!(scale > 0 && scale <= 1)) throw new Error('--scale is a fraction of the load in (0, 1]');
const AGENTS = Math.round(200 * scale);
const WRITES_PER_TICK = 5 * scale; // 50 writes/s at scale 1, in 100-ms ticks
const TASKS_PER_TICK = 2 * scale;
const heapFlags = values['heap-flags'] === 'on' ? childHeapFlags(parseBytes(values.budget!)) : [];
const minutes = Number(values.minutes);
const snapshotAt = values.snapshots ? values.snapshots.split(',').map(Number) : [];
if (snapshotAt.some((m) => !(m > 0 && m < minutes))) throw new Error('--snapshots takes minutes within the run, for example 3,8');
const snapshotDir = values['snapshot-dir']!;
if (snapshotAt.length) mkdirSync(snapshotDir, { recursive: true });
const snapshotFlags = snapshotAt.length ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : [];
const address = values.address!;
const root = mkdtempSync(join(tmpdir(), 'tri-soak-one-'));
const keyFile = join(root, 'cluster.key');
const dataDir = join(root, 'data');
writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
console.log(`node flags: ${heapFlags.join(' ') || '(V8 defaults)'}`);
const child = spawn(process.execPath, [...heapFlags, ...snapshotFlags, defaultTriPath(), 'node', 'start', '--name', 's1', '--bind', address, '--key-file', keyFile, '--data', dataDir, '--memory-budget', values.budget!, '--task-retention', '60s', '--log-level', 'warn'], { stdio: 'ignore' });
// Stopped from outside (Ctrl-C, kill): the node goes too, not left running on its address.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const get = (url: string) =>
  new Promise<string>((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
/**
 * Resident memory of a process by kind of mapping (/proc/PID/smaps): glibc's main heap ([heap]),
 * anonymous mappings (V8's heap pages, other malloc arenas, thread stacks) and files (code).
 */
function rssByKind(pid: number): { brkMB: number; anonMB: number; fileMB: number } {
  const out = { brkMB: 0, anonMB: 0, fileMB: 0 };
  let kind: keyof typeof out = 'anonMB';
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (header) kind = header[1] === '[heap]' ? 'brkMB' : header[1] === '' || header[1]!.startsWith('[') ? 'anonMB' : 'fileMB';
      else if (line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)![1]) / 1024;
    }
  } catch {
    // the process is gone
  }
  return out;
}
const samples: Array<{ t: number; rssMB: number; heapMB: number; resident: number; writes: number; p99: number; guardCollections: number; liveAfterGcMB: number; heapTotalMB: number; externalMB: number; brkMB: number; anonMB: number; fileMB: number; diskMB: number; files: Record<string, number>; retention: RetentionView | undefined; trimming: boolean; load1: number; errors: number; cpuS: number }> = [];
/** CPU seconds the node has used (user + system, /proc/PID/stat), for CPU per write on a shared machine. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}
const allWrites: Array<[number, number]> = [];
try {
  for (let i = 0; i < 60 && !(await get(`http://${address}:10080/status`)).includes('ACTIVE'); i++) await sleep(1000);
  const c = await NodeClient.connect({ at: `${address}:10000`, key: readFileSync(keyFile, 'utf8').trim(), timeoutMs: 10_000 });
  await c.memoryPolicy('echo', values.policies === 'all' ? ECHO_POLICY : { maxEpisodes: 5000 });
  if (values.policies === 'all') for (let a = 0; a < AGENTS; a += 20) await Promise.all(Array.from({ length: Math.min(20, AGENTS - a) }, (_, k) => c.memoryPolicy(`soak-${a + k}`, SOAK_AGENT_POLICY)));
  const began = Date.now();
  let n = 0;
  let errors = 0;
  let window: number[] = [];
  let ticks = 0;
  let tasksSent = 0;
  const writer = setInterval(() => {
    ticks++;
    while (n < Math.floor(ticks * WRITES_PER_TICK)) {
      const i = n++;
      const s = performance.now();
      c.addEpisode({ agent: `soak-${i % AGENTS}`, task: `w${i}`, outcome: 'ok', note: `soak write ${i}` }).then(() => {
        const ms = performance.now() - s;
        window.push(ms);
        allWrites.push([Date.now() - began, ms]);
      }, () => errors++);
    }
    for (; tasksSent < Math.floor(ticks * TASKS_PER_TICK); tasksSent++) c.submitTask({ type: 'echo', input: { n: tasksSent } }).then(() => undefined, () => errors++);
  }, 100);
  const snapshotsDue = [...snapshotAt];
  while (Date.now() - began < minutes * 60_000) {
    await sleep(10_000);
    if (snapshotsDue.length && Date.now() - began >= snapshotsDue[0]! * 60_000) {
      snapshotsDue.shift();
      child.kill('SIGUSR2');
      console.log(`heap snapshot asked for at ${Math.round((Date.now() - began) / 1000)} s (into ${snapshotDir})`);
    }
    const text = await get(`http://${address}:10080/metrics`);
    const status = await get(`http://${address}:10080/status`);
    const read = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    let guard = NaN;
    let live = NaN;
    try {
      const g = (JSON.parse(status) as { heapGuard?: { collections: number; heapAfterBytes: number | null } }).heapGuard;
      guard = g?.collections ?? NaN;
      live = (g?.heapAfterBytes ?? NaN) / 2 ** 20;
    } catch {
      // no answer this time
    }
    const w = window;
    window = [];
    const files = dataDirFiles(dataDir);
    // An unanswered /status (a starved node) says nothing about retention: keep the last view.
    const retention = retentionView(status) ?? samples.at(-1)?.retention;
    samples.push({
      t: Math.round((Date.now() - began) / 1000),
      rssMB: rss ? Number(rss[1]) / 1024 : NaN,
      heapMB: read(/^nodejs_heap_size_used_bytes\{[^}]*\} (\S+)$/m) / 2 ** 20,
      heapTotalMB: read(/^nodejs_heap_size_total_bytes\{[^}]*\} (\S+)$/m) / 2 ** 20,
      externalMB: read(/^nodejs_external_memory_bytes\{[^}]*\} (\S+)$/m) / 2 ** 20,
      resident: read(/^tri_documents\{where="resident"[^}]*\} (\S+)$/m),
      writes: w.length,
      p99: w.length ? percentile(w, 99) : NaN,
      guardCollections: guard,
      liveAfterGcMB: live,
      ...rssByKind(child.pid!),
      diskMB: Object.values(files).reduce((a, b) => a + b, 0),
      files,
      retention,
      trimming: trimming([retention], values.policies === 'all' ? AGENTS + 1 : 1),
      load1: load1(),
      errors,
      cpuS: cpuSeconds(child.pid!),
    });
    const s = samples.at(-1)!;
    console.log(`t=${s.t}s rss ${s.rssMB.toFixed(0)} MB heap ${s.heapMB.toFixed(0)}/${s.heapTotalMB.toFixed(0)} MB external ${s.externalMB.toFixed(1)} MB resident ${s.resident} writes ${s.writes} p99 ${s.p99.toFixed(0)} ms guard ${s.guardCollections} (live after ${s.liveAfterGcMB.toFixed(0)} MB) errors ${errors} disk ${s.diskMB.toFixed(2)} MB trimming ${s.trimming} (${s.retention?.sweepTrimmed}/${s.retention?.sweepAgents}) load ${s.load1} cpu ${s.cpuS.toFixed(1)} s | malloc heap ${s.brkMB.toFixed(0)} anon ${s.anonMB.toFixed(0)} file ${s.fileMB.toFixed(0)} MB`);
  }
  clearInterval(writer);
  // The warm-up ends when retention trims every agent (at least a minute in); slopes from there.
  const warmS = warmupEnd(samples, 60);
  const after = samples.filter((s) => warmS !== undefined && s.t >= warmS);
  const fit = (pick: (s: (typeof samples)[number]) => number) => slopePer10Min(after.map((s) => [s.t, pick(s)] as const));
  const endMs = minutes * 60_000;
  const p99 = warmS === undefined ? { first: NaN, last: NaN, spanMs: NaN } : p99Windows(allWrites, warmS * 1000, endMs);
  const diskSlope = fit((s) => s.diskMB);
  const maxOf = (xs: number[]) => Math.max(...xs.filter(Number.isFinite));
  child.kill('SIGKILL');
  await sleep(500);
  const database = { ...dbBreakdown(join(dataDir, 'node.db')), recall: recallBreakdown(join(dataDir, 'recall.db')) };
  const { path } = writeResult(
    values.out!,
    'soak-one',
    {
      minutes: metric(minutes, 'min'),
      load_scale: metric(scale, 'x (50 writes/s, 20 tasks/s, 200 agents at 1)'),
      memory_budget: metric(parseInt(values.budget!, 10), 'MB'),
      warmup_end: metric(warmS ?? NaN, 's'),
      rss_max_after_warmup: metric(maxOf(after.map((s) => s.rssMB)), 'MB'),
      heap_max_after_warmup: metric(maxOf(after.map((s) => s.heapMB)), 'MB'),
      live_heap_max_after_warmup: metric(maxOf(after.map((s) => s.liveAfterGcMB)), 'MB'),
      rss_growth: metric(fit((s) => s.rssMB), 'MB per 10 min'),
      heap_total_growth: metric(fit((s) => s.heapTotalMB), 'MB per 10 min'),
      live_heap_growth: metric(fit((s) => s.liveAfterGcMB), 'MB per 10 min'),
      disk_growth: metric(diskSlope, 'MB per 10 min'),
      disk_growth_without_wal: metric(fit((s) => withoutWalMB(s.files)), 'MB per 10 min'),
      disk_at_end: metric(samples.at(-1)?.diskMB ?? NaN, 'MB'),
      disk_after_30_days: metric(after30DaysMB(samples.at(-1)?.diskMB ?? NaN, diskSlope), 'MB'),
      write_p99_first: metric(p99.first, 'ms'),
      write_p99_last: metric(p99.last, 'ms'),
      write_p99_ratio: metric(p99.last / p99.first, 'x'),
      p99_window: metric(p99.spanMs / 1000, 's'),
      writes_sent: metric(n, 'writes'),
      writes_acknowledged: metric(allWrites.length, 'writes'),
      errors: metric(errors, 'errors'),
      load_average_max: metric(maxOf(samples.map((s) => s.load1)), 'load'),
      load_average_min: metric(Math.min(...samples.map((s) => s.load1)), 'load'),
      node_cpu_per_write: metric(((samples.at(-1)?.cpuS ?? NaN) / Math.max(1, allWrites.length)) * 1000, 'ms CPU per acknowledged write (tasks, sweeps and sampling included)'),
    },
    { heapFlags, policies: values.policies === 'all' ? { agents: SOAK_AGENT_POLICY, echo: ECHO_POLICY } : { echo: { maxEpisodes: 5000 } }, warmup: 'until the last policy sweep trimmed every written agent (echo included) and the task table was trimmed, at least 60 s', database, samples },
  );
  const result = JSON.parse(readFileSync(path, 'utf8')) as { metrics: Record<string, { value: number | null; unit: string }> };
  for (const [k, m] of Object.entries(result.metrics)) console.log(`${k}: ${m.value === null ? 'n/a' : Number.isInteger(m.value) ? m.value : m.value.toFixed(2)} ${m.unit}`);
  console.log(`database: ${JSON.stringify(database)}`);
  console.log(`wrote ${path}`);
  await c.close();
} finally {
  child.kill('SIGKILL');
  await sleep(300);
  rmSync(root, { recursive: true, force: true });
}
