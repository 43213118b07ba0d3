// Shared by the replica-set simulator benchmarks (replica-balance.ts, replica-join.ts): a SimCluster
// of whole ClusterNodes (gossip, memory, quorum, tasks; src/sim/) with a replication factor, D agent
// documents written through it (one episode each, seeded note lengths so documents differ in size),
// run until every document is on exactly its replica set with equal content, then left quiet.
import { performance } from 'node:perf_hooks';
import { replicaDivergence } from '../src/fuzz/replica-check.js';
import { SimCluster } from '../src/sim/cluster-sim.js';
import { createPrng } from '../src/sim/prng.js';

export interface ReplicaCluster {
  c: SimCluster;
  agents: string[];
  /** Wall-clock and CPU seconds to form the cluster and write the documents. */
  setupWallS: number;
  setupCpuS: number;
}

const WORDS = ['deploy', 'review', 'summarise', 'plan', 'fix', 'ticket', 'retry', 'ok', 'failed', 'customer', 'report', 'index'];

export async function replicaCluster(o: { seed: string; nodes: number; agents: number; rf: number; log: (s: string) => void }): Promise<ReplicaCluster> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const c = new SimCluster({ seed: o.seed, nodes: o.nodes, replicationFactor: o.rf, profile: 'local' });
  await c.start(600_000);
  if (!(await c.runUntil(() => c.allSeeAlive(o.nodes) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === o.nodes), 600_000, 100))) {
    throw new Error(`${o.nodes} simulated nodes did not form one configuration within 600 virtual s`);
  }
  const rng = createPrng(`${o.seed}/notes`);
  const agents = Array.from({ length: o.agents }, (_, k) => `agent-${k}`);
  // Writes go out a batch at a time (through different nodes), each batch settled before the next.
  const BATCH = 32;
  for (let k = 0; k < agents.length; k += BATCH) {
    const batch = agents.slice(k, k + BATCH).map((agent, j) => {
      const note = Array.from({ length: 5 + rng.int(120) }, () => WORDS[rng.int(WORDS.length)]!).join(' ');
      return c.node((k + j) % o.nodes).memory(agent).addEpisode({ task: `bench ${agent}`, outcome: 'ok', note });
    });
    await c.settle(Promise.all(batch), 60_000);
  }
  if (!(await c.runUntil(() => replicaDivergence(c) === undefined, 600_000, 500))) throw new Error(`the documents did not settle on their replica sets: ${replicaDivergence(c)}`);
  await c.runFor(5_000); // quiet: handoff rounds and anti-entropy with nothing left to do
  const used = process.cpuUsage(cpu);
  const r = { c, agents, setupWallS: (performance.now() - wall) / 1000, setupCpuS: (used.user + used.system) / 1e6 };
  o.log(`${o.nodes} whole simulated nodes, ${o.agents} agent documents (RF ${o.rf}) written and settled in ${r.setupWallS.toFixed(1)} s wall, ${r.setupCpuS.toFixed(1)} s CPU`);
  return r;
}

/** Stored bytes (snapshots and logs) of node i's agent documents. */
export function agentBytesHeld(c: SimCluster, i: number): { docs: number; bytes: number } {
  const docs = c.node(i).memoryService.docs;
  let bytes = 0;
  let n = 0;
  for (const id of docs.ids()) {
    if (!id.startsWith('agent/')) continue;
    const s = docs.storageStats(id);
    bytes += s.snapshotBytes + s.logBytes;
    n++;
  }
  return { docs: n, bytes };
}
