// sync-bandwidth parts 1-3, bytes on the wire between two real nodes over TLS-PSK: per update,
// catch-up after missed updates and bytes per update by sync mode, and a large memory (full
// snapshot against delta); each beside plain y-protocols on the same documents.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import { barChartSvg, writeChart } from '../lib/svg-chart.js';
import { metric, type Metrics } from '../lib/result.js';
import { mean } from '../lib/stats.js';
import { startPair, type NodePair } from './harness.js';
import { delta, framesAll, snap, syncAll, wireAll, type LayerSnap } from './layers.js';
import { inSync, measure, partition, quiet, reconnect } from './measure.js';
import { newEpisode, seeded, smallChange } from './workload.js';
import * as yp from './yprotocols.js';
import { AGENT, DOC, HOSTS, r1, r2, sum } from './bandwidth-setup.js';

const MODES = ['full_snapshot', 'delta_only', 'on_demand', 'continuous'] as const;
type Mode = (typeof MODES)[number];

/** A fresh pair with connections up both ways (handshakes done) and `episodes` episodes on both. */
export async function warmPair(episodes: number, seed: number): Promise<{ p: NodePair; ep: string }> {
  const p = await startPair(HOSTS);
  const rand = seeded(seed);
  const mem = p.a.service.memory(AGENT);
  const ep = await mem.addEpisode(newEpisode(rand, 0));
  p.a.needAck = false;
  for (let i = 1; i < episodes; i++) await mem.addEpisode(newEpisode(rand, i));
  p.a.needAck = true;
  await quiet(p);
  p.b.service.antiEntropyWith('n1'); // opens B's connection too
  await quiet(p);
  await inSync(p, 'warm-up');
  return { p, ep };
}

/** Samples perUpdate left out because other traffic overlapped them. */
let discarded = 0;

interface UpdateSample {
  yjs: number;
  d: LayerSnap;
}

/** `count` writes through the replicated API, each awaited (continuous push + the peer's ack). */
async function perUpdate(p: NodePair, count: number, op: (i: number) => Promise<unknown>): Promise<UpdateSample[]> {
  const out: UpdateSample[] = [];
  for (let i = 0; i < count; i++) {
    const n0 = p.a.localUpdateBytes.length;
    const s0 = snap(p);
    await op(i);
    const d = delta(snap(p), s0);
    const made = p.a.localUpdateBytes.slice(n0);
    if (made.length !== 1) throw new Error(`a write made ${made.length} Yjs updates, expected 1`);
    // One frame each way (the update, its ack); anything else in flight would blur the sample.
    if (d.framesA === 1 && d.framesB === 1) out.push({ yjs: made[0]!, d });
    else discarded++;
  }
  return out;
}

function updateMetrics(prefix: string, samples: UpdateSample[], metrics: Metrics): { yjs: number; wire: number; ack: number } {
  const yjs = mean(samples.map((s) => s.yjs));
  const wire = mean(samples.map((s) => s.d.wireAB));
  const ack = mean(samples.map((s) => s.d.wireBA));
  const sync = mean(samples.map((s) => s.d.syncA));
  const rpc = mean(samples.map((s) => s.d.rpcA));
  const tcp = mean(samples.map((s) => s.d.tcpA));
  metrics[`${prefix}_yjs_bytes`] = metric(r1(yjs), 'bytes');
  metrics[`${prefix}_wire_bytes`] = metric(r1(wire), 'bytes');
  metrics[`${prefix}_overhead_bytes`] = metric(r1(wire - yjs), 'bytes');
  metrics[`${prefix}_overhead_sync_message`] = metric(r1(sync - yjs), 'bytes');
  metrics[`${prefix}_overhead_envelope_rpc`] = metric(r1(rpc - sync), 'bytes');
  metrics[`${prefix}_overhead_length_prefix`] = metric(r1(tcp - rpc), 'bytes');
  metrics[`${prefix}_overhead_tls`] = metric(r1(wire - tcp), 'bytes');
  metrics[`${prefix}_ack_wire_bytes`] = metric(r1(ack), 'bytes');
  return { yjs, wire, ack };
}

// ---- 1. per-update bytes (continuous push over TLS) --------------------------------------------

export async function perUpdateBytes(quick: boolean, metrics: Metrics, peer: Metrics, log: (m: string) => void): Promise<number> {
  const { p, ep } = await warmPair(1, 1);
  try {
    const mem = p.a.service.memory(AGENT);
    const n = quick ? 40 : 200;
    const small = await perUpdate(p, n, (i) => smallChange(mem, ep, i) as Promise<unknown>);
    const rand = seeded(2);
    const episodes = await perUpdate(p, quick ? 20 : 100, (i) => mem.addEpisode(newEpisode(rand, 100 + i)));
    await inSync(p, 'per-update');
    const s = updateMetrics('small_update', small, metrics);
    const e = updateMetrics('new_episode', episodes, metrics);
    // TLS bytes per record, measured: wire bytes minus the stream bytes handed to TLS, per frame.
    const all = [...small, ...episodes];
    const tlsPerRecord = sum(all.map((x) => wireAll(x.d) - x.d.tcpA - x.d.tcpB)) / sum(all.map((x) => framesAll(x.d)));
    metrics.tls_bytes_per_record = metric(r2(tlsPerRecord), 'bytes');
    metrics.update_samples_discarded = metric(discarded, 'samples');
    metrics.small_update_overhead_with_ack = metric(r1(s.wire + s.ack - s.yjs), 'bytes');
    // y-protocols: the update message alone (no doc id, no sender, no ack), and on our stream.
    const ySmall = mean(small.map((x) => yp.updateMessage(new Uint8Array(x.yjs)).byteLength));
    const yEp = mean(episodes.map((x) => yp.updateMessage(new Uint8Array(x.yjs)).byteLength));
    peer.small_update_message_bytes = metric(r1(ySmall), 'bytes');
    peer.small_update_overhead_bytes = metric(r1(ySmall - s.yjs), 'bytes');
    peer.small_update_on_tls_stream_bytes = metric(r1(yp.onStream(ySmall, 1, tlsPerRecord)), 'bytes');
    peer.new_episode_message_bytes = metric(r1(yEp), 'bytes');
    peer.new_episode_on_tls_stream_bytes = metric(r1(yp.onStream(yEp, 1, tlsPerRecord)), 'bytes');
    log(`small update: yjs ${s.yjs.toFixed(1)} B, wire ${s.wire.toFixed(1)} B (+${(s.wire - s.yjs).toFixed(1)}), ack ${s.ack.toFixed(1)} B; new episode: yjs ${e.yjs.toFixed(1)} B, wire ${e.wire.toFixed(1)} B; TLS ${tlsPerRecord.toFixed(2)} B/record`);
    return tlsPerRecord;
  } finally {
    await p.close();
  }
}

// ---- 2. catch-up after missing N updates, and bytes per update by sync mode -------------------

async function missUpdates(p: NodePair, ep: string, n: number, offset: number): Promise<number> {
  const mem = p.a.service.memory(AGENT);
  const n0 = p.a.localUpdateBytes.length;
  for (let i = 0; i < n; i++) await smallChange(mem, ep, offset + i);
  await quiet(p);
  return sum(p.a.localUpdateBytes.slice(n0));
}

function syncOnce(p: NodePair, mode: Exclude<Mode, 'continuous'>): () => unknown {
  switch (mode) {
    case 'delta_only':
      return () => p.a.service.antiEntropyWith('n2');
    case 'on_demand':
      return () => p.b.run(p.b.service.engine.syncDocument('n1', DOC, performance.now()));
    case 'full_snapshot':
      return () => p.b.service.fullSnapshotFrom('n1', 60_000);
  }
}

/** y-protocols bytes for the same sync, computed on the same two documents before ours runs. */
function ypBytes(p: NodePair, mode: Mode, updates: number[], tls: number): { msg: number; wire: number } {
  const aDoc = p.a.service.docs.doc(DOC);
  const bDoc = p.b.service.docs.doc(DOC);
  let r: { messages: number; bytes: number };
  if (mode === 'continuous') r = { messages: updates.length, bytes: sum(updates.map((u) => yp.updateMessage(new Uint8Array(u)).byteLength)) };
  else if (mode === 'delta_only') r = yp.pullRound(bDoc, aDoc, true);
  else if (mode === 'on_demand') r = yp.pullRound(bDoc, aDoc, false);
  else r = yp.pullRound(new Y.Doc(), aDoc, false);
  return { msg: r.bytes, wire: yp.onStream(r.bytes, r.messages, tls) };
}

export async function catchUpAndModes(quick: boolean, tls: number, metrics: Metrics, peer: Metrics, outDir: string, log: (m: string) => void): Promise<void> {
  const episodes = quick ? 20 : 100;
  const { p, ep } = await warmPair(episodes, 3);
  let offset = 0;
  try {
    // Catch-up: B misses N small updates, then one delta_only anti-entropy round (and, apart, an on_demand pull).
    for (const n of quick ? [1, 10, 100] : [1, 10, 100, 1000]) {
      for (const mode of ['delta_only', 'on_demand'] as const) {
        partition(p);
        const missed = await missUpdates(p, ep, n, offset);
        offset += n;
        const y = ypBytes(p, mode, [], tls);
        const d = await measure(p, syncOnce(p, mode));
        await inSync(p, `catch-up ${n} ${mode}`);
        reconnect(p);
        const tag = mode === 'delta_only' ? '' : '_on_demand';
        metrics[`catchup_${n}${tag}_updates_bytes`] = metric(missed, 'bytes');
        metrics[`catchup_${n}${tag}_wire_bytes`] = metric(wireAll(d), 'bytes');
        metrics[`catchup_${n}${tag}_ratio`] = metric(r2(wireAll(d) / missed), 'x');
        metrics[`catchup_${n}${tag}_sync_message_ratio`] = metric(r2(syncAll(d) / missed), 'x');
        peer[`catchup_${n}${tag}_message_ratio`] = metric(r2(y.msg / missed), 'x');
        peer[`catchup_${n}${tag}_on_tls_stream_ratio`] = metric(r2(y.wire / missed), 'x');
        log(`catch-up ${n} (${mode}): updates ${missed} B, wire ${wireAll(d)} B (${(wireAll(d) / missed).toFixed(2)}x), sync msgs ${syncAll(d)} B; y-protocols ${y.msg} B msgs, ${y.wire} B on stream`);
      }
    }

    // Bytes per update by sync mode, for bursts of K small updates between syncs.
    const ks = [1, 10];
    const ours: Record<number, number[]> = {};
    const theirs: Record<number, number[]> = {};
    for (const k of ks) {
      ours[k] = [];
      theirs[k] = [];
      for (const mode of MODES) {
        let wire: number;
        let y: { msg: number; wire: number };
        if (mode === 'continuous') {
          const mem = p.a.service.memory(AGENT);
          const n0 = p.a.localUpdateBytes.length;
          const d = await measure(p, async () => {
            for (let i = 0; i < k; i++) await smallChange(mem, ep, offset + i);
          });
          offset += k;
          wire = wireAll(d);
          y = ypBytes(p, mode, p.a.localUpdateBytes.slice(n0), tls);
        } else {
          partition(p);
          await missUpdates(p, ep, k, offset);
          offset += k;
          y = ypBytes(p, mode, [], tls);
          wire = wireAll(await measure(p, syncOnce(p, mode)));
          reconnect(p);
        }
        await inSync(p, `mode ${mode}`);
        ours[k]!.push(wire / k);
        theirs[k]!.push(y.wire / k);
        metrics[`mode_${mode}_k${k}_bytes_per_update`] = metric(r1(wire / k), 'bytes');
        peer[`mode_${mode}_k${k}_bytes_per_update_on_tls_stream`] = metric(r1(y.wire / k), 'bytes');
        peer[`mode_${mode}_k${k}_message_bytes_per_update`] = metric(r1(y.msg / k), 'bytes');
      }
    }
    metrics.mode_memory_episodes = metric(episodes, 'episodes');
    metrics.mode_memory_yjs_bytes = metric(Y.encodeStateAsUpdate(p.a.service.docs.doc(DOC)).byteLength, 'bytes');
    const svg = barChartSvg({
      title: `Bytes on the wire per small update by sync mode (${episodes}-episode memory, TLS)`,
      unit: 'bytes per update',
      categories: [...MODES],
      series: ks.flatMap((k) => [
        { name: `trinity, ${k} update${k > 1 ? 's' : ''}/sync`, values: ours[k]!.map(r1) },
        { name: `y-protocols, ${k} update${k > 1 ? 's' : ''}/sync`, values: theirs[k]!.map(r1) },
      ]),
    });
    writeChart(join(outDir, 'sync-bandwidth-modes.svg'), svg);
    // full_snapshot dwarfs the rest on a linear axis: the incremental modes get their own chart.
    const inc = MODES.map((m, i) => [m, i] as const).filter(([m]) => m !== 'full_snapshot');
    writeChart(
      join(outDir, 'sync-bandwidth-modes-incremental.svg'),
      barChartSvg({
        title: `Bytes per small update, incremental modes (${episodes}-episode memory, TLS)`,
        unit: 'bytes per update',
        categories: inc.map(([m]) => m),
        series: ks.flatMap((k) => [
          { name: `trinity, ${k} update${k > 1 ? 's' : ''}/sync`, values: inc.map(([, i]) => r1(ours[k]![i]!)) },
          { name: `y-protocols, ${k} update${k > 1 ? 's' : ''}/sync`, values: inc.map(([, i]) => r1(theirs[k]![i]!)) },
        ]),
      }),
    );
  } finally {
    await p.close();
  }
}

// ---- 3. a 10,000-episode memory: full snapshot against delta ----------------------------------

export async function bigMemory(quick: boolean, tls: number, metrics: Metrics, peer: Metrics, log: (m: string) => void): Promise<void> {
  const n = quick ? 2000 : 10_000;
  const p = await startPair(HOSTS);
  try {
    partition(p);
    const rand = seeded(4);
    const mem = p.a.service.memory(AGENT);
    const first = await mem.addEpisode(newEpisode(rand, 0));
    for (let i = 1; i < n; i++) await mem.addEpisode(newEpisode(rand, i));
    // Some activity on the episodes, as a working memory has (counters and fields overwrite: deletes).
    for (let i = 0; i < n / 10; i++) await smallChange(mem, first, i);
    const aDoc = p.a.service.docs.doc(DOC);
    const full = Y.encodeStateAsUpdate(aDoc).byteLength;
    const ySnap = ypBytes(p, 'full_snapshot', [], tls);
    const t0 = performance.now();
    const dSnap = await measure(p, () => p.b.service.fullSnapshotFrom('n1', 120_000));
    const snapMs = performance.now() - t0;
    await inSync(p, 'snapshot');
    // One small update afterwards, by anti-entropy (delta_only) and by continuous push.
    const missed = await missUpdates(p, first, 1, n);
    const yDelta = ypBytes(p, 'delta_only', [], tls);
    const dDelta = await measure(p, () => p.a.service.antiEntropyWith('n2'));
    await inSync(p, 'delta');
    reconnect(p);
    const dPush = await measure(p, () => smallChange(mem, first, n + 1));
    metrics.big_episodes = metric(n, 'episodes');
    metrics.big_yjs_bytes = metric(full, 'bytes');
    metrics.big_snapshot_wire_bytes = metric(wireAll(dSnap), 'bytes');
    metrics.big_snapshot_ms = metric(r1(snapMs), 'ms');
    metrics.big_delta_update_bytes = metric(missed, 'bytes');
    metrics.big_delta_ae_wire_bytes = metric(wireAll(dDelta), 'bytes');
    metrics.big_delta_push_wire_bytes = metric(wireAll(dPush), 'bytes');
    metrics.big_snapshot_over_delta = metric(Math.round(wireAll(dSnap) / wireAll(dDelta)), 'x');
    peer.big_snapshot_on_tls_stream_bytes = metric(ySnap.wire, 'bytes');
    peer.big_delta_round_message_bytes = metric(yDelta.msg, 'bytes');
    peer.big_delta_round_on_tls_stream_bytes = metric(yDelta.wire, 'bytes');
    log(`${n} episodes: Yjs ${full} B, snapshot ${wireAll(dSnap)} B on the wire in ${snapMs.toFixed(0)} ms; delta by AE ${wireAll(dDelta)} B, by push ${wireAll(dPush)} B; y-protocols delta round ${yDelta.msg} B`);
  } finally {
    await p.close();
  }
}
