// Yjs clients against the cluster, beside the reference servers in the same run (issue 18):
// - trinity: 3 `tri node start` processes (127.0.18.101-103), stock y-websocket clients, every
//   echoed edit on a majority's disk;
// - y-websocket-server: @y/websocket-server in one process, in memory (no replication, no durability);
// - hocuspocus: @hocuspocus/server in one process, in memory, with @hocuspocus/provider clients.
// Measured per target: edit-to-other-client latency (p50/p99; on trinity the two clients are on
// different nodes), updates/s with 100 clients on one document, memory per connected client (RSS
// of the server processes), a new client's initial sync of a 10 MB document, and (trinity) 1,000
// idle stock clients held with no disconnect. Bounded in count and time.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { metric, summarize, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import { QuorumCluster, sleep } from './quorum/cluster.js';
import { load1m, procCpuSeconds, selfCpuSeconds } from './quorum/load.js';
import { createClientToken } from '../src/security/client-token.js';
import type { ScenarioOptions } from './lib/scenario.js';

const REF_HOST = '127.0.18.110';
type Target = 'trinity' | 'y-websocket-server' | 'hocuspocus';

/** One client of any target, as the measurements drive it. */
interface Client {
  doc: Y.Doc;
  synced(): boolean;
  destroy(): void;
  closes: number;
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

async function latency(e: Endpoint, edits: number): Promise<{ p50: number; p99: number }> {
  const a = e.client('lat', 0);
  const b = e.client('lat', 1);
  try {
    await until('latency clients synced', () => a.synced() && b.synced(), 20_000);
    const got = new Map<string, number>();
    b.doc.getMap('m').observe((ev) => {
      for (const k of ev.keysChanged) got.set(k, performance.now());
    });
    const ms: number[] = [];
    for (let i = 0; i < edits; i++) {
      const t0 = performance.now();
      a.doc.getMap('m').set(`k${i}`, i);
      await until(`edit ${i} on the other client`, () => got.has(`k${i}`), 10_000);
      ms.push(got.get(`k${i}`)! - t0);
      await sleep(5);
    }
    const s = summarize(ms.slice(Math.min(10, edits / 10)));
    return { p50: s.p50, p99: s.p99 };
  } finally {
    a.destroy();
    b.destroy();
  }
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

async function initialSync(e: Endpoint, mb: number): Promise<number> {
  const w = e.client('big', 0);
  try {
    await until('writer synced', () => w.synced(), 20_000);
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < mb; i++) w.doc.getText('t').insert(0, chunk);
    const reader0 = e.client('big', 1);
    await until('the document on the server', () => reader0.synced() && reader0.doc.getText('t').length >= mb * chunk.length, 60_000);
    reader0.destroy();
    const t0 = performance.now();
    const r = e.client('big', 2);
    await until('the new client synced', () => r.synced() && r.doc.getText('t').length >= mb * chunk.length, 60_000);
    const ms = performance.now() - t0;
    r.destroy();
    return ms;
  } finally {
    w.destroy();
  }
}

async function idle(e: Endpoint, n: number, holdMs: number): Promise<{ held: number; disconnects: number }> {
  const cs = Array.from({ length: n }, (_, i) => e.client(`idle-${i % 10}`, i));
  try {
    await until(`${n} idle clients synced`, () => cs.every((c) => c.synced()), 120_000);
    await sleep(holdMs);
    return { held: cs.filter((c) => c.synced()).length, disconnects: cs.reduce((s, c) => s + c.closes, 0) };
  } finally {
    for (const c of cs) c.destroy();
  }
}

export async function runYjsClients(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  // Every stock y-websocket provider adds a process 'exit' hook; hundreds run here at once.
  process.setMaxListeners(0);
  const quick = opts.quick;
  const edits = quick ? 100 : 300;
  const metrics: Metrics = {};
  const details: Record<string, unknown> = {};
  const cluster = new QuorumCluster({ prefix: '127.0.18.', first: 101 });
  const refs: ChildProcess[] = [];
  try {
    await cluster.start(3);
    const token = createClientToken(Buffer.from(cluster.key, 'base64'), { ttlMs: 3_600_000, now: Date.now() });
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
    for (const e of endpoints) {
      const lat = await latency(e, edits);
      const tp = await throughput(e, 100, quick ? 5 : 20);
      const sync = await initialSync(e, 10);
      log(`yjs-clients ${e.target}: edit->other client p50 ${lat.p50.toFixed(2)} ms p99 ${lat.p99.toFixed(2)} ms; 100 clients ${tp.updatesPerSec.toFixed(0)} updates/s (server CPU ${tp.cpuMsPerUpdate.toFixed(3)} ms/update, the 100 clients' process ${tp.clientCpuMsPerUpdate.toFixed(3)} ms/update), ${tp.mbPerClient.toFixed(3)} MB/client; 10 MB initial sync ${sync.toFixed(0)} ms`);
      const k = e.target.replace(/-/g, '_');
      metrics[`${k}_latency_p50`] = metric(round(lat.p50), 'ms');
      metrics[`${k}_latency_p99`] = metric(round(lat.p99), 'ms');
      metrics[`${k}_updates_per_s_100_clients`] = metric(Math.round(tp.updatesPerSec), 'updates/s');
      metrics[`${k}_server_cpu_per_update`] = metric(Math.round(tp.cpuMsPerUpdate * 1000) / 1000, 'ms');
      metrics[`${k}_client_cpu_per_update`] = metric(Math.round(tp.clientCpuMsPerUpdate * 1000) / 1000, 'ms');
      metrics[`${k}_memory_per_client`] = metric(round(tp.mbPerClient * 1024), 'KB');
      metrics[`${k}_initial_sync_10mb`] = metric(Math.round(sync), 'ms');
      details[e.target] = { latency: lat, throughput: tp, initialSyncMs: sync, loadAvg1m: load1m() };
    }
    const n = quick ? 300 : 1000;
    const holdMs = quick ? 40_000 : 60_000;
    const held = await idle({ ...trinity, client: (room) => yClient(`ws://${cluster.nodes[0]!.address}:10080/yjs/doc`, room, token) }, n, holdMs);
    log(`yjs-clients trinity: ${n} idle stock clients on one node held ${holdMs / 1000} s: ${held.held} still synced, ${held.disconnects} disconnects`);
    metrics.trinity_idle_clients_held = metric(held.held, 'clients');
    metrics.trinity_idle_disconnects = metric(held.disconnects, 'closes');
    metrics.trinity_p50_vs_y_websocket_server = metric(round(metrics.trinity_latency_p50!.value / metrics.y_websocket_server_latency_p50!.value), 'x');
  } finally {
    for (const r of refs) r.kill('SIGKILL');
    await cluster.stop();
  }
  return writeResult(opts.out, 'yjs-clients', metrics, {
    goals: { latency_p50_vs_reference: 1.5, initial_sync_10mb_ms: 2000 },
    cores: availableParallelism(),
    setup: 'trinity: 3 tri node processes (SQLite, fsync, quorum 2 of 3), stock y-websocket 3.1 clients, the latency pair on different nodes, an edit counts once the other client has it (the writer\'s echo waits for a majority). y-websocket-server 0.1.1 and @hocuspocus/server 4.7 in one process each, in memory, no durability; hocuspocus measured with @hocuspocus/provider. All clients in the benchmark process (its CPU per update is reported: with 100 clients every update is applied 100 times there, which bounds updates/s for every target alike); memory per client is the RSS growth of the server processes over 101 connected clients (garbage not yet collected included); every process shares this machine.',
    details,
  }).result;
}

const round = (x: number): number => Math.round(x * 100) / 100;
