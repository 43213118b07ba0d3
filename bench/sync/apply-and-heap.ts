// sync-bandwidth part 4, in one process: small updates applied per second through our receive
// path (frame and envelope decode, engine, store) and heap per agent document, each against
// plain y-protocols and Y.Docs.
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { encodeRpcFrame, decodeRpcFrame } from '../../src/rpc/frames.js';
import { decodeSyncEnvelope, encodeSyncEnvelope } from '../../src/memory/sync-envelope.js';
import { SYNC_METHOD } from '../../src/memory/memory-service.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { encodeMessage } from '../../src/sync/messages.js';
import type { NameWriter } from '../../src/sync/doc-names.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';
import type { DocSet } from '../../src/sync/types.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { metric, type Metrics } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { newEpisode, seeded, smallChange } from './workload.js';
import * as yp from './yprotocols.js';
import { AGENT, DOC } from './bandwidth-setup.js';

function makeUpdates(n: number): { base: Uint8Array; updates: Uint8Array[] } {
  const src = new AgentMemoryDoc({ node: 'w', random: seeded(5), agentId: AGENT });
  const ep = src.addEpisode(newEpisode(seeded(6), 0), { now: 1 });
  const base = Y.encodeStateAsUpdate(src.doc);
  const updates: Uint8Array[] = [];
  src.doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) smallChange(src, ep, i);
  return { base, updates };
}

export function applyThroughput(quick: boolean, metrics: Metrics, peer: Metrics, log: (m: string) => void): void {
  const n = quick ? 5000 : 20_000;
  const { base, updates } = makeUpdates(n);
  // Our receive path minus the socket: RPC frame decode, envelope decode, engine (validation,
  // apply, digest-tree mark, store append into the in-memory store), ack encoding.
  // As pushes travel: the first names the document in full (with the sender's epoch), the
  // others by its number (doc-names.ts).
  const names = (i: number): NameWriter => ({ epoch: 0x5eed, plan: () => ({ ref: 0, defined: i === 0 }) });
  const frames = updates.map((u, i) => encodeRpcFrame({ kind: 'notify', method: SYNC_METHOD, payload: encodeSyncEnvelope('n1', encodeMessage({ kind: 'update', requestId: i + 1, docId: DOC, update: u }, names(i))) }));
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const docs = new DurableDocSet(new MemoryStore({ nodeId: 'b', name: 'n2' }));
    ours.push(engineRate(docs, base, frames));
    const doc = new Y.Doc();
    Y.applyUpdate(doc, base);
    const msgs = updates.map((u) => yp.updateMessage(u));
    const t = performance.now();
    for (const m of msgs) yp.applyMessage(doc, m);
    theirs.push(n / ((performance.now() - t) / 1000));
    if (Y.encodeStateVector(doc).join() !== Y.encodeStateVector(docs.doc(DOC)).join()) throw new Error('throughput replicas differ');
  }
  // Where the time goes: the same messages into a DocSet without storage, and into the SQLite
  // store a real node uses (synchronous = FULL: one fsync per received update).
  const noStore: number[] = [];
  for (let rep = 0; rep < 3; rep++) noStore.push(engineRate(new YDocSet(), base, frames));
  const dir = mkdtempSync(join(tmpdir(), 'tri-bench-sync-'));
  try {
    const store = SqliteStore.open({ dir, name: 'n2' });
    metrics.apply_updates_per_s_sqlite_fsync = metric(Math.round(engineRate(new DurableDocSet(store), base, frames.slice(0, quick ? 300 : 1500))), 'updates/s');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  metrics.apply_updates_per_s_no_store = metric(Math.round(median(noStore)), 'updates/s');
  metrics.apply_updates_per_s = metric(Math.round(median(ours)), 'updates/s');
  peer.apply_updates_per_s = metric(Math.round(median(theirs)), 'updates/s');
  // Best of the runs: what the code does when no other process takes the CPU (shared machines).
  metrics.apply_updates_per_s_best = metric(Math.round(Math.max(...ours)), 'updates/s');
  peer.apply_updates_per_s_best = metric(Math.round(Math.max(...theirs)), 'updates/s');
  metrics.apply_load_average = metric(Math.round(loadavg()[0]! * 100) / 100, 'load');
  log(`apply: ${median(ours).toFixed(0)} updates/s with the in-memory store, ${median(noStore).toFixed(0)} without a store, ${metrics.apply_updates_per_s_sqlite_fsync!.value} with SQLite (fsync each); y-protocols ${median(theirs).toFixed(0)}`);
}

/** Updates per second through frame decode, envelope decode and the engine into `docs`. */
function engineRate(docs: DocSet, base: Uint8Array, frames: Uint8Array[]): number {
  docs.apply(DOC, base, { remotePeer: 'n1' });
  const engine = new SyncEngine({ docs });
  engine.addPeer('n1');
  const t = performance.now();
  for (const f of frames) {
    const frame = decodeRpcFrame(f);
    if (frame.kind !== 'notify') throw new Error('bad frame');
    const env = decodeSyncEnvelope(frame.payload);
    engine.handle(env.from, env.bytes, 0);
  }
  return frames.length / ((performance.now() - t) / 1000);
}

function gcFn(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function memoryPerDoc(quick: boolean, metrics: Metrics, peer: Metrics, log: (m: string) => void): void {
  const gc = gcFn();
  const docsN = quick ? 128 : 512;
  for (const episodes of [1, 20]) {
    // The content every replica gets: one agent memory of `episodes` episodes, as one update.
    const src = new AgentMemoryDoc({ node: 'w', random: seeded(7), agentId: AGENT });
    const rand = seeded(8);
    for (let i = 0; i < episodes; i++) src.addEpisode(newEpisode(rand, i), { now: i });
    const content = Y.encodeStateAsUpdate(src.doc);
    // Ours: a node's memory (durable doc set on the in-memory store, engine digest tree, AgentMemoryDoc handle).
    let h0 = heapAfterGc(gc);
    const docs = new DurableDocSet(new MemoryStore({ nodeId: 'm', name: 'm' }));
    const engine = new SyncEngine({ docs });
    const handles: AgentMemoryDoc[] = [];
    for (let i = 0; i < docsN; i++) {
      docs.apply(`agent/a${i}`, content, { remotePeer: 'w' });
      handles.push(new AgentMemoryDoc({ node: 'm', random: seeded(i), agentId: `a${i}`, doc: docs.doc(`agent/a${i}`) }));
    }
    engine.rootDigest();
    const ours = (heapAfterGc(gc) - h0) / docsN;
    // y-protocols keeps plain Y.Docs.
    h0 = heapAfterGc(gc);
    const plain: Y.Doc[] = [];
    for (let i = 0; i < docsN; i++) {
      const d = new Y.Doc();
      Y.applyUpdate(d, content);
      plain.push(d);
    }
    const theirs = (heapAfterGc(gc) - h0) / docsN;
    // (Also keeps every structure measured alive until here.)
    if (handles.length + plain.length !== 2 * docsN || docs.ids().length !== docsN || engine.peerList().length !== 0) throw new Error('unreachable');
    metrics[`memory_per_doc_${episodes}ep`] = metric(Math.round(ours), 'bytes');
    metrics[`memory_per_doc_${episodes}ep_yjs_bytes`] = metric(content.byteLength, 'bytes');
    peer[`memory_per_doc_${episodes}ep`] = metric(Math.round(theirs), 'bytes');
    log(`memory per doc (${episodes} episodes, ${content.byteLength} B Yjs): ${ours.toFixed(0)} B (plain Y.Doc ${theirs.toFixed(0)} B)`);
  }
}
