// 5 real `tri` nodes in 5 network namespaces split 2+2+1 by moving veths to three bridges (root
// only; skips loudly elsewhere). No side has a majority and 5 voters have no exact half, so every
// node turns DEGRADED and refuses writes with exit 3, applying nothing. After heal all 5 are
// ACTIVE voters again, writable, with equal digests and no trace of a refused write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING quorum 2+2+1 netns tests: ${support.reason}`);

const AGENT = 'agent-three-way';
const ALL = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe.skipIf(!support.ok)('quorum: 5 nodes split 2+2+1 between network namespaces', { timeout: 115_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];
  const acked: string[] = [];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(5, { n1: 'coordinator' }, 'quorum 2+2+1', 5));
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('nobody accepts writes', async () => {
    const r0 = await cluster.addEpisode(cluster.node('n5'), AGENT, 'before');
    expect(r0.code, r0.stderr).toBe(0);
    acked.push(r0.id!);

    const t0 = Date.now();
    await lan.partition([hosts.slice(0, 2), hosts.slice(2, 4), hosts.slice(4)]);
    const expected: Record<string, number> = { n1: 2, n2: 2, n3: 2, n4: 2, n5: 1 };
    // Cut-off nodes notice the unreachable members one at a time (Lifeguard stretches their probe
    // period), so the last one can take a minute on the lan profile. Meanwhile nobody may remove
    // anybody: a side that still takes some unreachable members for alive must not down the rest.
    const everRemoved = new Set<string>();
    const all = await cluster.waitStatus(
      ALL,
      (s, n) => {
        if (s.quorum.removed.length > 0) everRemoved.add(`${n} removed ${s.quorum.removed.join(',')}`);
        return s.state === 'DEGRADED' && !s.quorum.writable && s.quorum.reachable === expected[n];
      },
      80_000,
    );
    expect([...everRemoved], cluster.logs()).toEqual([]);
    expect(all.ok, `not all DEGRADED: ${JSON.stringify(summarize(all.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 2+2+1] all 5 DEGRADED ${Date.now() - t0} ms after the cut`);
    const refusedDowning = [...cluster.nodes.values()].flatMap((n) => n.log.filter((l) => l.includes('not removing failed members')).map((l) => `${n.name}: ${l}`));
    console.log(`[quorum 2+2+1] downing attempts refused by the confirmation round: ${refusedDowning.length}\n${refusedDowning.slice(0, 4).join('\n')}`);

    const tDegraded = Date.now();
    for (const n of ALL) {
      const node = cluster.node(n);
      const before = await cluster.digest(node);
      const w0 = Date.now();
      const r = await cluster.addEpisode(node, AGENT, `refused-${n}`);
      const took = Date.now() - w0;
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`reaches ${expected[n]} of 5 voters`));
      expect(took).toBeLessThan(5_000); // below the 5 s write timeout, CLI start-up included
      expect(await cluster.digest(node)).toEqual(before);
    }
    // Nobody removes anybody, not even stable-after (10 s) later: downing needs a writable side,
    // and a side must not talk itself into one by downing on a partial view.
    const until = tDegraded + 12_000;
    for (let i = 0; i < 30 && (i === 0 || Date.now() < until); i++) {
      const now = await cluster.waitStatus(ALL, (s) => !s.quorum.writable && s.state === 'DEGRADED' && s.quorum.removed.length === 0 && s.quorum.voters === 5, 0);
      expect(now.ok, `someone became writable or removed members: ${JSON.stringify(summarize(now.statuses))}\n${cluster.logs()}`).toBe(true);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  });

  it('after heal all 5 are ACTIVE and writable with equal digests and no refused write', async () => {
    const t0 = Date.now();
    await lan.heal();
    const healed = await cluster.waitStatus(ALL, (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.voters === 5 && s.quorum.reachable === 5, 45_000);
    expect(healed.ok, `not healed: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 2+2+1] all 5 ACTIVE ${Date.now() - t0} ms after heal`);
    const r = await cluster.addEpisode(cluster.node('n3'), AGENT, 'after');
    expect(r.code, r.stderr).toBe(0);
    acked.push(r.id!);
    let digests: string[] = [];
    for (let i = 0; i < 60; i++) {
      digests = await Promise.all(ALL.map(async (n) => (await cluster.digest(cluster.node(n))).digest));
      if (new Set(digests).size === 1 || Date.now() - t0 > 40_000) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(new Set(digests).size, `digests differ: ${digests.join(' ')}`).toBe(1);
    for (const n of ALL) {
      const eps = await cluster.show(cluster.node(n), AGENT);
      expect(eps.map((e) => e.id).sort(), n).toEqual([...acked].sort());
      expect(eps.map((e) => e.task).filter((t) => t.startsWith('refused'))).toEqual([]);
    }
  });
});
