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
// `baseline*`) and the throughput part (`baseline_*`, right after ours, or before with
// TRI_YJS_BENCH_BASELINE_FIRST=1): a before/after of one change in the same run. TRI_BENCH_NET moves the processes.
// Bounded in count and time.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { metric, summarize, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import { QuorumCluster } from './quorum/cluster.js';
import { load1m } from './quorum/load.js';
import { createClientToken } from '../src/security/client-token.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { measureFsyncFloor } from './yjs/fsync-floor.js';
import { benchPrefix } from './lib/bench-net.js';
import { rawClient, startRef, yClient, hClient, type Client, type Endpoint } from './yjs/clients.js';
import { latencies, pair, type LatencyFigures } from './yjs/latency.js';
import { idle, initialSyncs, throughput, writeBig } from './yjs/load.js';

const PREFIX = benchPrefix('127.0.18.');
const REF_HOST = `${PREFIX}110`;
const BASELINE = process.env.TRI_YJS_BENCH_BASELINE;
/**
 * Clients of the `trinity-crowd` pair's document besides the pair, all on the writer's node: bare
 * sockets that decode nothing, so the one benchmark process that runs every client is not what
 * delays the pair's reader.
 */
const CROWD = 20;

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
  const baseline = BASELINE && (parts.has('latency') || parts.has('throughput')) ? new QuorumCluster({ prefix: PREFIX, first: 111, triPath: BASELINE }) : undefined;
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
    const ywss = await startRef('y-websocket-server', REF_HOST, 1234);
    refs.push(ywss);
    const hocus = await startRef('hocuspocus', REF_HOST, 1235);
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
        ...(baseline ? [pair('baseline-same-node', baseClient(`lat${gapMs}-same`, 0), baseClient(`lat${gapMs}-same`, 3))] : []),
        // The other client on the node the writer's node pushes to second.
        pair('trinity-node3', trinity.client(`lat${gapMs}-n3`, 0), trinity.client(`lat${gapMs}-n3`, 2)),
        ...(baseline ? [pair('baseline-node3', baseClient(`lat${gapMs}-n3`, 0), baseClient(`lat${gapMs}-n3`, 2))] : []),
        // As `trinity`, with 20 more clients of the document on the writer's node (its local fan-out).
        pair('trinity-crowd', trinity.client(`lat${gapMs}-crowd`, 0), trinity.client(`lat${gapMs}-crowd`, 1), Array.from({ length: CROWD }, () => rawClient(`ws://${cluster.nodes[0]!.address}:10080/yjs/doc/lat${gapMs}-crowd?token=${token}`))),
        ...(baseline ? [pair('baseline-crowd', baseClient(`lat${gapMs}-crowd`, 0), baseClient(`lat${gapMs}-crowd`, 1), Array.from({ length: CROWD }, () => rawClient(`ws://${baseline.nodes[0]!.address}:10080/yjs/doc/lat${gapMs}-crowd?token=${baseToken}`)))] : []),
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
    // With a baseline build, its cluster's throughput runs right after ours (before it with
    // TRI_YJS_BENCH_BASELINE_FIRST=1, so alternating runs can take turns going first).
    const baseEndpoint: Endpoint[] = baseline ? [{ target: 'baseline', client: baseClient, pids: () => baseline.nodes.map((n) => n.proc.pid!) }] : [];
    const clusters = process.env.TRI_YJS_BENCH_BASELINE_FIRST === '1' ? [...baseEndpoint, trinity] : [trinity, ...baseEndpoint];
    for (const e of parts.has('throughput') ? [...clusters, ...endpoints.slice(1)] : []) {
      const tp = await throughput(e, 100, quick ? 5 : 20);
      log(`yjs-clients ${e.target}: 100 clients ${tp.updatesPerSec.toFixed(0)} updates/s (server CPU ${tp.cpuMsPerUpdate.toFixed(3)} ms/update, ${tp.cpuMsPerUpdateAboveIdle.toFixed(3)} above the idle ${tp.idleCpuMsPerSec.toFixed(0)} ms/s; the 100 clients' process ${tp.clientCpuMsPerUpdate.toFixed(3)} ms/update), ${tp.mbPerClient.toFixed(3)} MB/client, load ${load1m()}`);
      const k = e.target.replace(/-/g, '_');
      metrics[`${k}_updates_per_s_100_clients`] = metric(Math.round(tp.updatesPerSec), 'updates/s');
      metrics[`${k}_server_cpu_per_update`] = metric(Math.round(tp.cpuMsPerUpdate * 1000) / 1000, 'ms');
      metrics[`${k}_server_cpu_per_update_above_idle`] = metric(Math.round(tp.cpuMsPerUpdateAboveIdle * 1000) / 1000, 'ms');
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
