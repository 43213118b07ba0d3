// replica-balance: bytes of agent memory stored per node. Two parts, each labelled in the JSON:
//   placement  1,000 nodes x 16,000 agent documents, RF 3, computed from placement alone
//              (src/placement/, the function every node runs) over real document sizes (the same
//              seeded Yjs documents as bench/placement.ts): mean bytes per node against RF/N of the
//              total, busiest node / mean (goal <= 1.6). 1,000 whole simulated nodes would take
//              many minutes of CPU per run, so this scale is not simulated.
//   sim        whole ClusterNodes in the deterministic simulator at the same load per node (64 nodes x
//              1,024 documents = 48 documents per node, as 16,000 x 3 / 1,000; quick: 32 x 512):
//              what each node really stores (snapshot and log bytes of its agent documents), the
//              same figures, and whether every node holds exactly the documents placement gives it
//              (the check that the placement-only figure is what nodes do).
// Peer in the same run: a consistent-hash ring with 256 virtual nodes per node (Cassandra/Riak
// style) over the same names and sizes.
//
// On its own: node dist/bench/replica-balance.js [NODES AGENTS]
import { pathToFileURL } from 'node:url';
import { Placement, placementOf } from '../src/placement/index.js';
import { documentSizes, PLACEMENT_MAX_OVER_MEAN_GOAL, Ring } from './placement.js';
import { agentBytesHeld, replicaCluster } from './replica-cluster.js';
import { mean, metric, writeResult, type BenchResult } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';

const RF = 3;
const NODES = 1000;
const AGENTS = 16_000;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Bytes per node when each key's document (of `size`) is on `place(key)`: mean, max, mean / total. */
function perNode(place: (key: string) => string[], nodes: readonly string[], keys: readonly string[], size: (k: number) => number) {
  const bytes = new Map(nodes.map((n) => [n, 0]));
  let total = 0;
  keys.forEach((key, k) => {
    total += size(k);
    for (const n of place(key)) bytes.set(n, bytes.get(n)! + size(k));
  });
  const b = [...bytes.values()];
  const m = mean(b);
  return { mean: m, max: Math.max(...b), maxOverMean: Math.max(...b) / m, shareOfTotal: m / total, total };
}

export async function runReplicaBalance(opts: ScenarioOptions & { nodes?: number; agents?: number }): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  // 1. Placement alone at 1,000 x 16,000.
  const agents = Array.from({ length: AGENTS }, (_, k) => `agent-${k}`);
  const sizes = documentSizes(agents);
  const names = Array.from({ length: NODES }, (_, i) => `node-${i}`);
  const hrw = new Placement(names.map((name) => ({ name })), RF);
  const p = perNode((a) => hrw.replicas(a), names, agents, (k) => sizes[k]!);
  const ring = new Ring(names, 256, RF);
  const pr = perNode((a) => ring.replicas(a), names, agents, (k) => sizes[k]!);
  const docs = perNode((a) => hrw.replicas(a), names, agents, () => 1);
  const ringDocs = perNode((a) => ring.replicas(a), names, agents, () => 1);
  log(`replica-balance: placement ${NODES} x ${AGENTS}: bytes/node mean ${Math.round(p.mean)} = ${round(p.shareOfTotal, 5)} of the total (RF/N ${RF / NODES}), busiest ${round(p.maxOverMean, 2)}x the mean; ring V=256 ${round(pr.maxOverMean, 2)}x`);

  // 2. Whole simulated nodes at the same documents per node.
  const simNodes = opts.nodes ?? (opts.quick ? 32 : 64);
  const simAgents = opts.agents ?? (opts.quick ? 512 : 1024);
  const { c, agents: simIds, setupWallS, setupCpuS } = await replicaCluster({ seed: `replica-balance/${simNodes}/${simAgents}`, nodes: simNodes, agents: simAgents, rf: RF, log: (s) => log(`replica-balance: ${s}`) });
  try {
    const config = c.node(0).gate.voterConfig();
    const placed = placementOf(config);
    const held = c.live().map((i) => agentBytesHeld(c, i));
    // Each document's stored size, as its first replica stores it (the replicas hold equal content).
    const stored = simIds.map((a) => {
      const first = c.nodes.findIndex((n) => n.name === placed.replicas(a)[0]);
      const s = c.node(first).memoryService.docs.storageStats(`agent/${a}`);
      return s.snapshotBytes + s.logBytes;
    });
    const total = stored.reduce((x, y) => x + y, 0);
    const bytes = held.map((h) => h.bytes);
    const simMean = mean(bytes);
    const exact = c.live().every((i) => {
      const ids = new Set(c.node(i).memoryService.docs.ids().filter((id) => id.startsWith('agent/')));
      const want = simIds.filter((a) => placed.replicas(a).includes(c.node(i).name));
      return ids.size === want.length && want.every((a) => ids.has(`agent/${a}`));
    });
    const simNames = config.voters.map((v) => v.name);
    const simRingPlacement = new Ring(simNames, 256, RF);
    const simRing = perNode((a) => simRingPlacement.replicas(a), simNames, simIds, (k) => stored[k]!);
    const simPlaced = perNode((a) => placed.replicas(a), simNames, simIds, (k) => stored[k]!);
    log(`replica-balance: sim ${simNodes} x ${simAgents}: stored bytes/node mean ${Math.round(simMean)} = ${round(simMean / total, 4)} of the total (RF/N ${round(RF / simNodes, 4)}), busiest ${round(Math.max(...bytes) / simMean, 2)}x; every node holds exactly its placement: ${exact}; ring V=256 ${round(simRing.maxOverMean, 2)}x`);
    return writeResult(
      opts.out,
      'replica-balance',
      {
        placement_bytes_per_node_mean: metric(Math.round(p.mean), 'B'),
        placement_bytes_per_node_max: metric(p.max, 'B'),
        placement_bytes_max_over_mean: metric(round(p.maxOverMean), 'x'),
        placement_mean_share_of_total: metric(round(p.shareOfTotal, 6), 'fraction'),
        placement_docs_max_over_mean: metric(round(docs.maxOverMean), 'x'),
        sim_nodes: metric(simNodes, 'nodes'),
        sim_documents: metric(simAgents, 'documents'),
        sim_bytes_per_node_mean: metric(Math.round(simMean), 'B'),
        sim_bytes_per_node_max: metric(Math.max(...bytes), 'B'),
        sim_bytes_max_over_mean: metric(round(Math.max(...bytes) / simMean), 'x'),
        sim_mean_share_of_total: metric(round(simMean / total, 6), 'fraction'),
        sim_placement_bytes_max_over_mean: metric(round(simPlaced.maxOverMean), 'x'),
        sim_nodes_holding_exactly_their_placement: metric(exact ? simNodes : 0, 'nodes'),
        sim_setup_wall_s: metric(round(setupWallS, 1), 's'),
        sim_setup_cpu_s: metric(round(setupCpuS, 1), 's'),
      },
      {
        goal: { placement_bytes_max_over_mean: PLACEMENT_MAX_OVER_MEAN_GOAL, placement_mean_share_of_total: RF / NODES, sim_mean_share_of_total: round(RF / simNodes, 6) },
        setup: {
          placement: `${NODES} nodes x ${AGENTS} agent documents, RF ${RF}: placement alone (src/placement/) over real Yjs document sizes; not simulated`,
          sim: `${simNodes} whole ClusterNodes x ${simAgents} documents in the deterministic simulator (src/sim/): bytes each node stores (snapshots and logs of its agent documents)`,
          totalBytes: p.total,
          simTotalBytes: total,
        },
        // The peer in the same run, under our metric names (bench/readme-table.ts reads them so).
        ring_vnodes_256: {
          settings: { vnodesPerNode: 256, walk: 'next RF distinct nodes clockwise', computed: 'placement only, same names and sizes' },
          metrics: {
            placement_bytes_max_over_mean: metric(round(pr.maxOverMean), 'x'),
            placement_mean_share_of_total: metric(round(pr.shareOfTotal, 6), 'fraction'),
            placement_docs_max_over_mean: metric(round(ringDocs.maxOverMean), 'x'),
            sim_placement_bytes_max_over_mean: metric(round(simRing.maxOverMean), 'x'),
          },
        },
      },
    ).result;
  } finally {
    await c.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [n, d] = process.argv.slice(2).map(Number);
  const r = await runReplicaBalance({ out: 'bench/results', quick: false, nodes: n || undefined, agents: d || undefined, log: (s) => console.error(s) });
  console.log(JSON.stringify(r.metrics));
}
