// Where a write's CPU goes on 5 processes at RF 3 against RF 5, per node (docs/performance.md
// "Writes through a non-replica"): the quorum-writes load, then each node's CPU per write and its
// /status placement counters (writes forwarded and served, strays handed off). For A/B runs by
// hand: node dist/bench/quorum/forward-probe.js RF [TRI_PATH]; TRI_BENCH_NET picks the range.
import type { NodeClient } from '../../src/client/node-client.js';
import { QuorumCluster } from './cluster.js';
import { procCpuSeconds, runLoad, load1m } from './load.js';

async function main(): Promise<void> {
  const rf = Number(process.argv[2] ?? 3);
  const triPath = process.argv[3] || undefined;
  const cluster = new QuorumCluster({ triArgs: ['--replication-factor', String(rf)], triPath });
  try {
    await cluster.start(5);
    const clients: NodeClient[] = [];
    for (let i = 0; i < 5; i++) clients.push(await cluster.client(i));
    await runLoad({ clients, concurrency: 64, maxWrites: 4_000, maxMs: 30_000, agents: 64 });
    const cpu0 = cluster.nodes.map((x) => procCpuSeconds(x.proc.pid));
    const tp = await runLoad({ clients, concurrency: 64, maxWrites: 1_000_000, maxMs: 4_000, agents: 64 });
    const cpu = cluster.nodes.map((x, i) => ((procCpuSeconds(x.proc.pid) - cpu0[i]!) * 1000) / Math.max(1, tp.acked));
    const statuses = await Promise.all(cluster.nodes.map((_, i) => clients[i]!.status()));
    const rows = statuses.map((s, i) => ({ node: s.name, cpuMsPerWrite: Math.round(cpu[i]! * 1000) / 1000, documentsHeld: s.memory.documentsHeld, placement: s.placement }));
    const total = cpu.reduce((a, b) => a + b, 0);
    console.log(JSON.stringify({ rf, triPath: triPath ?? 'this checkout', acked: tp.acked, writesPerSec: Math.round((tp.acked / tp.elapsedMs) * 1000), load: load1m(), cpuMsPerWrite: Math.round(total * 1000) / 1000, errors: tp.errors, rows }));
  } finally {
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
