// The scripted scenario of `tri cluster`: real processes join, memory replicates, a node is
// killed and declared FAILED (its tasks reassigned), a node leaves gracefully, and the survivors
// converge. Each step reports what it saw; a step whose expectation fails makes the demo fail.
import type { ProcessCluster } from './process-cluster.js';
import { waitFor } from './process-cluster.js';
import { convergedDigest, DemoFailure, type Say } from './demo-common.js';
import { runTaskSteps } from './task-steps.js';
import { runPartitionStep } from './partition-step.js';

export { DemoFailure, type Say } from './demo-common.js';

export async function runScenario(c: ProcessCluster, say: Say): Promise<void> {
  const n = c.size;
  say(`starting ${n} node processes on ${c.nodes[0]!.host}-${c.nodes[n - 1]!.host} (gossip :9999, rpc :10000, http :10080)`);
  for (let i = 0; i < n; i++) c.start(i);

  // Every node's own view must show all n ACTIVE, not just the first node's: members turn voters
  // through a configuration change as the cluster forms, and a node counts a voter only once it
  // has the voter's metadata on that configuration; until then it may still call itself read-only.
  const joined = await waitFor(async () => {
    const views = await Promise.all([...Array(n).keys()].map((i) => c.members(i)));
    const allActive = views.every((m) => m !== undefined && m.filter((x) => x.state === 'ACTIVE').length === n);
    return allActive ? views[0] : undefined;
  }, 30_000);
  if (!joined) throw new DemoFailure(`the ${n} nodes did not all become ACTIVE in every node's view within 30 s`);
  say(`joined: ${joined.map((m) => `${m.name} ${m.state}`).join(', ')}`);
  say(`dashboard: http://${c.nodes[0]!.host}:10080/`);

  // Memory: write through every node, then every replica must hold the same digest.
  for (let i = 0; i < n; i++) {
    const client = await c.client(i);
    await client.addEpisode({ agent: 'researcher', task: `survey part ${i + 1}`, outcome: 'ok', note: `written through ${c.nodes[i]!.name}`, tags: ['demo'] });
  }
  const digest = await convergedDigest(c, [...Array(n).keys()]);
  say(`memory: ${n} episodes written through ${n} different nodes; every replica has digest ${digest.slice(0, 12)}`);

  await runPartitionStep(c, say);

  const victim = n - 1; // never the coordinator (n1), whose address the demo reads from
  await runTaskSteps(c, say, victim);

  const leaver = n - 2;
  if (leaver > 0) {
    c.kill(leaver, 'SIGTERM');
    const left = await waitFor(async () => {
      const m = await c.members(0);
      return m?.find((x) => x.name === c.nodes[leaver]!.name && x.state === 'LEFT');
    }, 15_000);
    if (!left) throw new DemoFailure(`${c.nodes[leaver]!.name} did not show as LEFT after SIGTERM`);
    say(`graceful leave: SIGTERM to ${left.name}; the others show it LEFT (not FAILED)`);
  }

  const survivors = c.running().filter((i) => i !== victim && i !== leaver);
  const final = await convergedDigest(c, survivors);
  say(`converged: ${survivors.length} surviving nodes hold memory digest ${final.slice(0, 12)}`);
}
