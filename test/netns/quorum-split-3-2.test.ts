// 5 real `tri` nodes in 5 network namespaces, split 3+2 by moving veths to other bridges (root
// only; skips loudly elsewhere). The 2 turn DEGRADED and refuse writes at once with exit 3 and a
// message naming reachable/voters, applying nothing; the 3 accept and acknowledge writes; after
// heal all 5 are ACTIVE voters again, their digests are equal and every node holds every
// acknowledged episode (exit 0), and none holds a refused one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING quorum 3+2 netns tests: ${support.reason}`);

const AGENT = 'agent-split';

describe.skipIf(!support.ok)('quorum: 5 nodes split 3+2 between network namespaces', { timeout: 90_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];
  const acked: string[] = [];
  const refusedTasks: string[] = [];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(5, {}, 'quorum 3+2', 5));
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('before the split every node accepts and acknowledges a write', async () => {
    for (const n of ['n1', 'n4']) {
      const r = await cluster.addEpisode(cluster.node(n), AGENT, `before-${n}`);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      acked.push(r.id!);
    }
  });

  it('the 2 turn DEGRADED and refuse writes at once with exit 3, applying nothing; the 3 stay ACTIVE and write', async () => {
    const t0 = Date.now();
    await lan.partition([hosts.slice(0, 3), hosts.slice(3)]);
    // The minority notices one unreachable member per (Lifeguard-stretched) probe period, so this
    // takes up to ~25 s on the lan profile; the majority notices within a few seconds.
    const minority = await cluster.waitStatus(['n4', 'n5'], (s) => s.state === 'DEGRADED' && !s.quorum.writable, 45_000);
    expect(minority.ok, `minority not DEGRADED: ${JSON.stringify(summarize(minority.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 3+2] minority DEGRADED ${Date.now() - t0} ms after the cut`);
    for (const n of ['n4', 'n5']) {
      const s = minority.statuses[n]!;
      expect(s.quorum).toMatchObject({ writable: false, reachable: 2, voters: 5 });
      // tri nodes --json shows the node itself DEGRADED too.
      const self = (await cluster.members(cluster.node(n))).find((m) => m.name === n);
      expect(self?.state).toBe('DEGRADED');
    }

    for (const n of ['n4', 'n5']) {
      const node = cluster.node(n);
      const before = await cluster.digest(node);
      const task = `refused-${n}`;
      const w0 = Date.now();
      const r = await cluster.addEpisode(node, AGENT, task);
      const took = Date.now() - w0;
      refusedTasks.push(task);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/read-only/);
      expect(r.stderr).toMatch(/reaches 2 of 5 voters/);
      // At once: below the 5 s write timeout, although the time includes starting the CLI process.
      expect(took).toBeLessThan(5_000);
      console.log(`[quorum 3+2] ${n} refused in ${took} ms: ${r.stderr}`);
      expect(await cluster.digest(node)).toEqual(before);
      expect((await cluster.show(node, AGENT)).map((e) => e.task)).not.toContain(task);
    }

    // Downing: n4 and n5 stayed FAILED for stable-after (10 s), so the writable side removed them.
    const majority = await cluster.waitStatus(
      ['n1', 'n2', 'n3'],
      (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.reachable === 3 && s.quorum.removed.join() === 'n4,n5',
      30_000,
    );
    expect(majority.ok, `majority: ${JSON.stringify(summarize(majority.statuses))}`).toBe(true);
    console.log(`[quorum 3+2] majority seen with n4,n5 removed from the voters ${Date.now() - t0} ms after the cut (checked after the minority)`);
    for (const n of ['n1', 'n2', 'n3']) {
      const s = majority.statuses[n]!;
      expect(s.quorum.voters).toBe(3);
      // Removed members stay listed, as FAILED, so an operator sees what happened.
      expect(s.members.filter((m) => m.name === 'n4' || m.name === 'n5').map((m) => m.state)).toEqual(['FAILED', 'FAILED']);
    }
    for (const n of ['n1', 'n2', 'n3']) {
      for (let i = 0; i < 2; i++) {
        const r = await cluster.addEpisode(cluster.node(n), AGENT, `during-${n}-${i}`);
        expect(r.code, r.stderr).toBe(0);
        acked.push(r.id!);
      }
    }
  }, 90_000);

  it('after heal all 5 are ACTIVE voters, digests are equal and every node holds every acknowledged write', async () => {
    const incBefore = Object.fromEntries(await Promise.all(['n4', 'n5'].map(async (n) => [n, (await cluster.status(cluster.node(n)))?.incarnation ?? -1] as const)));
    const t0 = Date.now();
    await lan.heal();
    const all = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const healed = await cluster.waitStatus(
      all,
      (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.voters === 5 && s.quorum.reachable === 5 && s.quorum.removed.length === 0,
      45_000,
    );
    expect(healed.ok, `not healed: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum 3+2] all 5 ACTIVE with 5/5 voters ${Date.now() - t0} ms after heal`);

    // The removed nodes rejoined by themselves with a new (higher) incarnation.
    for (const n of ['n4', 'n5']) expect(healed.statuses[n]!.incarnation).toBeGreaterThan(incBefore[n]!);
    // Digests through the CLI, polled until equal (anti-entropy runs at once on rejoin).
    const deadline = Date.now() + 30_000;
    let digests: string[] = [];
    for (let i = 0; i < 60; i++) {
      digests = await Promise.all(all.map(async (n) => (await cluster.digest(cluster.node(n))).digest));
      if (new Set(digests).size === 1 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(new Set(digests).size, `digests differ: ${digests.join(' ')}`).toBe(1);
    console.log(`[quorum 3+2] digests equal ${Date.now() - t0} ms after heal`);

    for (const n of all) {
      const eps = await cluster.show(cluster.node(n), AGENT);
      const ids = eps.map((e) => e.id);
      for (const id of acked) expect(ids, `${n} lacks acknowledged episode ${id}`).toContain(id);
      for (const t of refusedTasks) expect(eps.map((e) => e.task)).not.toContain(t);
    }
    expect(acked.length).toBe(8);
  }, 90_000);
});
