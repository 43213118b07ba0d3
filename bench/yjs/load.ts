// The Yjs benchmark's load parts (bench/yjs-clients.ts): 100 clients writing to one document,
// a new client's initial sync of a large document, idle connections held.
import { sleep } from '../quorum/cluster.js';
import { procCpuSeconds, selfCpuSeconds } from '../quorum/load.js';
import { rssMb, until, type Endpoint, type Target } from './clients.js';

export interface ThroughputFigures {
  updatesPerSec: number;
  mbPerClient: number;
  /** CPU of the target's server processes over the writes, per update. */
  cpuMsPerUpdate: number;
  /** The same less what the servers spend with the clients connected and no writes (the floor: gossip, timers, pings), per update. */
  cpuMsPerUpdateAboveIdle: number;
  /** The servers' CPU with the clients connected and idle, in ms per second (all processes together). */
  idleCpuMsPerSec: number;
  clientCpuMsPerUpdate: number;
}

/** The idle span measured before the writes, for the floor. */
const IDLE_MS = 2_000;

export async function throughput(e: Endpoint, clients: number, perClient: number): Promise<ThroughputFigures> {
  const pids = e.pids();
  const rss0 = pids.reduce((s, p) => s + rssMb(p), 0);
  const cs = Array.from({ length: clients }, (_, i) => e.client('tp', i));
  const observer = e.client('tp', 2);
  try {
    await until('100 clients synced', () => cs.every((c) => c.synced()) && observer.synced(), 60_000);
    await sleep(500);
    const mbPerClient = (pids.reduce((s, p) => s + rssMb(p), 0) - rss0) / (clients + 1);
    const cpuIdle0 = pids.reduce((s, p) => s + procCpuSeconds(p), 0);
    const tIdle = performance.now();
    await sleep(IDLE_MS);
    const idleCpuMsPerSec = ((pids.reduce((s, p) => s + procCpuSeconds(p), 0) - cpuIdle0) * 1e6) / (performance.now() - tIdle);
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
    const idleMs = (idleCpuMsPerSec * elapsed) / 1000;
    return {
      updatesPerSec: (total / elapsed) * 1000,
      mbPerClient,
      cpuMsPerUpdate: (cpu * 1000) / total,
      cpuMsPerUpdateAboveIdle: (cpu * 1000 - idleMs) / total,
      idleCpuMsPerSec,
      clientCpuMsPerUpdate: (selfCpu * 1000) / total,
    };
  } finally {
    for (const c of cs) c.destroy();
    observer.destroy();
  }
}

/** The 10 MB document written through one client of each target (held open until done()). */
export async function writeBig(e: Endpoint, mb: number): Promise<{ chars: number; done: () => void }> {
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

export interface SyncFigures {
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
export async function initialSyncs(targets: Array<{ e: Endpoint; chars: number }>, rounds: number): Promise<Map<Target, SyncFigures>> {
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
export async function idle(e: Endpoint, n: number, holdMs: number): Promise<{ held: number; disconnects: number; connectCloses: number }> {
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

