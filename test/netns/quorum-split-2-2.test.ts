// 4 real `tri` nodes in 4 network namespaces split 2+2 by moving veths to other bridges (root only;
// skips loudly elsewhere). n3 is the only coordinator, so it is the tiebreaker although n1 has the
// lowest name: the side {n3, n4} stays writable, the side {n1, n2} turns DEGRADED and refuses
// writes with exit 3. After heal all 4 are ACTIVE voters with equal digests holding every
// acknowledged write and no refused one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING quorum 2+2 netns tests: ${support.reason}`);

const AGENT = 'agent-even';
const ALL = ['n1', 'n2', 'n3', 'n4'];

describe.skipIf(!support.ok)('quorum: 4 nodes split 2+2 between network namespaces', { timeout: 100_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];
  const acked: string[] = [];
  const refusedTasks: string[] = [];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(4, { n3: 'coordinator' }, 'quorum 2+2', 5));
    const s = await cluster.status(cluster.node('n1'));
    expect(s?.quorum.tiebreaker).toBe('n3');
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('only the side with the coordinator accepts writes', async () => {
    const r0 = await cluster.addEpisode(cluster.node('n2'), AGENT, 'before');
    expect(r0.code, r0.stderr).toBe(0);
    acked.push(r0.id!);

    const t0 = Date.now();
    await lan.partition([hosts.slice(0, 2), hosts.slice(2)]);
    const loser = await cluster.waitStatus(['n1', 'n2'], (s) => s.state === 'DEGRADED' && !s.quorum.writable && s.quorum.reachable === 2, 45_000);
    expect(loser.ok, `side without the coordinator: ${JSON.stringify(summarize(loser.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 2+2] side without the coordinator DEGRADED ${Date.now() - t0} ms after the cut`);
    // This side may still take n1 or n2 for alive a while (it is writable either way).
    const winner = await cluster.waitStatus(['n3', 'n4'], (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.reachable === 2, 45_000);
    expect(winner.ok, `side with the coordinator: ${JSON.stringify(summarize(winner.statuses))}`).toBe(true);
    for (const n of ['n3', 'n4']) expect(winner.statuses[n]!.quorum.reason).toMatch(/tiebreaker n3/);

    for (const n of ['n1', 'n2']) {
      const node = cluster.node(n);
      const before = await cluster.digest(node);
      const w0 = Date.now();
      const r = await cluster.addEpisode(node, AGENT, `refused-${n}`);
      const took = Date.now() - w0;
      refusedTasks.push(`refused-${n}`);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/reaches 2 of 4 voters/);
      expect(r.stderr).toMatch(/tiebreaker n3/);
      expect(took).toBeLessThan(5_000); // below the 5 s write timeout, CLI start-up included
      expect(await cluster.digest(node)).toEqual(before);
    }

    for (const n of ['n3', 'n4']) {
      const w0 = Date.now();
      const r = await cluster.addEpisode(cluster.node(n), AGENT, `during-${n}`);
      console.log(`[quorum 2+2] write on ${n}: exit ${r.code} in ${Date.now() - w0} ms ${r.stderr}`);
      expect(r.code, r.stderr).toBe(0);
      acked.push(r.id!);
    }
  });

  it('after heal all 4 are ACTIVE voters with equal digests holding every acknowledged write', async () => {
    const t0 = Date.now();
    await lan.heal();
    const healed = await cluster.waitStatus(ALL, (s) => s.state === 'ACTIVE' && s.quorum.voters === 4 && s.quorum.reachable === 4, 45_000);
    expect(healed.ok, `not healed: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 2+2] all 4 ACTIVE ${Date.now() - t0} ms after heal`);
    let digests: string[] = [];
    for (let i = 0; i < 60; i++) {
      digests = await Promise.all(ALL.map(async (n) => (await cluster.digest(cluster.node(n))).digest));
      if (new Set(digests).size === 1 || Date.now() - t0 > 40_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(new Set(digests).size, `digests differ: ${digests.join(' ')}`).toBe(1);
    for (const n of ALL) {
      const eps = await cluster.show(cluster.node(n), AGENT);
      for (const id of acked) expect(eps.map((e) => e.id), `${n} lacks ${id}`).toContain(id);
      for (const t of refusedTasks) expect(eps.map((e) => e.task)).not.toContain(t);
    }
    expect(acked.length).toBe(3);
  });
});
