// Benchmark `anti-entropy-idle` (DESIGN.md "Replicated agent memory"): what an in-sync
// anti-entropy (delta_only) round costs on the wire, with 1 and with 512 agent documents, against
// plain y-protocols, which sends a state vector and answers with the whole delete set for every
// document every round. Also: the same round when one document of the set changed.
//
// Two real nodes' memory stacks over TLS-PSK on loopback (bench/sync/harness.ts, addresses
// 127.0.9.1-127.0.9.4); a counting TCP relay sees every byte, TLS records included.
//
// Run after compiling: node dist/bench/run.js --only anti-entropy-idle --out bench/out [--quick]
import { join } from 'node:path';
import * as Y from 'yjs';
import { DEFAULT_SYNC_CONFIG } from '../src/sync/config.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { mean } from './lib/stats.js';
import { startPair, type NodePair } from './sync/harness.js';
import { framesAll, syncAll, wireAll } from './sync/layers.js';
import { inSync, measure, partition, quiet, reconnect } from './sync/measure.js';
import { newEpisode, seeded, smallChange } from './sync/workload.js';
import * as yp from './sync/yprotocols.js';
import { HOSTS } from './sync-bandwidth.js';

export interface AntiEntropyIdleOptions {
  out: string;
  quick: boolean;
  log?: (msg: string) => void;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * `docs` agent memories on A, replicated to B by a full snapshot. With one document it is a
 * large one (about 156 KB, as in the y-protocols figure); with many, small ones.
 */
async function populatedPair(docs: number, targetBytes: number, seed: number): Promise<NodePair> {
  const p = await startPair(HOSTS);
  partition(p);
  const rand = seeded(seed);
  for (let d = 0; d < docs; d++) {
    const mem = p.a.service.memory(`agent-${d}`);
    const doc = p.a.service.docs.doc(`agent/agent-${d}`);
    const first = await mem.addEpisode(newEpisode(rand, 0));
    let i = 1;
    // Episodes and small changes (counters and fields overwrite, so the delete set grows too).
    while (Y.encodeStateAsUpdate(doc).byteLength < targetBytes) {
      await mem.addEpisode(newEpisode(rand, i));
      await smallChange(mem, first, i);
      i++;
    }
  }
  const ok = await p.b.service.fullSnapshotFrom(p.a.name, 120_000);
  if (!ok) throw new Error('snapshot did not arrive');
  reconnect(p);
  await quiet(p);
  // Both directions' connections up (TLS handshakes done) before anything is counted.
  p.b.service.antiEntropyWith(p.a.name);
  await quiet(p);
  await inSync(p, 'populate');
  return p;
}

async function idleCase(docs: number, targetBytes: number, rounds: number, tls: { perRecord: number[] }, metrics: Metrics, peer: Metrics, log: (m: string) => void): Promise<{ ours: number; theirs: number }> {
  const p = await populatedPair(docs, targetBytes, 10 + docs);
  try {
    const samples = [];
    for (let r = 0; r < rounds; r++) samples.push(await measure(p, () => p.a.service.antiEntropyWith(p.b.name)));
    await inSync(p, 'idle');
    const wire = mean(samples.map(wireAll));
    const sync = mean(samples.map(syncAll));
    const frames = mean(samples.map(framesAll));
    for (const s of samples) tls.perRecord.push((wireAll(s) - s.tcpA - s.tcpB) / framesAll(s));
    const perRecord = mean(tls.perRecord);
    // y-protocols: each document pulled (step1 + step2), one way and both ways.
    let yOne = { messages: 0, bytes: 0 };
    let yBoth = { messages: 0, bytes: 0 };
    let totalYjs = 0;
    for (let d = 0; d < docs; d++) {
      const id = `agent/agent-${d}`;
      const a = p.a.service.docs.doc(id);
      const b = p.b.service.docs.doc(id);
      totalYjs += Y.encodeStateAsUpdate(a).byteLength;
      const one = yp.pullRound(b, a, false);
      const both = yp.pullRound(b, a, true);
      yOne = { messages: yOne.messages + one.messages, bytes: yOne.bytes + one.bytes };
      yBoth = { messages: yBoth.messages + both.messages, bytes: yBoth.bytes + both.bytes };
    }
    // One document of the set changes: the round narrows down to it.
    partition(p);
    const changed = p.a.service.memory('agent-0');
    const ep = p.a.service.peek('agent-0')!.list()[0]!.id;
    const n0 = p.a.localUpdateBytes.length;
    await smallChange(changed, ep, 999);
    const upd = p.a.localUpdateBytes.slice(n0).reduce((x, y) => x + y, 0);
    await quiet(p);
    const one = await measure(p, () => p.a.service.antiEntropyWith(p.b.name));
    await inSync(p, 'one changed');
    reconnect(p);

    const k = `docs${docs}`;
    metrics[`${k}_total_yjs_bytes`] = metric(totalYjs, 'bytes');
    metrics[`${k}_idle_round_wire_bytes`] = metric(r1(wire), 'bytes');
    metrics[`${k}_idle_round_sync_message_bytes`] = metric(r1(sync), 'bytes');
    metrics[`${k}_idle_round_messages`] = metric(r1(frames), 'messages');
    metrics[`${k}_idle_bytes_per_s_per_node`] = metric(r1(wire / (DEFAULT_SYNC_CONFIG.antiEntropyIntervalMs / 1000)), 'bytes/s');
    metrics[`${k}_one_changed_update_bytes`] = metric(upd, 'bytes');
    metrics[`${k}_one_changed_round_wire_bytes`] = metric(wireAll(one), 'bytes');
    metrics[`${k}_one_changed_round_messages`] = metric(framesAll(one), 'messages');
    peer[`${k}_idle_round_message_bytes`] = metric(yOne.bytes, 'bytes');
    peer[`${k}_idle_round_on_tls_stream_bytes`] = metric(Math.round(yp.onStream(yOne.bytes, yOne.messages, perRecord)), 'bytes');
    peer[`${k}_idle_round_both_ways_message_bytes`] = metric(yBoth.bytes, 'bytes');
    log(`${docs} doc(s), ${totalYjs} B of Yjs: idle round ${wire.toFixed(1)} B on the wire (${sync.toFixed(1)} B of sync messages, ${frames} messages); y-protocols ${yOne.bytes} B of messages one way (${yBoth.bytes} both ways); one doc changed: ${wireAll(one)} B in ${framesAll(one)} messages`);
    return { ours: wire, theirs: yp.onStream(yOne.bytes, yOne.messages, perRecord) };
  } finally {
    await p.close();
  }
}

export async function runAntiEntropyIdle(opts: AntiEntropyIdleOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[anti-entropy-idle] ${m}\n`));
  const metrics: Metrics = {};
  const peer: Metrics = {};
  const tls = { perRecord: [] as number[] };
  const rounds = opts.quick ? 5 : 30;
  const one = await idleCase(1, 156 * 1024, rounds, tls, metrics, peer, log);
  const many = await idleCase(opts.quick ? 64 : 512, 2 * 1024, rounds, tls, metrics, peer, log);
  metrics.tls_bytes_per_record = metric(r1(mean(tls.perRecord)), 'bytes');
  metrics.goal_idle_round_bytes = metric(64, 'bytes');
  const manyN = opts.quick ? 64 : 512;
  writeChart(
    join(opts.out, 'anti-entropy-idle.svg'),
    barChartSvg({
      title: 'Bytes on the wire per in-sync anti-entropy round (TLS)',
      unit: 'bytes per round',
      categories: ['1 document (156 KB)', `${manyN} documents`],
      series: [
        { name: 'trinity', values: [r1(one.ours), r1(many.ours)] },
        { name: 'y-protocols (step1+step2 per doc)', values: [Math.round(one.theirs), Math.round(many.theirs)] },
      ],
    }),
  );
  const { result, path } = writeResult(opts.out, 'anti-entropy-idle', metrics, {
    'y-protocols': {
      note: 'same documents; one y-protocols sync per document (SyncStep1 + SyncStep2, which carries the whole delete set), computed in the same run; *_on_tls_stream adds our measured per-message stream cost (4-byte length prefix + one TLS record)',
      metrics: peer,
    },
  });
  log(`wrote ${path}`);
  return result;
}
