// Yjs clients against the cluster, beside the reference servers in the same run (issue 18):
// - trinity: 3 `tri node start` processes (127.0.18.101-103), stock y-websocket clients, every
//   echoed edit on a majority's disk;
// - y-websocket-server: @y/websocket-server in one process, in memory (no replication, no durability);
// - hocuspocus: @hocuspocus/server in one process, in memory, with @hocuspocus/provider clients.
// Measured per target: edit-to-other-client latency (p50/p99; on trinity the two clients are on
// different nodes), updates/s with 100 clients on one document, memory per connected client (RSS
// of the server processes), a new client's initial sync of a 10 MB document, and (trinity) 1,000
// idle stock clients held with no disconnect. Latency and initial sync take turns between the
// targets (blocks of edits, one new client per round), so each sees the same machine load.
// TRI_YJS_BENCH_PARTS=latency,throughput,sync,idle picks parts. TRI_YJS_BENCH_BASELINE=PATH (another
// build's dist/src/cli/tri.js) adds a second cluster of that build to the latency turns (pairs
// `baseline*`: a before/after of one change in the same run). TRI_BENCH_NET moves the processes.
// Bounded in count and time.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { metric, summarize, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import { QuorumCluster, sleep } from './quorum/cluster.js';
import { load1m, procCpuSeconds, selfCpuSeconds } from './quorum/load.js';
import { createClientToken } from '../src/security/client-token.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { measureFsyncFloor } from './yjs/fsync-floor.js';
import { benchPrefix } from './lib/bench-net.js';

const PREFIX = benchPrefix('127.0.18.');
const REF_HOST = `${PREFIX}110`;
const BASELINE = process.env.TRI_YJS_BENCH_BASELINE;
/**
 * Clients of the `trinity-crowd` pair's document besides the pair, all on the writer's node: bare
 * sockets that decode nothing, so the one benchmark process that runs every client is not what
 * delays the pair's reader.
 */
const CROWD = 20;
type Target = 'trinity' | 'y-websocket-server' | 'hocuspocus';

/** One client of any target, as the measurements drive it. */
interface Client {
  doc: Y.Doc;
  synced(): boolean;
  destroy(): void;
  closes: number;
  /** Called with the map keys a document update the client receives sets (y-websocket: the echo of its own edit in the latency test). */
  onEcho?: (keys: string[]) => void;
}

interface Endpoint {
  target: Target;
  /** A client of document `room` through server number `i` (trinity: node i mod 3). */
  client(room: string, i: number): Client;
  pids(): number[];
}

function yClient(url: string, room: string, token?: string): Client {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, params: token ? { token } : {}, disableBc: true });
  const c: Client = { doc, synced: () => p.synced, destroy: () => p.destroy(), closes: 0 };
  p.on('connection-close', () => c.closes++);
  // The writer's own update coming back (sync message, update): what the stock client's sync status waits for.
  p.on('status', (e: { status: string }) => {
    if (e.status !== 'connected' || !p.ws) return;
    p.ws.addEventListener('message', (ev: MessageEvent) => {
      const d = new Uint8Array(ev.data as ArrayBuffer);
      if (d[0] !== 0 || d[1] !== 2 || !c.onEcho) return;
      const dec = decoding.createDecoder(d);
      decoding.readVarUint(dec);
      decoding.readVarUint(dec);
      const keys: string[] = [];
      for (const s of Y.decodeUpdate(decoding.readVarUint8Array(dec)).structs) if (s instanceof Y.Item && s.parentSub) keys.push(s.parentSub);
      c.onEcho(keys);
    });
  });
  return c;
}

/** A bare WebSocket on a document: it receives what the server sends and decodes nothing (a cheap crowd member). */
function rawClient(url: string): Client {
  const ws = new WebSocket(url);
  let open = false;
  const c: Client = { doc: new Y.Doc(), synced: () => open, destroy: () => ws.terminate(), closes: 0 };
  ws.on('open', () => (open = true));
  ws.on('close', () => c.closes++);
  ws.on('error', () => undefined);
  return c;
}

function hClient(url: string, room: string): Client {
  const doc = new Y.Doc();
  const ws = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket });
  const p = new HocuspocusProvider({ websocketProvider: ws, name: room, document: doc, token: 'x' });
  p.attach();
  const c: Client = {
    doc,
    synced: () => p.synced,
    destroy: () => {
      p.destroy();
      ws.destroy();
    },
    closes: 0,
  };
  p.on('close', () => c.closes++);
  return c;
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!ok()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
  return performance.now() - t0;
}

const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

function startRef(kind: Exclude<Target, 'trinity'>, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'yjs', 'ref-server.js'), kind, REF_HOST, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => proc.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

interface LatencyFigures {
  gapMs: number;
  p50: number;
  p99: number;
  echoP50?: number;
  echoP99?: number;
  echoes?: number;
  edits: number;
}

/** One pair of clients whose edit-to-other-client latency is measured. */
interface Pair {
  name: string;
  a: Client;
  b: Client;
  sent: Map<string, number>;
  got: Map<string, number>;
  /** When the writer heard its own update back (trinity: once a majority stored it). */
  echo: Map<string, number>;
  ms: number[];
  echoMs: number[];
  /** Further clients of the document (on the writer's node), only there to be delivered to. */
  crowd: Client[];
}

/**
 * Edit-to-other-client latency of every pair, measured in blocks that take turns (a block of
 * each pair, then the next round), so every target sees the same load from the rest of the
 * machine; within a block edits follow each other as in one target's own run (the next edit
 * `gapMs` after the other client had the last). The first block of each pair warms up.
 */
async function latencies(pairs: Pair[], edits: number, block: number, gapMs: number): Promise<void> {
  for (const p of pairs) {
    await until(`${p.name} latency clients synced`, () => p.a.synced() && p.b.synced() && p.crowd.every((c) => c.synced()), 20_000);
    p.b.doc.getMap('m').observe((ev) => {
      for (const k of ev.keysChanged) p.got.set(k, performance.now());
    });
  }
  const rounds = Math.ceil(edits / block) + 1;
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      for (let j = 0; j < block; j++) {
        const k = `k${r}-${j}`;
        const t0 = performance.now();
        if (r > 0) p.sent.set(k, t0);
        p.a.doc.getMap('m').set(k, j);
        await until(`edit ${k} on the other client (${p.name})`, () => p.got.has(k), 10_000);
        if (r > 0) p.ms.push(p.got.get(k)! - t0);
        await sleep(gapMs);
      }
    }
  }
  await sleep(500); // the last echoes
  for (const p of pairs) for (const [k, t0] of p.sent) if (p.echo.has(k)) p.echoMs.push(p.echo.get(k)! - t0);
}

function pair(name: string, a: Client, b: Client, crowd: Client[] = []): Pair {
  const p: Pair = { name, a, b, sent: new Map(), got: new Map(), echo: new Map(), ms: [], echoMs: [], crowd };
  a.onEcho = (keys) => {
    const now = performance.now();
    for (const k of keys) if (!p.echo.has(k)) p.echo.set(k, now);
  };
  return p;
}

async function throughput(e: Endpoint, clients: number, perClient: number): Promise<{ updatesPerSec: number; mbPerClient: number; cpuMsPerUpdate: number; clientCpuMsPerUpdate: number }> {
  const pids = e.pids();
  const rss0 = pids.reduce((s, p) => s + rssMb(p), 0);
  const cs = Array.from({ length: clients }, (_, i) => e.client('tp', i));
  const observer = e.client('tp', 2);
  try {
    await until('100 clients synced', () => cs.every((c) => c.synced()) && observer.synced(), 60_000);
    await sleep(500);
    const mbPerClient = (pids.reduce((s, p) => s + rssMb(p), 0) - rss0) / (clients + 1);
    const cpu0 = pids.reduce((s, p) => s + procCpuSeconds(p), 0);
    const self0 = selfCpuSeconds();
    const total = clients * perClient;
    const t0 = performance.now();
    for (let r = 0; r < perClient; r++) {
      for (const c of cs) c.doc.getArray('a').push([r]);
      await sleep(1);
    }
    await until('every update on the observer', () => observer.doc.getArray('a').length >= total, 120_000);
    const elapsed = performance.now() - t0;
    const cpu = pids.reduce((s, p) => s + procCpuSeconds(p), 0) - cpu0;
    // The clients all live in this process: each update reaches all of them, so this process's CPU bounds the rate too.
    const selfCpu = selfCpuSeconds() - self0;
    return { updatesPerSec: (total / elapsed) * 1000, mbPerClient, cpuMsPerUpdate: (cpu * 1000) / total, clientCpuMsPerUpdate: (selfCpu * 1000) / total };
  } finally {
    for (const c of cs) c.destroy();
    observer.destroy();
  }
}

/** The 10 MB document written through one client of each target (held open until done()). */
async function writeBig(e: Endpoint, mb: number): Promise<{ chars: number; done: () => void }> {
  const w = e.client('big', 0);
  try {
    await until('writer synced', () => w.synced(), 20_000);
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < mb; i++) w.doc.getText('t').insert(0, chunk);
    const chars = mb * chunk.length;
    const reader0 = e.client('big', 1);
    try {
      await until('the document on the server', () => reader0.synced() && reader0.doc.getText('t').length >= chars, 60_000);
    } finally {
      reader0.destroy();
    }
    return { chars, done: () => w.destroy() };
  } catch (err) {
    w.destroy();
    throw err;
  }
}

interface SyncFigures {
  /** Wall-clock from creating the client to having the whole document, per round. */
  ms: number[];
  /** CPU the target's server processes spent over the same span, per round. */
  serverCpuMs: number[];
}

/**
 * A new client's initial sync of the big document, in rounds that take turns between targets
 * (as the latency blocks do), so every target sees the same machine load; each round is a new
 * client (trinity: on a node other than the writer's; its room is empty again between rounds).
 */
async function initialSyncs(targets: Array<{ e: Endpoint; chars: number }>, rounds: number): Promise<Map<Target, SyncFigures>> {
  const out = new Map<Target, SyncFigures>(targets.map((t) => [t.e.target, { ms: [], serverCpuMs: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const { e, chars } of targets) {
      const pids = e.pids();
      const cpu0 = pids.reduce((s, p) => s + procCpuSeconds(p), 0);
      const t0 = performance.now();
      const r = e.client('big', 2);
      try {
        await until('the new client synced', () => r.synced() && r.doc.getText('t').length >= chars, 60_000);
        const ms = performance.now() - t0;
        const f = out.get(e.target)!;
        f.ms.push(ms);
        f.serverCpuMs.push((pids.reduce((s, p) => s + procCpuSeconds(p), 0) - cpu0) * 1000);
      } finally {
        r.destroy();
      }
      await sleep(300); // the server drops the room and the client's socket before the next target
    }
  }
  return out;
}

/** `n` idle clients over the endpoint's servers (trinity: i mod 3), 10 per document, each document's clients on one server. */
async function idle(e: Endpoint, n: number, holdMs: number): Promise<{ held: number; disconnects: number; connectCloses: number }> {
  const rooms = Math.max(3, Math.ceil(n / 30) * 3); // a multiple of 3: room r's clients are all on node r mod 3
  const cs = Array.from({ length: n }, (_, i) => e.client(`idle-${i % rooms}`, i));
  try {
    await until(`${n} idle clients synced`, () => cs.every((c) => c.synced()), 120_000);
    // Closes while connecting (a connect refused while thousands open at once, retried by the client) are not disconnects of held clients.
    const closes = (): number => cs.reduce((s, c) => s + c.closes, 0);
    const connectCloses = closes();
    await sleep(holdMs);
    return { held: cs.filter((c) => c.synced()).length, disconnects: closes() - connectCloses, connectCloses };
  } finally {
    for (const c of cs) c.destroy();
  }
}

export async function runYjsClients(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  // Every stock y-websocket provider adds a process 'exit' hook; hundreds run here at once.
  process.setMaxListeners(0);
  const quick = opts.quick;
  const parts = benchParts();
  const edits = quick ? 100 : 300;
  const metrics: Metrics = {};
  const details: Record<string, unknown> = {};
  const cluster = new QuorumCluster({ prefix: PREFIX, first: 101 });
  const baseline = BASELINE && parts.has('latency') ? new QuorumCluster({ prefix: PREFIX, first: 111, triPath: BASELINE }) : undefined;
  const refs: ChildProcess[] = [];
  try {
    await cluster.start(3);
    if (baseline) await baseline.start(3);
    const token = createClientToken(Buffer.from(cluster.key, 'base64'), { ttlMs: 3_600_000, now: Date.now() });
    const baseToken = baseline ? createClientToken(Buffer.from(baseline.key, 'base64'), { ttlMs: 3_600_000, now: Date.now() }) : '';
    const baseClient = (room: string, i: number): Client => yClient(`ws://${baseline!.nodes[i % 3]!.address}:10080/yjs/doc`, room, baseToken);
    const trinity: Endpoint = {
      target: 'trinity',
      client: (room, i) => yClient(`ws://${cluster.nodes[i % 3]!.address}:10080/yjs/doc`, room, token),
      pids: () => cluster.nodes.map((n) => n.proc.pid!),
    };
    const ywss = await startRef('y-websocket-server', 1234);
    refs.push(ywss);
    const hocus = await startRef('hocuspocus', 1235);
    refs.push(hocus);
    const endpoints: Endpoint[] = [
      trinity,
      { target: 'y-websocket-server', client: (room) => yClient(`ws://${REF_HOST}:1234`, room), pids: () => [ywss.pid!] },
      { target: 'hocuspocus', client: (room) => hClient(`ws://${REF_HOST}:1235`, room), pids: () => [hocus.pid!] },
    ];
    // Latency first, every target in the same stretch of time (blocks taking turns, see latencies()).
    // Edits 5 ms apart (a stream: the durable work of one edit overlaps the next), then 50 ms apart
    // (a fast typist: each edit alone).
    const lat: Record<string, LatencyFigures> = {};
    for (const [gapMs, n, suffix] of parts.has('latency') ? ([[5, edits, ''], [50, quick ? 40 : 100, '_gap50']] as const) : []) {
      const pairs = [
        pair('trinity', trinity.client(`lat${gapMs}`, 0), trinity.client(`lat${gapMs}`, 1)),
        // Another build's cluster (TRI_YJS_BENCH_BASELINE), each of its pairs next to ours in the turn.
        ...(baseline ? [pair('baseline', baseClient(`lat${gapMs}`, 0), baseClient(`lat${gapMs}`, 1))] : []),
        pair('trinity-same-node', trinity.client(`lat${gapMs}-same`, 0), trinity.client(`lat${gapMs}-same`, 3)),
        // The other client on the node the writer's node pushes to second.
        pair('trinity-node3', trinity.client(`lat${gapMs}-n3`, 0), trinity.client(`lat${gapMs}-n3`, 2)),
        ...(baseline ? [pair('baseline-node3', baseClient(`lat${gapMs}-n3`, 0), baseClient(`lat${gapMs}-n3`, 2))] : []),
        // As `trinity`, with 20 more clients of the document on the writer's node (its local fan-out).
        pair('trinity-crowd', trinity.client(`lat${gapMs}-crowd`, 0), trinity.client(`lat${gapMs}-crowd`, 1), Array.from({ length: CROWD }, () => rawClient(`ws://${cluster.nodes[0]!.address}:10080/yjs/doc/lat${gapMs}-crowd?token=${token}`))),
        ...endpoints.slice(1).map((e) => pair(e.target, e.client(`lat${gapMs}`, 0), e.client(`lat${gapMs}`, 1))),
      ];
      try {
        await latencies(pairs, n, 20, gapMs);
      } finally {
        for (const p of pairs) {
          p.a.destroy();
          p.b.destroy();
          for (const c of p.crowd) c.destroy();
        }
      }
      for (const p of pairs) {
        const s = summarize(p.ms);
        const e = p.echoMs.length > 0 ? summarize(p.echoMs) : undefined;
        lat[`${p.name}${suffix}`] = { gapMs, p50: s.p50, p99: s.p99, ...(e ? { echoP50: e.p50, echoP99: e.p99, echoes: p.echoMs.length } : {}), edits: p.ms.length };
        const k = p.name.replace(/-/g, '_');
        metrics[`${k}_latency_p50${suffix}`] = metric(round(s.p50), 'ms');
        metrics[`${k}_latency_p99${suffix}`] = metric(round(s.p99), 'ms');
        if (e) metrics[`${k}_echo_p50${suffix}`] = metric(round(e.p50), 'ms');
        log(`yjs-clients ${p.name}, edits ${gapMs} ms apart: edit->other client p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)} ms${e ? `; edit->writer's echo p50 ${e.p50.toFixed(2)} ms p99 ${e.p99.toFixed(2)} ms (${p.echoMs.length} echoes seen)` : ''} (${p.ms.length} edits)`);
      }
      const ref = lat[`y-websocket-server${suffix}`]!.p50;
      const ratio = (name: string, to: number): number => round(lat[`${name}${suffix}`]!.p50 / to);
      metrics[`trinity_p50_vs_y_websocket_server${suffix}`] = metric(ratio('trinity', ref), 'x');
      metrics[`trinity_same_node_p50_vs_y_websocket_server${suffix}`] = metric(ratio('trinity-same-node', ref), 'x');
      metrics[`trinity_node3_p50_vs_y_websocket_server${suffix}`] = metric(ratio('trinity-node3', ref), 'x');
      metrics[`trinity_crowd_p50_vs_y_websocket_server${suffix}`] = metric(ratio('trinity-crowd', ref), 'x');
      metrics[`hocuspocus_p50_vs_y_websocket_server${suffix}`] = metric(ratio('hocuspocus', ref), 'x');
      metrics[`trinity_p50_vs_hocuspocus${suffix}`] = metric(ratio('trinity', lat[`hocuspocus${suffix}`]!.p50), 'x');
      if (baseline) metrics[`baseline_p50_vs_y_websocket_server${suffix}`] = metric(ratio('baseline', ref), 'x');
      log(`yjs-clients p50 ratios, edits ${gapMs} ms apart: trinity ${metrics[`trinity_p50_vs_y_websocket_server${suffix}`]!.value}x y-websocket-server (same node ${metrics[`trinity_same_node_p50_vs_y_websocket_server${suffix}`]!.value}x), hocuspocus ${metrics[`hocuspocus_p50_vs_y_websocket_server${suffix}`]!.value}x; trinity ${metrics[`trinity_p50_vs_hocuspocus${suffix}`]!.value}x hocuspocus`);
    }
    if (parts.has('latency')) {
      const floor = measureFsyncFloor(tmpdir());
      metrics.disk_commit_p50 = metric(round(floor.sqliteCommitP50Ms), 'ms');
      metrics.disk_fdatasync_p50 = metric(round(floor.fdatasyncP50Ms), 'ms');
      log(`yjs-clients disk floor (what the writer's echo waits for on a majority): one SQLite commit p50 ${floor.sqliteCommitP50Ms.toFixed(2)} ms p99 ${floor.sqliteCommitP99Ms.toFixed(2)} ms, fdatasync p50 ${floor.fdatasyncP50Ms.toFixed(2)} ms`);
      details.latency = lat;
      details.diskFloor = floor;
      details.latencyLoadAvg1m = load1m();
    }
    for (const e of parts.has('throughput') ? endpoints : []) {
      const tp = await throughput(e, 100, quick ? 5 : 20);
      log(`yjs-clients ${e.target}: 100 clients ${tp.updatesPerSec.toFixed(0)} updates/s (server CPU ${tp.cpuMsPerUpdate.toFixed(3)} ms/update, the 100 clients' process ${tp.clientCpuMsPerUpdate.toFixed(3)} ms/update), ${tp.mbPerClient.toFixed(3)} MB/client`);
      const k = e.target.replace(/-/g, '_');
      metrics[`${k}_updates_per_s_100_clients`] = metric(Math.round(tp.updatesPerSec), 'updates/s');
      metrics[`${k}_server_cpu_per_update`] = metric(Math.round(tp.cpuMsPerUpdate * 1000) / 1000, 'ms');
      metrics[`${k}_client_cpu_per_update`] = metric(Math.round(tp.clientCpuMsPerUpdate * 1000) / 1000, 'ms');
      metrics[`${k}_memory_per_client`] = metric(round(tp.mbPerClient * 1024), 'KB');
      details[e.target] = { throughput: tp, loadAvg1m: load1m() };
    }
    if (parts.has('sync')) {
      // Every target's 10 MB document first, then the new clients' syncs taking turns.
      const bigs = [];
      try {
        for (const e of endpoints) bigs.push({ e, ...(await writeBig(e, 10)) });
        const syncs = await initialSyncs(bigs, quick ? 3 : 5);
        for (const [target, f] of syncs) {
          const k = target.replace(/-/g, '_');
          const ms = median(f.ms);
          const cpu = median(f.serverCpuMs);
          metrics[`${k}_initial_sync_10mb`] = metric(Math.round(ms), 'ms');
          metrics[`${k}_initial_sync_10mb_server_cpu`] = metric(Math.round(cpu), 'ms');
          details[`${target}_initial_sync`] = { ...f, loadAvg1m: load1m() };
          log(`yjs-clients ${target}: 10 MB initial sync, median of ${f.ms.length} new clients: ${ms.toFixed(0)} ms (each: ${f.ms.map((x) => x.toFixed(0)).join(', ')}), server CPU ${cpu.toFixed(0)} ms`);
        }
        metrics.trinity_initial_sync_vs_y_websocket_server = metric(round(metrics.trinity_initial_sync_10mb!.value / metrics.y_websocket_server_initial_sync_10mb!.value), 'x');
      } finally {
        for (const b of bigs) b.done();
      }
    }
    if (parts.has('idle')) {
      const perNode = quick ? 300 : 1000;
      const holdMs = quick ? 40_000 : 60_000;
      const held = await idle(trinity, perNode * 3, holdMs);
      log(`yjs-clients trinity: ${perNode} idle stock clients per node (${perNode * 3} on 3 nodes, 10 per document) held ${holdMs / 1000} s: ${held.held} still synced, ${held.disconnects} disconnects while held (${held.connectCloses} closes while connecting, retried by the clients)`);
      metrics.trinity_idle_clients_per_node = metric(perNode, 'clients');
      metrics.trinity_idle_clients_held = metric(held.held, 'clients');
      metrics.trinity_idle_disconnects = metric(held.disconnects, 'closes');
      metrics.trinity_idle_connect_closes = metric(held.connectCloses, 'closes');
    }
  } finally {
    for (const r of refs) r.kill('SIGKILL');
    await cluster.stop();
    await baseline?.stop();
  }
  // The reference servers' figures also as peer sections, for the performance table (bench/readme-table.ts).
  const peerMetrics = (prefix: string): { metrics: Metrics } => ({ metrics: Object.fromEntries(Object.entries(metrics).filter(([k]) => k.startsWith(prefix))) });
  return writeResult(opts.out, 'yjs-clients', metrics, {
    'y-websocket-server': peerMetrics('y_websocket_server_'),
    hocuspocus: peerMetrics('hocuspocus_'),
    goals: { latency_p50_vs_reference: 1.5, initial_sync_10mb_ms: 2000 },
    latencyMethod: 'pairs of clients, one per target (trinity: on nodes 1 and 2; trinity-same-node: both on node 1; trinity-node3: on nodes 1 and 3, the peer node 1 pushes to second; trinity-crowd: as trinity with 20 more clients of the document on node 1), measured in blocks of 20 edits that take turns between targets (so all see the same machine load), the next edit 5 ms after the other client had the last (metrics *_gap50: 50 ms, each edit alone); the first block of each pair is warm-up. An edit counts once the other client has it; the echo is when the writer heard its own update back (trinity: only after a majority stored it; the reference servers echo at once).',
    initialSyncMethod: 'one 10 MB document per target (10 inserts of 1 MiB through one client), then a new client per round taking turns between targets (3 rounds quick, 5 full; trinity: on a node other than the writer\'s); the figure is the median from creating the client to having the whole document, and *_server_cpu the median CPU of the target\'s server processes over that span.',
    cores: availableParallelism(),
    setup: 'trinity: 3 tri node processes (SQLite, fsync, quorum 2 of 3), stock y-websocket 3.1 clients, the latency pair on different nodes, an edit counts once the other client has it (the writer\'s echo waits for a majority). y-websocket-server 0.1.1 and @hocuspocus/server 4.7 in one process each, in memory, no durability; hocuspocus measured with @hocuspocus/provider. All clients in the benchmark process (its CPU per update is reported: with 100 clients every update is applied 100 times there, which bounds updates/s for every target alike); memory per client is the RSS growth of the server processes over 101 connected clients (garbage not yet collected included); every process shares this machine.',
    details,
  }).result;
}

const round = (x: number): number => Math.round(x * 100) / 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const PARTS = ['latency', 'throughput', 'sync', 'idle'] as const;
/** TRI_YJS_BENCH_PARTS=latency,sync runs only those parts (A/B runs of one change); default: all. */
function benchParts(): Set<string> {
  const env = process.env.TRI_YJS_BENCH_PARTS;
  if (!env) return new Set(PARTS);
  const want = env.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = want.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`TRI_YJS_BENCH_PARTS: unknown part(s) ${unknown.join(', ')}; use some of ${PARTS.join(', ')}`);
  return new Set(want);
}
