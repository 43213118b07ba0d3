// Prints the README's performance table (Markdown) from a directory of benchmark results
// (<dir>/<scenario>.json as every scenario writes them), headline metrics beside the peers that
// ran in the same run (serf, etcd, NATS, BullMQ, y-protocols), the ratio ours/peer, and the goal:
//   node dist/bench/readme-table.js bench/results
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchResult, Metrics } from './lib/result.js';

interface PeerRef {
  /** Key in result.peers. */
  section: string;
  label: string;
  /** Shorter label for the ratio column. */
  short?: string;
  /** The peer's metric, when not named as ours. */
  metric?: string;
}

const ETCD: PeerRef = { section: 'etcd', label: 'etcd' };
const NATS: PeerRef = { section: 'nats', label: 'NATS' };
const SERF: PeerRef = { section: 'serf', label: 'serf' };
const RING: PeerRef = { section: 'ring_vnodes_256', label: 'ring, 256 vnodes/node', short: 'ring' };
const BULL: PeerRef[] = [
  { section: 'bullmq_fsync_always', label: 'BullMQ, redis fsync always', short: 'BullMQ fsync' },
  { section: 'bullmq_as_shipped', label: 'BullMQ, redis as shipped', short: 'BullMQ shipped' },
];

/** The reference Yjs servers of bench/yjs-clients.ts, for one of its metrics. */
const YJS = (metric: string): PeerRef[] => [
  { section: 'y-websocket-server', label: 'y-websocket-server', metric: `y_websocket_server_${metric}` },
  { section: 'hocuspocus', label: 'hocuspocus', metric: `hocuspocus_${metric}` },
];

interface Row {
  scenario: string;
  metric: string;
  label: string;
  goal: string;
  /** Peers that ran in the same scenario (result.peers[section]), shown with the ratio ours/peer. */
  peers?: PeerRef[];
  /** The metric's name in result files written before it was renamed. */
  fallback?: string;
}

const ROWS: Row[] = [
  { scenario: 'membership-detection', metric: 'n5_detection_all_median', label: 'crash detection, 5 processes (SIGKILL until all say FAILED)', goal: '<= 0.6 x serf', peers: [SERF] },
  { scenario: 'membership-detection', metric: 'n32_detection_all_median', label: 'crash detection, 32 processes', goal: '<= 0.6 x serf', peers: [SERF] },
  { scenario: 'membership-detection', metric: 'n32_false_accusations', label: 'false suspicions of live members, 32 processes', goal: 'no more than serf' },
  { scenario: 'membership-dissemination', metric: 'n32_join_from_ready_all_median', label: 'join seen by all 32 (from the new node answering)', goal: 'below serf' },
  { scenario: 'membership-dissemination', metric: 'n32_join_all_median', label: 'join seen by all 32 (from process spawn)', goal: 'below serf', peers: [SERF] },
  { scenario: 'membership-dissemination', metric: 'n32_idle_bytes_per_node_per_s', label: 'idle traffic per node, 32 processes (UDP + TCP)', goal: '< 1 KB/s' },
  { scenario: 'crypto-operator', metric: 'n{n}_idle_crypto_cpu_per_node_estimated', label: 'encryption cost per node, {n} idle nodes: CPU sealing + opening gossip (packets x measured cost)', goal: '-' },
  { scenario: 'crypto-operator', metric: 'n{n}_idle_crypto_cpu_per_node_measured', label: 'encryption cost per node, {n} idle nodes: CPU encrypted - --insecure, same run (within the noise)', goal: '-' },
  { scenario: 'crypto-operator', metric: 'n3_load_crypto_core_share', label: 'encryption cost per node under the quorum-writes load, 3 nodes (TLS + sealed gossip, encrypted - --insecure)', goal: '-' },
  { scenario: 'crypto-cost', metric: 'gossip_compound_throughput_cost', label: 'secondary: encryption share of a bare loop of gossip packets through two SWIM cores', goal: '< 15 %' },
  { scenario: 'crypto-cost', metric: 'udp_300b_throughput_cost', label: 'secondary: encryption share of a bare UDP echo loop, 300 B packets', goal: '-' },
  { scenario: 'crypto-cost', metric: 'udp_bytes_added_per_packet', label: 'bytes added per sealed packet', goal: 'memberlist: 29' },
  { scenario: 'sync-bandwidth', metric: 'small_update_overhead_bytes', label: 'wire overhead per small memory update (TLS included)', goal: '<= 48 B' },
  { scenario: 'anti-entropy-idle', metric: 'docs512_idle_round_wire_bytes', label: 'in-sync anti-entropy round, 512 documents (TLS included)', goal: '<= 64 B' },
  { scenario: 'sync-bandwidth', metric: 'catchup_10_ratio', label: 'catch-up after missing 10 updates: bytes sent / bytes of the updates (TLS included)', goal: '<= 1.1 x', peers: [{ section: 'y-protocols', label: 'y-protocols', metric: 'catchup_10_on_tls_stream_ratio' }] },
  { scenario: 'sync-bandwidth', metric: 'apply_updates_per_s', label: 'small updates applied per second on one node (median of 5)', goal: '>= 50,000/s' },
  { scenario: 'quorum-writes', metric: 'n3_latency_p50', label: 'acknowledged write latency p50, 3 processes', goal: '< 2 ms, <= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n3_latency_p99', label: 'acknowledged write latency p99, 3 processes', goal: '< 10 ms, <= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n3_throughput', label: 'acknowledged writes per second, 3 processes', goal: '>= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n3_node_cpu_per_write', label: 'server CPU per write under load, 3 processes', goal: '<= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n3_node_cpu_per_write_above_idle', label: 'server CPU per write under load less the servers\' idle CPU, 3 processes', goal: '<= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_latency_p50', label: 'acknowledged write latency p50, 5 processes', goal: '< 2 ms, <= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_latency_p99', label: 'acknowledged write latency p99, 5 processes', goal: '< 10 ms, <= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_throughput', label: 'acknowledged episode writes per second, 5 processes', goal: '>= 5,000/s, >= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_loaded_latency_p99', label: 'write latency p99 under load, 5 processes', goal: '<= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_node_cpu_per_write', label: 'server CPU per write under load, 5 processes', goal: '<= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_node_cpu_per_write_above_idle', label: 'server CPU per write under load less the servers\' idle CPU, 5 processes', goal: '<= etcd', peers: [ETCD, NATS] },
  { scenario: 'quorum-writes', metric: 'n5_rf3_latency_p50', label: 'acknowledged write latency p50, 5 processes, RF 3 (replica sets)', goal: '<= RF 5' },
  { scenario: 'quorum-writes', metric: 'n5_rf3_throughput', label: 'acknowledged writes per second, 5 processes, RF 3', goal: '>= RF 5' },
  { scenario: 'quorum-writes', metric: 'n5_rf3_node_cpu_per_write', label: 'server CPU per write under load, 5 processes, RF 3', goal: '<= RF 5' },
  { scenario: 'quorum-writes', metric: 'n5_floor_cpu_per_write', label: 'our floor: CPU per write of the write path alone, 5 nodes', goal: '-' },
  { scenario: 'heal-convergence', metric: 'heal_to_equal_digests_median', label: 'heal to equal digests, 3+2 split, 1,000 divergent episodes', goal: '< 2 s' },
  { scenario: 'heal-downed', metric: 'heal_downed_to_equal_digests_median', label: 'heal to equal digests after a 3+2 split that outlasted stable-after (minority downed, re-admitted), 500 episodes', goal: '< 2 s' },
  { scenario: 'heal-downed', metric: 'heal_downed_to_all_voters_median', label: 'heal to all 5 voters again after that split', goal: '-' },
  { scenario: 'move-writes', metric: 'join_p99_over_steady', label: 'write latency p99 while a 5th node joins (RF 3) / steady p99', goal: '<= 2 x' },
  { scenario: 'move-writes', metric: 'leave_p99_over_steady', label: 'write latency p99 while it leaves gracefully / steady p99', goal: '<= 2 x' },
  { scenario: 'move-writes', metric: 'move_quorum_errors', label: 'QuorumErrors during the join and the leave', goal: '0' },
  { scenario: 'task-failover', metric: 'lan_failover_median', label: 'task failover, lan profile (SIGKILL to running elsewhere)', goal: 'detection + 1 s, < BullMQ', peers: [{ section: 'bullmq', label: 'BullMQ stalled-job check', metric: 'failover_median' }] },
  { scenario: 'task-failover', metric: 'lan_failover_minus_detection_max', label: 'task failover beyond detection, lan profile (worst round)', goal: '<= 1 s' },
  { scenario: 'task-throughput', metric: 'tasks_per_sec', label: 'echo tasks per second, 512 agents on 32 processes', goal: '>= 2,000/s' },
  { scenario: 'task-throughput-sharded-32p', metric: 'sharded_tasks_per_sec', label: 'echo tasks per second, 512 agents on 32 processes, tasks sharded with their agents (RF 3)', goal: '>= 1,000/s' },
  { scenario: 'task-throughput-sharded-32p', metric: 'sharded_sync_messages_per_task', label: 'sync messages per task (updates + acks + anti-entropy), 32 processes, RF 3', goal: '<= 8' },
  { scenario: 'task-throughput-sharded-32p', metric: 'sharded_node_cpu_per_task_per_node', label: 'node CPU per task per node, 32 processes, RF 3 (floor per node: sharded_floor_cpu_ms_per_task_per_node)', goal: '-' },
  { scenario: 'task-throughput-quick', metric: 'tasks_per_sec', label: 'echo tasks per second, 64 agents on 4 processes (data directories, fsync per commit)', goal: '>= BullMQ (fsync always)', peers: BULL },
  { scenario: 'task-throughput-quick', metric: 'sync_messages_per_task', label: 'sync messages per task, 4 processes, cluster-wide table (updates + acks + anti-entropy)', goal: '-' },
  { scenario: 'task-throughput-quick', metric: 'sharded_sync_messages_per_task', label: 'sync messages per task, 4 processes, tasks sharded (RF 3)', goal: '<= 8 (at 32 processes)' },
  { scenario: 'task-throughput-quick', metric: 'node_cpu_per_task', label: 'CPU per task, 4 processes, durable (BullMQ: redis + workers)', goal: '-', peers: BULL },
  { scenario: 'task-throughput-quick', metric: 'sharded_tasks_per_sec', label: 'echo tasks per second, 64 agents on 4 processes, tasks sharded (RF 3)', goal: '-' },
  { scenario: 'task-throughput-quick', metric: 'sharded_node_cpu_per_task_per_node', label: 'node CPU per task per node, 4 processes, RF 3 (floor per node: sharded_floor_cpu_ms_per_task_per_node)', goal: '-' },
  { scenario: 'sim-scale', metric: 'membership_wall_s_1000', label: '1,000 simulated nodes, membership layer (SWIM core + driver), 60 virtual s (wall time)', goal: '< 60 s' },
  { scenario: 'sim-scale', metric: 'membership_converge_rounds_1000', label: '1,000 simulated nodes, membership layer: gossip rounds until all see all alive (log2 N = 9.97)', goal: '-' },
  { scenario: 'sim-scale', metric: 'whole_node_wall_s_1000', label: '1,000 simulated whole nodes (gossip + memory + quorum + tasks), 60 virtual s (wall time)', goal: '-', fallback: 'wall_s_for_60_virtual_s_1000' },
  { scenario: 'sim-scale', metric: 'whole_node_wall_s_100', label: '100 simulated whole nodes, 60 virtual s (wall time)', goal: '', fallback: 'wall_s_for_60_virtual_s_100' },
  { scenario: 'sim-scale', metric: 'whole_node_cpu_s_1000', label: '1,000 simulated whole nodes, 60 virtual s (CPU time of the process)', goal: '-' },
  { scenario: 'sim-scale', metric: 'membership_cpu_s_1000', label: '1,000 simulated nodes, membership layer, 60 virtual s (CPU time, same run)', goal: '-' },
  { scenario: 'sim-scale', metric: 'whole_node_us_per_member_event_250', label: 'simulated whole nodes: CPU per member event while 250 form a cluster', goal: '-' },
  { scenario: 'sim-scale', metric: 'whole_node_us_per_member_event_1000', label: 'simulated whole nodes: CPU per member event while 1,000 form a cluster', goal: 'flat in N' },
  { scenario: 'recall', metric: 'recall_one_agent_text_p50_100000', label: 'recall p50, one agent, text, 100,000 episodes on one node', goal: '< 5 ms' },
  { scenario: 'recall', metric: 'recall_all_agents_text_p50_100000', label: 'recall p50, every agent, text, 100,000 episodes', goal: '-' },
  { scenario: 'recall', metric: 'recall_index_build_100000', label: 'recall index build from a data directory, 100,000 episodes', goal: '-' },
  { scenario: 'recall', metric: 'recall_index_bytes_per_episode_100000', label: 'recall index size per episode', goal: '-' },
  { scenario: 'recall', metric: 'search_nodes_10k_vs_reference', label: 'MCP search_nodes on 10,000 entities, tri mcp / reference memory server', goal: '-' },
  { scenario: 'recall', metric: 'remember_mcp_ms', label: 'one remember through tri mcp (stdio), one-node cluster', goal: '-' },
  { scenario: 'recall', metric: 'remember_library_ms', label: 'the same write through the library', goal: '-' },
  { scenario: 'placement', metric: 'balance_docs_max_over_mean', label: 'placement balance: busiest node / mean, documents, 1,000 nodes x 16,000 agents, RF 3', goal: '<= 1.6 x (binomial floor ~1.47)', peers: [RING] },
  { scenario: 'placement', metric: 'balance_docs_max_over_mean_trials_worst', label: 'placement balance: the same, worst of 9 sets of agent names', goal: '<= 1.6 x', peers: [RING] },
  { scenario: 'placement', metric: 'balance_bytes_max_over_mean', label: 'placement balance: busiest node / mean, bytes (real documents, 1-12 episodes)', goal: '<= 1.6 x', peers: [RING] },
  { scenario: 'placement', metric: 'balance_mean_share_of_total', label: 'placement: bytes per node, mean / all bytes (RF/N = 0.003; full replication today: 1)', goal: 'RF/N' },
  { scenario: 'placement', metric: 'join_docs_moved_mean', label: 'placement: documents moved when 1 node joins 32 (512 agents, RF 3; mean of 20 joiners)', goal: 'RF x D/(N+1) = 46.5', peers: [RING] },
  { scenario: 'placement', metric: 'join_docs_to_non_joiners', label: 'placement: documents non-joiners receive on that join', goal: '0' },
  { scenario: 'placement', metric: 'placement_us_1000_voters', label: 'placement: CPU per replica set among 1,000 voters', goal: '-' },
  { scenario: 'replica-balance', metric: 'placement_bytes_max_over_mean', label: 'replica sets: bytes on the busiest node / mean, 1,000 nodes x 16,000 agents, RF 3 (placement alone, real document sizes)', goal: '<= 1.6 x', peers: [RING] },
  { scenario: 'replica-balance', metric: 'placement_mean_share_of_total', label: 'replica sets: bytes per node, mean / all bytes, 1,000 nodes (RF/N = 0.003)', goal: 'RF/N' },
  { scenario: 'replica-balance', metric: 'sim_bytes_max_over_mean', label: 'replica sets, whole simulated nodes (64 x 1,024 agents, 48 per node as at 1,000 x 16,000): stored bytes, busiest / mean', goal: '<= 1.6 x', peers: [{ ...RING, metric: 'sim_placement_bytes_max_over_mean' }] },
  { scenario: 'replica-balance', metric: 'sim_mean_share_of_total', label: 'replica sets, whole simulated nodes: stored bytes per node, mean / all (RF/N = 0.047)', goal: 'RF/N' },
  { scenario: 'replica-join', metric: 'docs_moved', label: 'one node joins a quiet 32-node cluster (whole simulated nodes, 512 agents, RF 3): documents moved', goal: 'RF x D/(N+1) = 46.5', peers: [RING] },
  { scenario: 'replica-join', metric: 'non_joiner_doc_bytes_received', label: 'the same join: agent-document bytes received by non-joiners', goal: '0' },
  { scenario: 'replica-join', metric: 'caught_up_after_ms', label: 'the same join: joiner admitted and caught up, every move done (simulated time)', goal: '<= 2,000 ms' },
  { scenario: 'yjs-clients', metric: 'trinity_latency_p50', label: 'Yjs edit-to-other-client p50, stock clients on 2 of 3 processes (every echoed edit on a majority\'s disk)', goal: '<= 1.5 x y-websocket-server', peers: YJS('latency_p50') },
  { scenario: 'yjs-clients', metric: 'trinity_same_node_latency_p50', label: 'Yjs edit-to-other-client p50, both clients on one of 3 processes', goal: '<= 1.5 x y-websocket-server', peers: YJS('latency_p50') },
  { scenario: 'yjs-clients', metric: 'trinity_node3_latency_p50', label: 'Yjs edit-to-other-client p50, clients on nodes 1 and 3 (node 1 pushes to node 3 second)', goal: '<= 1.5 x y-websocket-server', peers: YJS('latency_p50') },
  { scenario: 'yjs-clients', metric: 'trinity_crowd_latency_p50', label: 'Yjs edit-to-other-client p50, clients on 2 of 3 processes, 20 more clients of the document on the writer\'s node', goal: '<= 1.5 x y-websocket-server', peers: YJS('latency_p50') },
  { scenario: 'yjs-clients', metric: 'trinity_latency_p50_gap50', label: 'Yjs edit-to-other-client p50, clients on 2 of 3 processes, edits 50 ms apart (each edit alone)', goal: '<= 1.5 x y-websocket-server', peers: YJS('latency_p50_gap50') },
  { scenario: 'yjs-clients', metric: 'trinity_latency_p99', label: 'Yjs edit-to-other-client p99, clients on 2 of 3 processes', goal: '-', peers: YJS('latency_p99') },
  { scenario: 'yjs-clients', metric: 'trinity_echo_p50', label: 'Yjs edit to the writer\'s echo p50 (ours: stored on a majority; disk_commit_p50 in the JSON is the floor)', goal: '-', peers: YJS('echo_p50').slice(0, 1) },
  { scenario: 'yjs-clients', metric: 'trinity_initial_sync_10mb', label: 'Yjs initial sync of a 10 MB document, new stock client', goal: '< 2 s', peers: YJS('initial_sync_10mb') },
  { scenario: 'yjs-clients', metric: 'trinity_initial_sync_10mb_server_cpu', label: 'Yjs initial sync of a 10 MB document: CPU of the server processes per new client', goal: '-', peers: YJS('initial_sync_10mb_server_cpu') },
  { scenario: 'yjs-clients', metric: 'trinity_updates_per_s_100_clients', label: 'Yjs updates/s, 100 stock clients on one document across 3 processes (bounded by the one process running all clients)', goal: '-', peers: YJS('updates_per_s_100_clients') },
  { scenario: 'yjs-clients', metric: 'trinity_server_cpu_per_update', label: 'Yjs server CPU per update with 100 clients (ours: 3 processes, stored and replicated)', goal: '-', peers: YJS('server_cpu_per_update') },
  { scenario: 'yjs-clients', metric: 'trinity_memory_per_client', label: 'Yjs memory per connected client (RSS growth of the server processes over 101 clients)', goal: '-', peers: YJS('memory_per_client') },
  { scenario: 'yjs-clients', metric: 'trinity_idle_disconnects', label: 'Yjs idle stock clients held a minute, 1,000 per node on 3 processes: disconnects', goal: '0' },
  { scenario: 'fuzz-speed', metric: 'runs_per_min', label: 'tri fuzz: runs of 7 nodes x 60 virtual s per minute (2 workers)', goal: '>= 1,000' },
];

function fmt(v: { value: number; unit: string } | undefined): string {
  if (!v || !Number.isFinite(v.value)) return 'not measured';
  // Below 0.01 keep two significant digits, so a small cost does not print as 0.
  const abs = Math.abs(v.value);
  const n = abs >= 100 ? Math.round(v.value).toLocaleString('en') : abs > 0 && abs < 0.01 ? String(Number(v.value.toPrecision(2))) : String(Math.round(v.value * 100) / 100);
  return `${n} ${v.unit}`.trim();
}

/** A peer's figure for one row, or why it is missing, and ours / peer. */
export function peerCell(r: BenchResult, p: PeerRef, metric: string, ours: { value: number } | undefined): { value: string; ratio: string } {
  const sec = r.peers[p.section] as { metrics?: Metrics; missing?: string; hint?: string; settings?: { sync?: { everyWrite?: boolean } } } | undefined;
  if (!sec) return { value: `${p.label}: not run`, ratio: '-' };
  if (sec.missing !== undefined) return { value: `${p.label}: missing (${sec.missing}${sec.hint ? `; ${sec.hint}` : ''})`, ratio: '-' };
  const v = sec.metrics?.[metric];
  if (!v || !Number.isFinite(v.value)) return { value: `${p.label}: not measured`, ratio: '-' };
  const ratio = ours && Number.isFinite(ours.value) && v.value !== 0 ? `${(Math.round((ours.value / v.value) * 100) / 100).toString()} x` : '-';
  // A peer that could not be made to sync every write (NATS 2.9) bounds rather than compares.
  const label = sec.settings?.sync?.everyWrite === false ? `${p.label} (no fsync per write)` : p.label;
  return { value: `${label}: ${fmt(v)}`, ratio: ratio === '-' ? ratio : `${ratio} ${p.short ?? p.label}` };
}

/** A row whose metric says n{n}_... takes the largest cluster size the result holds, and names it in its label. */
export function resolveSize(row: { metric: string; label: string }, r: BenchResult): { metric: string; label: string } {
  if (!row.metric.includes('{n}')) return row;
  const re = new RegExp(`^${row.metric.replace('{n}', '(\\d+)')}$`);
  const sizes = Object.keys(r.metrics).map((k) => re.exec(k)?.[1]).filter((x): x is string => x !== undefined).map(Number);
  if (!sizes.length) return { metric: row.metric, label: row.label.replace('{n}', 'N') };
  const n = String(Math.max(...sizes));
  return { metric: row.metric.replace('{n}', n), label: row.label.replace('{n}', n) };
}

export function readmeTable(dir: string): string {
  const results = new Map<string, BenchResult>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchResult;
      if (r.scenario && r.metrics) results.set(r.scenario, r);
    } catch {
      // not a result file
    }
  }
  const lines = ['| what | measured | peer, same run | ours / peer | goal | run |', '| --- | --- | --- | --- | --- | --- |'];
  for (const row of ROWS) {
    const r = results.get(row.scenario);
    if (!r) continue;
    const { metric: name, label } = resolveSize(row, r);
    const ours = r.metrics[name] ?? (row.fallback ? r.metrics[row.fallback] : undefined);
    const cells = (row.peers ?? []).map((p) => peerCell(r, p, p.metric ?? name, ours));
    const peer = cells.map((c) => c.value).join('; ') || '-';
    const ratio = cells.map((c) => c.ratio).join('; ') || '-';
    lines.push(`| ${label} | ${fmt(ours)} | ${peer} | ${ratio} | ${row.goal} | ${row.scenario}, ${r.date.slice(0, 16).replace('T', ' ')} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(readmeTable(process.argv[2] ?? 'bench/results') + '\n');
}
