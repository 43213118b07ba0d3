// The demo's split-brain step: cut a minority off, show that it refuses writes (QuorumError,
// read-only, DEGRADED) while the majority keeps acknowledging them, heal, and show that every
// node converges on the majority's writes.
import { QuorumError } from '../errors.js';
import { LoopbackPartition } from './isolate.js';
import { waitFor, type ProcessCluster } from './process-cluster.js';
import { convergedDigest, DemoFailure, type Say } from './demo-common.js';

export async function runPartitionStep(c: ProcessCluster, say: Say): Promise<void> {
  const can = LoopbackPartition.available();
  if (!can.ok) {
    say(`partition step skipped: ${can.reason} (test/netns/quorum-*.test.ts shows it with network namespaces)`);
    return;
  }
  const n = c.size;
  const minority = [...Array(Math.floor((n - 1) / 2)).keys()].map((k) => n - 1 - k); // e.g. n4, n5 of 5
  const majority = [...Array(n).keys()].filter((i) => !minority.includes(i));
  const names = (xs: number[]) => xs.map((i) => c.nodes[i]!.name).join(',');
  const cut = new LoopbackPartition();
  try {
    cut.cut(minority.map((i) => c.nodes[i]!.host), majority.map((i) => c.nodes[i]!.host));
    say(`partition: ${names(minority)} cut off from ${names(majority)} (iptables on loopback)`);
    const degraded = await waitFor(async () => {
      const m = await c.members(minority[0]!);
      const self = m?.find((x) => x.name === c.nodes[minority[0]!]!.name);
      return self?.state === 'DEGRADED' ? self : undefined;
    }, 40_000);
    if (!degraded) throw new DemoFailure(`${names(minority)} did not go DEGRADED`);
    const refused = await (await c.client(minority[0]!))
      .addEpisode({ agent: 'researcher', task: 'write on the minority', outcome: 'should be refused' })
      .then(() => undefined, (err: Error) => err);
    if (!(refused instanceof QuorumError)) throw new DemoFailure(`a write on the minority was not refused with QuorumError: ${refused?.message ?? 'it was accepted'}`);
    say(`minority ${c.nodes[minority[0]!]!.name} is DEGRADED and refuses writes: ${refused.message.split('.')[0]}`);
    const ok = await (await c.client(majority[0]!)).addEpisode({ agent: 'researcher', task: 'write on the majority', outcome: 'ok' });
    say(`majority ${c.nodes[majority[0]!]!.name} acknowledged episode ${ok.id}`);
  } finally {
    cut.heal();
  }
  say('healed');
  const back = await waitFor(async () => {
    const m = await c.members(majority[0]!);
    return m && minority.every((i) => m.find((x) => x.name === c.nodes[i]!.name)?.state === 'ACTIVE') ? true : undefined;
  }, 60_000, 250);
  if (!back) throw new DemoFailure(`${names(minority)} did not come back ACTIVE after the heal`);
  const d = await convergedDigest(c, [...Array(n).keys()], 30_000);
  say(`after heal: all ${n} nodes ACTIVE with digest ${d.slice(0, 12)}; the refused write never happened`);
}
