// quorum-writes: acknowledged episode write latency (p50, p99) and throughput on 3 and 5 real
// `tri node start` processes on loopback (127.0.11.x, durable SQLite data directories); 5 both
// with RF 5 (everyone) and with RF 3 (replica sets): SIZES.
//
// Load: the RPC client (NodeClient.addEpisode over TLS-PSK), i.e. exactly what `tri memory add`
// and any remote program do, from this (separate) process, so the figures include the client
// round trip and no benchmark code runs inside the nodes. A write is counted once it resolved:
// a majority of voters stored it with fsync.
// - latency: one write in flight at a time on node 1 (the unloaded latency a caller sees);
// - throughput: many writes in flight, spread over every node as coordinator, for a fixed time
//   after an uncounted warm-up at the same load; the latencies under that load are reported too.
// The machine's 1-minute load average is recorded with each size (other work shares the cores).
import { join } from 'node:path';
import { barChartSvg, writeChart, writeResult, metric, summarize, type BenchResult, type Metrics } from './lib/index.js';
import { peerBarChart } from './peers/peer-charts.js';
import { writeSplit } from './peers/write-split.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { QuorumCluster } from './quorum/cluster.js';
import { cpuPerWriteAboveIdle, idleCpuMsPerSec, load1m, procCpuSeconds, runLoad, schedMsOf, selfCpuSeconds, shareWithin, writeLatencyBuckets } from './quorum/load.js';
import { measureWriteFloor, writeFloorArithmetic } from './quorum/write-floor.js';
import { availableParallelism } from 'node:os';
import { busyShare, runEtcdWrites, runNatsWrites } from './peers/quorum-peers.js';
import { peerEnabled, ratioMetrics, type PeerSection } from './peers/ratios.js';

export const GOALS = { p50Ms: 2, p99Ms: 10, writesPerSec5: 5_000 };

/**
 * The loaded warm-up before the measured phases, the same for ours and the peers: this many
 * acknowledged writes at the measured concurrency, or this long at most (a starved machine).
 */
export function warmUp(quick: boolean | undefined): { writes: number; maxMs: number } {
  return quick ? { writes: 4_000, maxMs: 30_000 } : { writes: 20_000, maxMs: 120_000 };
}

/**
 * The runs: n processes founded with replication factor rf. `n5` is RF 5 (every node holds and
 * acknowledges every write: the shape etcd and NATS are compared with); `n5_rf3` the same five
 * processes with each agent's memory on 3 of them (replica sets, docs/replica-sets.md).
 */
export const SIZES = [
  { key: 'n3', n: 3, rf: 3 },
  { key: 'n5', n: 5, rf: 5 },
  { key: 'n5_rf3', n: 5, rf: 3 },
] as const;

/**
 * For A/B runs by hand (docs/performance.md): TRI_QUORUM_SIZES=n5,n5_rf3 runs only those sizes,
 * TRI_QUORUM_TRI=PATH/dist/src/cli/tri.js runs the nodes from another build.
 */
function sizesToRun(): ReadonlyArray<(typeof SIZES)[number]> {
  const only = process.env.TRI_QUORUM_SIZES?.split(',').map((s) => s.trim()).filter(Boolean);
  return only?.length ? SIZES.filter((s) => only.includes(s.key)) : SIZES;
}

export async function runQuorumWrites(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const metrics: Metrics = {};
  const details: Record<string, unknown> = {};
  for (const { key, n, rf } of sizesToRun()) {
    const cluster = new QuorumCluster({ triArgs: ['--replication-factor', String(rf)], triPath: process.env.TRI_QUORUM_TRI || undefined });
    try {
      await cluster.start(n);
      const clients = [];
      for (let i = 0; i < n; i++) clients.push(await cluster.client(i));
      // Warm-up: TLS sessions, documents created, then the write path compiled. V8 goes on
      // compiling it for seconds of load (TurboFan on background threads, about a fifth of the
      // nodes' CPU in the first 4 s after a light warm-up), so a few hundred writes leave the
      // latency phase timing the compiler: measured cold, p50 at 5 nodes was ~2.4-2.6 ms against
      // ~1.5-1.7 ms once warm. So the loaded warm-up runs first, uncounted, and both phases
      // measure a warmed-up node, as a long-running cluster is. The loaded warm-up is counted in
      // writes, not time (WARM_UP): on a machine shared with other work 1.5 s was ~300 writes, and
      // the compiler was still running (TurboFan on background threads, ~45% of the nodes' CPU:
      // CPU per write fell from 3.9 to 1.6 ms over five 5 s windows of load after it, 7 Dec 21:12).
      await runLoad({ clients, concurrency: 8, maxWrites: opts.quick ? 200 : 1_000, maxMs: 20_000, agents: 32 });
      const concurrency = opts.quick ? 64 : 256;
      const warm = warmUp(opts.quick);
      const warmed = await runLoad({ clients, concurrency, maxWrites: warm.writes, maxMs: warm.maxMs, agents: 64 });
      const warmMs = Math.round(warmed.elapsedMs);

      const buckets0 = await writeLatencyBuckets(cluster.address(0)).catch(() => new Map<number, number>());
      const seq = await runLoad({ clients: [clients[0]!], concurrency: 1, maxWrites: opts.quick ? 300 : 2_000, maxMs: 30_000, agents: 32 });
      const loadSeq = load1m();
      // The node's own view (tri_write_latency_seconds): from the write call to the majority's acks.
      const buckets1 = await writeLatencyBuckets(cluster.address(0)).catch(() => new Map<number, number>());
      const within2 = shareWithin(buckets0, buckets1, 0.002);
      const within10 = shareWithin(buckets0, buckets1, 0.01);
      const s = summarize(seq.latencies);
      log(`quorum-writes ${key} (n=${n}, RF ${rf}): sequential p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)} ms (${seq.acked} acked, load ${loadSeq}); node-side ${(within2 * 100).toFixed(1)}% within 2 ms, ${(within10 * 100).toFixed(1)}% within 10 ms`);

      // What the nodes spend with no writes (gossip, anti-entropy probes, timers): CPU per write
      // under load includes it, divided by the writes, so a starved run's figure is partly this.
      const nodeCpu = (): number => cluster.nodes.reduce((a, x) => a + procCpuSeconds(x.proc.pid), 0);
      const idleMsPerSec = await idleCpuMsPerSec(nodeCpu, opts.quick ? 3_000 : 6_000);

      // Back to the measured load for a moment (uncounted) after the idle sequential phase.
      await runLoad({ clients, concurrency, maxWrites: 1_000_000, maxMs: 500, agents: 64 });
      const pids = (): (number | undefined)[] => cluster.nodes.map((x) => x.proc.pid);
      const cpu0 = { nodes: nodeCpu(), client: selfCpuSeconds(), sched: schedMsOf(pids()) };
      const tp = await runLoad({ clients, concurrency, maxWrites: 1_000_000, maxMs: opts.quick ? 3_000 : 8_000, agents: 64 });
      // Time the nodes' threads were runnable but waiting for a core, per write (Linux schedstat).
      const sched = schedMsOf(pids());
      const runQueueMs = (sched.runQueueMs - cpu0.sched.runQueueMs) / Math.max(1, tp.acked);
      const loadTp = load1m();
      const cpuNodesMs = ((nodeCpu() - cpu0.nodes) * 1000) / Math.max(1, tp.acked);
      const cpuClientMs = ((selfCpuSeconds() - cpu0.client) * 1000) / Math.max(1, tp.acked);
      const t = summarize(tp.latencies);
      const rate = (tp.acked / tp.elapsedMs) * 1000;
      log(`quorum-writes ${key} (n=${n}, RF ${rf}): ${rate.toFixed(0)} acked writes/s with ${concurrency} in flight, p50 ${t.p50.toFixed(2)} ms p99 ${t.p99.toFixed(2)} ms (load ${loadTp}) errors ${JSON.stringify(tp.errors)}; CPU per write: nodes ${cpuNodesMs.toFixed(3)} ms (${cpuPerWriteAboveIdle(cpuNodesMs, idleMsPerSec, rate).toFixed(3)} above their idle ${idleMsPerSec.toFixed(1)} ms/s), client ${cpuClientMs.toFixed(3)} ms; run-queue wait per write ${runQueueMs.toFixed(2)} ms over ${sched.threads} threads`);

      metrics[`${key}_latency_p50`] = metric(round(s.p50), 'ms');
      metrics[`${key}_latency_p99`] = metric(round(s.p99), 'ms');
      metrics[`${key}_node_side_within_2ms`] = metric(round(within2 * 100), '%');
      metrics[`${key}_node_side_within_10ms`] = metric(round(within10 * 100), '%');
      metrics[`${key}_throughput`] = metric(Math.round(rate), 'writes/s');
      metrics[`${key}_loaded_latency_p50`] = metric(round(t.p50), 'ms');
      metrics[`${key}_loaded_latency_p99`] = metric(round(t.p99), 'ms');
      metrics[`${key}_errors`] = metric(Object.values({ ...seq.errors, ...tp.errors }).reduce((a, b) => a + b, 0), 'writes');
      metrics[`${key}_node_cpu_per_write`] = metric(Math.round(cpuNodesMs * 1000) / 1000, 'ms');
      metrics[`${key}_client_cpu_per_write`] = metric(Math.round(cpuClientMs * 1000) / 1000, 'ms');
      metrics[`${key}_idle_cpu_per_s`] = metric(round(idleMsPerSec), 'ms/s');
      metrics[`${key}_node_cpu_per_write_above_idle`] = metric(Math.round(cpuPerWriteAboveIdle(cpuNodesMs, idleMsPerSec, rate) * 1000) / 1000, 'ms');
      metrics[`${key}_cpu_busy_share`] = metric(round(busyShare(cpuNodesMs + cpuClientMs, rate) * 100), '%');
      metrics[`${key}_runqueue_wait_per_write`] = metric(round(runQueueMs), 'ms');
      metrics[`${key}_server_threads`] = metric(sched.threads, 'threads');
      metrics[`${key}_load_avg_1m`] = metric(loadTp, 'load');
      details[key] = { replicationFactor: rf, sequential: { ...s, acked: seq.acked, errors: seq.errors, loadAvg1m: loadSeq }, loaded: { ...t, concurrency, warmUpMs: warmMs, warmUpWrites: warmed.acked, acked: tp.acked, elapsedMs: Math.round(tp.elapsedMs), errors: tp.errors, loadAvg1m: loadTp } };
    } finally {
      await cluster.stop();
    }
  }
  // The floor (write-floor.ts): the CPU the write path itself needs, without the processes.
  const floor = measureWriteFloor(opts.quick ? 8_000 : 20_000);
  // The same with one message per push and per ack (coalescePushes off, as before it existed).
  const floorPerPush = measureWriteFloor(opts.quick ? 8_000 : 20_000, 32, 64, false);
  log(
    `quorum-writes floor, a turn of 32 writes: coalesced writer ${floor.writerUs.toFixed(0)} us + replica ${floor.replicaUs.toFixed(0)} us, ${floor.messagesPerWrite.toFixed(3)} messages per write and replica; ` +
      `one message per push/ack: writer ${floorPerPush.writerUs.toFixed(0)} us + replica ${floorPerPush.replicaUs.toFixed(0)} us, ${floorPerPush.messagesPerWrite.toFixed(3)} messages`,
  );
  const cores = availableParallelism();
  for (const { key, rf: n } of SIZES) {
    // Per write: the writer and the other RF - 1 replicas of the agent (a write taken outside the set is forwarded: one RPC hop more).
    const f = writeFloorArithmetic(floor, n, cores);
    const measured = metrics[`${key}_node_cpu_per_write`]?.value;
    log(
      `quorum-writes floor ${key} (RF ${n}): writer ${floor.writerUs.toFixed(0)} us + ${n - 1} x replica ${floor.replicaUs.toFixed(0)} us (SQLite ${floor.replicaStoreUs.toFixed(0)}) = ${f.cpuMsPerWrite.toFixed(3)} ms per write -> at most ${Math.round(f.maxWritesPerSec)} writes/s on ${cores} cores` +
        (measured === undefined ? '' : `; the processes spent ${measured} ms per write`),
    );
    metrics[`${key}_floor_cpu_per_write`] = metric(Math.round(f.cpuMsPerWrite * 1000) / 1000, 'ms');
    metrics[`${key}_floor_max_writes_per_sec`] = metric(Math.round(f.maxWritesPerSec), 'writes/s');
    if (measured !== undefined) metrics[`${key}_cpu_above_floor_per_write`] = metric(Math.round((measured - f.cpuMsPerWrite) * 1000) / 1000, 'ms');
  }
  // The peers, same phases, same load shape (lib: peers/quorum-peers.ts); a peer that is missing
  // or fails leaves its section saying why, and ours stands.
  const plan = { sizes: [3, 5], concurrency: opts.quick ? 64 : 256, sequentialWrites: opts.quick ? 300 : 2_000, loadedMs: opts.quick ? 3_000 : 8_000, warmWrites: warmUp(opts.quick).writes, warmMaxMs: warmUp(opts.quick).maxMs, idleMs: opts.quick ? 3_000 : 6_000 };
  const peerSections: Record<string, PeerSection> = {};
  if (peerEnabled('etcd')) peerSections.etcd = await runEtcdWrites(plan, log);
  if (peerEnabled('nats')) peerSections.nats = await runNatsWrites(plan, log);
  const compared = [3, 5].flatMap((n) => ['latency_p50', 'latency_p99', 'throughput', 'loaded_latency_p50', 'loaded_latency_p99', 'node_cpu_per_write', 'client_cpu_per_write', 'idle_cpu_per_s', 'node_cpu_per_write_above_idle', 'runqueue_wait_per_write'].map((m) => `n${n}_${m}`));
  for (const [name, sec] of Object.entries(peerSections)) if (sec.ran) Object.assign(metrics, ratioMetrics(metrics, sec.metrics, compared, name));
  // Where the time goes per write, ours beside each peer: CPU or waiting (peers/write-split.ts).
  const split = Object.fromEntries([3, 5].map((n) => [`n${n}`, writeSplit(n, metrics, peerSections)]));
  for (const s of Object.values(split)) for (const line of s.verdicts) log(`quorum-writes split ${line}`);
  metrics.floor_writer_us = metric(Math.round(floor.writerUs), 'us/write');
  metrics.floor_replica_us = metric(Math.round(floor.replicaUs), 'us/write');
  metrics.floor_replica_store_us = metric(Math.round(floor.replicaStoreUs), 'us/write');
  metrics.floor_messages_per_write_per_replica = metric(Math.round(floor.messagesPerWrite * 1000) / 1000, 'messages');
  metrics.floor_per_push_writer_us = metric(Math.round(floorPerPush.writerUs), 'us/write');
  metrics.floor_per_push_replica_us = metric(Math.round(floorPerPush.replicaUs), 'us/write');
  metrics.floor_per_push_messages_per_write_per_replica = metric(Math.round(floorPerPush.messagesPerWrite * 1000) / 1000, 'messages');
  const peers = {
    ...peerSections,
    split,
    goals: { latency_p50_ms: GOALS.p50Ms, latency_p99_ms: GOALS.p99Ms, n5_throughput_writes_per_s: GOALS.writesPerSec5 },
    floor: { ...floor, perPush: floorPerPush, cores, note: 'in-process CPU of the write path on one core: writer + (n - 1) replicas per write; the processes spend the rest on sockets, TLS, RPC, the event loop and the kernel' },
    load: 'RPC client (NodeClient.addEpisode, TLS-PSK) in the benchmark process; sequential for latency, many in flight over all nodes for throughput',
    details,
  };
  const names = { etcd: 'etcd 3.4', nats: peerSections.nats?.ran && (peerSections.nats.settings.sync as { everyWrite?: boolean } | undefined)?.everyWrite === false ? 'NATS KV (no fsync per write)' : 'NATS KV' };
  const sizes = (metric: string): { label: string; metric: string }[] => [3, 5].map((n) => ({ label: `${n} processes`, metric: `n${n}_${metric}` }));
  for (const [file, title, unit, metric] of [
    ['quorum-writes-latency.svg', 'Acknowledged write latency p50, one write in flight, same run', 'ms', 'latency_p50'],
    ['quorum-writes-throughput.svg', `Acknowledged writes per second, ${plan.concurrency} in flight, same run`, 'writes/s', 'throughput'],
    ['quorum-writes-cpu.svg', 'Server CPU per write under load (ours: all nodes), same run', 'ms', 'node_cpu_per_write'],
  ] as const) {
    writeChart(join(opts.out, file), barChartSvg(peerBarChart({ title, unit, categories: sizes(metric), ours: metrics, peers: peerSections, names })));
  }
  return writeResult(opts.out, 'quorum-writes', metrics, peers).result;
}

const round = (x: number): number => Math.round(x * 100) / 100;
