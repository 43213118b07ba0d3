// replica-join: one node joins a quiet 32-node cluster (whole simulated ClusterNodes, RF 3, 512 agent
// documents; quick: 16 nodes, 256). Measured in the simulator, in simulated time:
//   documents moved   agent documents the joiner ends up holding (the only node that gains any),
//                     against RF x D / (N + 1);
//   bytes             agent-document bytes each node received from the join until every move was
//                     done (counted at each node's document set: every remote update applied or
//                     offered, duplicates included); goal: none to non-joiners;
//   caught up         simulated ms from the join until the joiner is a voter everywhere, and until
//                     it holds every document it is a replica of with its co-replicas' content and no
//                     node holds a stray (goal: within 2 s).
// Peer in the same run: a consistent-hash ring with 256 virtual nodes per node (Cassandra/Riak
// style, the next RF distinct nodes clockwise) over the same names: documents that gain a replica.
//
// On its own: node dist/bench/replica-join.js [NODES AGENTS]
import { pathToFileURL } from 'node:url';
import { DocBytesTap } from '../src/fuzz/move-check.js';
import { replicaDivergence } from '../src/fuzz/replica-check.js';
import { placementOf } from '../src/placement/index.js';
import { Ring } from './placement.js';
import { agentBytesHeld, replicaCluster } from './replica-cluster.js';
import { metric, writeResult, type BenchResult } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';

const RF = 3;
export const JOIN_CATCH_UP_GOAL_MS = 2_000;

export async function runReplicaJoin(opts: ScenarioOptions & { nodes?: number; agents?: number }): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  const nodes = opts.nodes ?? (opts.quick ? 16 : 32);
  const agents = opts.agents ?? (opts.quick ? 256 : 512);
  const { c, agents: ids, setupWallS, setupCpuS } = await replicaCluster({ seed: `replica-join/${nodes}/${agents}`, nodes, agents, rf: RF, log: (s) => log(`replica-join: ${s}`) });
  try {
    const before = c.node(0).gate.voterConfig();
    const tap = new DocBytesTap(c);
    const sentBefore = c.totals();
    tap.start(); // the nodes there now; the joiner is counted separately below
    const t0 = c.now();
    const joiner = c.addNode(0);
    const joinerName = c.node(joiner).name;
    let joinerBytes = 0;
    const docs = c.node(joiner).memoryService.docs;
    const apply = docs.apply;
    docs.apply = (id, update, origin) => {
      if (id.startsWith('agent/')) joinerBytes += update.byteLength;
      return apply.call(docs, id, update, origin);
    };
    const admitted = await c.runUntil(() => c.live().every((i) => c.node(i).gate.isVoter(joinerName)), 60_000, 10);
    const admittedMs = c.now() - t0;
    const caughtUp = await c.runUntil(() => replicaDivergence(c) === undefined, 60_000, 10);
    const caughtUpMs = c.now() - t0;
    const received = tap.stop();
    docs.apply = apply;
    if (!admitted || !caughtUp) throw new Error(`the joiner was ${admitted ? '' : 'not '}admitted and ${caughtUp ? '' : 'not '}caught up within 60 s: ${replicaDivergence(c)}`);

    const after = c.node(0).gate.voterConfig();
    const pBefore = placementOf(before);
    const pAfter = placementOf(after);
    const gained = ids.filter((a) => pAfter.replicas(a).some((n) => !pBefore.replicas(a).includes(n)));
    const gainedByOthers = ids.filter((a) => pAfter.replicas(a).some((n) => n !== joinerName && !pBefore.replicas(a).includes(n))).length;
    const held = agentBytesHeld(c, joiner);
    const toOthers = [...received.values()].reduce((a, b) => a + b, 0);
    const nodesReceiving = received.size;
    const wire = c.totals();
    const expected = (RF * agents) / (nodes + 1);
    const names = before.voters.map((v) => v.name);
    const ringBefore = new Ring(names, 256, RF);
    const ringAfter = new Ring([...names, joinerName], 256, RF);
    const ringMoved = ids.filter((a) => ringAfter.replicas(a).some((n) => !ringBefore.replicas(a).includes(n))).length;
    log(
      `replica-join: ${nodes} -> ${nodes + 1} nodes, ${agents} documents: joiner holds ${held.docs} (${held.bytes} B stored, ${joinerBytes} B received); ` +
        `${gained.length} documents gained a replica (RF x D/(N+1) = ${expected.toFixed(1)}; ring V=256: ${ringMoved}); non-joiners received ${toOthers} B on ${nodesReceiving} nodes; ` +
        `admitted after ${admittedMs} ms, caught up after ${caughtUpMs} ms (simulated)`,
    );
    return writeResult(
      opts.out,
      'replica-join',
      {
        nodes_before: metric(nodes, 'nodes'),
        documents: metric(agents, 'documents'),
        replication_factor: metric(RF, 'replicas'),
        docs_moved: metric(gained.length, 'documents'),
        docs_moved_goal: metric(Math.round(expected * 10) / 10, 'documents'),
        docs_gaining_a_non_joiner_replica: metric(gainedByOthers, 'documents'),
        joiner_docs_held: metric(held.docs, 'documents'),
        joiner_bytes_received: metric(joinerBytes, 'B'),
        joiner_bytes_stored: metric(held.bytes, 'B'),
        non_joiner_doc_bytes_received: metric(toOthers, 'B'),
        non_joiners_receiving_doc_bytes: metric(nodesReceiving, 'nodes'),
        admitted_after_ms: metric(admittedMs, 'ms (simulated)'),
        caught_up_after_ms: metric(caughtUpMs, 'ms (simulated)'),
        caught_up_goal_ms: metric(JOIN_CATCH_UP_GOAL_MS, 'ms (simulated)'),
        wire_bytes_during_join: metric(wire.bytesSent + wire.streamBytesSent - sentBefore.bytesSent - sentBefore.streamBytesSent, "B"),
        setup_wall_s: metric(Math.round(setupWallS * 10) / 10, 's'),
        setup_cpu_s: metric(Math.round(setupCpuS * 10) / 10, 's'),
      },
      {
        goal: { docs_moved: Math.round(expected * 10) / 10, non_joiner_doc_bytes_received: 0, caught_up_after_ms: JOIN_CATCH_UP_GOAL_MS },
        setup: {
          simulated: `${nodes} whole ClusterNodes (gossip, memory, quorum, tasks) and the joiner in the deterministic simulator (src/sim/), 'local' gossip profile, links without loss; times are simulated ms, not wall clock`,
          rf: RF,
          nodes,
          agents,
        },
        // The peer in the same run, under our metric names (bench/readme-table.ts reads them so).
        ring_vnodes_256: {
          settings: { vnodesPerNode: 256, walk: 'next RF distinct nodes clockwise', computed: 'placement only, same names' },
          metrics: { docs_moved: metric(ringMoved, 'documents') },
        },
      },
    ).result;
  } finally {
    await c.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [n, d] = process.argv.slice(2).map(Number);
  const r = await runReplicaJoin({ out: 'bench/results', quick: false, nodes: n || undefined, agents: d || undefined, log: (s) => console.error(s) });
  console.log(JSON.stringify(r.metrics));
}
