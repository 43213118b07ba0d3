// `tri node start --discover` end to end between network namespaces on one bridge (root only;
// skips loudly elsewhere): nodes given no address find each other by authenticated UDP broadcast
// on port 9999 and form one cluster, also when they all start at the same moment.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createLan, sweepStale, type Lan } from './lib/index.js';
import { TriCluster } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING discovery cluster netns tests: ${support.reason}`);

describe.skipIf(!support.ok)('discovery: tri node start --discover across namespaces', { timeout: 90_000 }, () => {
  let lan: Lan | undefined;
  let cluster: TriCluster | undefined;

  beforeAll(async () => {
    await sweepStale();
  });

  afterEach(async () => {
    await cluster?.destroy();
    await lan?.destroy();
    cluster = undefined;
    lan = undefined;
  });

  const allSeeThree = (s: { members: { name: string; state: string }[] }) => s.members.filter((m) => m.state === 'ACTIVE').length === 3;

  it('a node started later finds the running ones with no address given', async () => {
    lan = await createLan(3);
    cluster = await TriCluster.create(lan);
    const [a, b, c] = lan.hosts;
    cluster.start(a!, 'n1', { extraArgs: ['--discover'] });
    expect((await cluster.waitStatus(['n1'], (s) => s.state === 'ACTIVE', 20_000)).ok).toBe(true);
    cluster.start(b!, 'n2', { extraArgs: ['--discover'] });
    cluster.start(c!, 'n3', { extraArgs: ['--discover'] });
    const r = await cluster.waitStatus(['n1', 'n2', 'n3'], allSeeThree, 45_000);
    if (!r.ok) console.error(JSON.stringify(r.statuses, null, 1).slice(0, 3000));
    expect(r.ok).toBe(true);
  });

  it('nodes that all start at once, each finding nobody, still merge into one cluster', async () => {
    lan = await createLan(3);
    cluster = await TriCluster.create(lan);
    lan.hosts.forEach((h, i) => cluster!.start(h, `n${i + 1}`, { extraArgs: ['--discover'] }));
    const r = await cluster.waitStatus(['n1', 'n2', 'n3'], allSeeThree, 60_000);
    if (!r.ok) console.error(JSON.stringify(r.statuses, null, 1).slice(0, 3000));
    expect(r.ok).toBe(true);
  });
});
