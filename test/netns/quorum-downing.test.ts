// Downing between real network namespaces (root only; skips loudly elsewhere): 3 real `tri`
// nodes, n3 cut off by moving its veth to another bridge. The writable side {n1, n2} removes n3
// from the voter set once it stayed FAILED for stable-after (10 s), visible in /status
// quorum.removed, and keeps acknowledging writes with 2 voters. n3 is DEGRADED and refuses writes
// (exit 3). After heal n3 rejoins by itself: a voter again, with a new incarnation and a full
// snapshot, holding every acknowledged write; its refused write never happened anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster, type StatusJson } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING quorum downing netns tests: ${support.reason}`);

const AGENT = 'agent-downing';
const ALL = ['n1', 'n2', 'n3'];
const STABLE_AFTER_MS = 10_000;

const snapshotRequests = (s: StatusJson | undefined): number =>
  ((s as unknown as { memory?: { sync?: { sent?: Record<string, { messages?: number }> } } })?.memory?.sync?.sent?.['snapshot-request']?.messages) ?? 0;

describe.skipIf(!support.ok)('quorum: downing a partitioned node and its rejoin', { timeout: 110_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];
  const acked: string[] = [];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(3, {}, 'quorum downing'));
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('the writable side removes n3 after stable-after, n3 refuses writes, and after heal n3 rejoins by itself', async () => {
    const r0 = await cluster.addEpisode(cluster.node('n3'), AGENT, 'before');
    expect(r0.code, r0.stderr).toBe(0);
    acked.push(r0.id!);
    // The configuration the formed cluster is on (its founder's, plus the admissions of the others).
    const formedAt = (await cluster.status(cluster.node('n1')))!.quorum.configuration;

    const t0 = Date.now();
    await lan.partition([hosts.slice(0, 2), hosts.slice(2)]);
    // Stable-after counts from the first survivor that marked n3 FAILED (the other may detect it seconds later).
    let tFailed: number | undefined;
    const failed = await cluster.waitStatus(
      ['n1', 'n2'],
      (s) => {
        const seen = s.members.find((m) => m.name === 'n3')?.state === 'FAILED';
        if (seen) tFailed ??= Date.now();
        return seen;
      },
      30_000,
      250,
    );
    expect(failed.ok, `n3 not FAILED on the majority: ${JSON.stringify(summarize(failed.statuses))}`).toBe(true);
    // Still a voter right after it failed: nobody is removed before stable-after.
    for (const n of ['n1', 'n2']) expect(failed.statuses[n]!.quorum).toMatchObject({ voters: 3, removed: [] });
    const removed = await cluster.waitStatus(['n1', 'n2'], (s) => s.quorum.removed.join() === 'n3', 30_000, 250);
    expect(removed.ok, `n3 not removed: ${JSON.stringify(summarize(removed.statuses))}\n${cluster.logs()}`).toBe(true);
    const tRemoved = Date.now();
    console.log(`[quorum downing] n3 FAILED on the majority ${tFailed! - t0} ms after the cut (first survivor), removed ${tRemoved - tFailed!} ms later`);
    expect(tRemoved - tFailed!).toBeGreaterThanOrEqual(STABLE_AFTER_MS - 1_500);
    // The removal is a numbered voter configuration both survivors agreed on (the next one).
    for (const n of ['n1', 'n2']) expect(removed.statuses[n]!.quorum.configuration).toBe(formedAt + 1);
    for (const n of ['n1', 'n2']) {
      expect(removed.statuses[n]!.quorum).toMatchObject({ writable: true, voters: 2, reachable: 2 });
      expect(removed.statuses[n]!.state).toBe('ACTIVE');
      // A removed member stays listed, as FAILED.
      expect(removed.statuses[n]!.members.find((m) => m.name === 'n3')?.state).toBe('FAILED');
    }
    for (const n of ['n1', 'n2']) {
      const r = await cluster.addEpisode(cluster.node(n), AGENT, `during-${n}`);
      expect(r.code, r.stderr).toBe(0);
      acked.push(r.id!);
    }

    const alone = await cluster.waitStatus(['n3'], (s) => s.state === 'DEGRADED' && s.quorum.reachable === 1, 60_000);
    expect(alone.ok, `n3 not DEGRADED: ${JSON.stringify(summarize(alone.statuses))}`).toBe(true);
    console.log(`[quorum downing] n3 DEGRADED ${Date.now() - t0} ms after the cut`);
    const refused = await cluster.addEpisode(cluster.node('n3'), AGENT, 'refused-n3');
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/reaches 1 of 3 voters/);

    const before = await cluster.status(cluster.node('n3'));
    const t1 = Date.now();
    await lan.heal();
    const healed = await cluster.waitStatus(
      ALL,
      (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.voters === 3 && s.quorum.reachable === 3 && s.quorum.removed.length === 0,
      45_000,
    );
    expect(healed.ok, `n3 did not rejoin: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[quorum downing] n3 a voter again ${Date.now() - t1} ms after heal`);
    const n3 = healed.statuses['n3']!;
    // Admitting n3 again was the next configuration, and n3 itself is on it.
    for (const n of ALL) expect(healed.statuses[n]!.quorum.configuration, n).toBe(formedAt + 2);
    expect(n3.incarnation).toBeGreaterThan(before!.incarnation);
    // The others' member lists show n3 back on its new incarnation once its metadata reached them
    // by gossip, which can trail their quorum counts (n3 showed them its configuration directly).
    const seen = await cluster.waitStatus(
      ['n1', 'n2'],
      (s) => {
        const m = s.members.find((x) => x.name === 'n3');
        return m?.state === 'ACTIVE' && m.swimState === 'alive' && m.incarnation === n3.incarnation;
      },
      15_000,
    );
    expect(seen.ok, `n1/n2 do not show n3 ACTIVE on incarnation ${n3.incarnation}: ${JSON.stringify(summarize(seen.statuses))}`).toBe(true);

    // A full snapshot was pulled on rejoin, and n3 holds every acknowledged write.
    const snap = await cluster.waitStatus(['n3'], (s) => snapshotRequests(s) > snapshotRequests(before), 20_000);
    expect(snap.ok, `n3 pulled no full snapshot after rejoining: ${JSON.stringify((snap.statuses['n3'] as unknown as { memory: unknown })?.memory)}`).toBe(true);
    let digests: string[] = [];
    for (let i = 0; i < 60; i++) {
      digests = await Promise.all(ALL.map(async (n) => (await cluster.digest(cluster.node(n))).digest));
      if (new Set(digests).size === 1 || Date.now() - t1 > 40_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(new Set(digests).size, `digests differ: ${digests.join(' ')}`).toBe(1);
    for (const n of ALL) {
      const eps = await cluster.show(cluster.node(n), AGENT);
      expect(eps.map((e) => e.id).sort(), n).toEqual([...acked].sort());
      expect(eps.map((e) => e.task)).not.toContain('refused-n3');
    }
  });
});
