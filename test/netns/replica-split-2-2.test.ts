// Writes through a 2+2 split, detection, downing and handoff (root only; skips loudly
// elsewhere): 4 real `tri` nodes in 4 network namespaces, RF 3, n3 the only coordinator (the
// tiebreaker). The agent written has n3 and n4 in its replica set, so the side {n3, n4} holds a
// majority of the set as well as the tiebreaker. From the cut until 30 s after it, both sides
// write through the CLI every few hundred milliseconds: every write on {n3, n4} is acknowledged
// (issue 21: with joint quorums no write is refused while the voters change), every write on
// {n1, n2} fails: with exit 3 from the moment that side notices the cut, a write in flight at the
// cut with exit 4 (a write timeout, never acknowledged). After heal every node reads every acknowledged write and no refused one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING replica-set 2+2 netns tests: ${support.reason}`);

const ALL = ['n1', 'n2', 'n3', 'n4'];
const WRITE_FOR_MS = 30_000;
const PAUSE_MS = 300;
const IN_FLIGHT = 3;

interface Outcome {
  node: string;
  /** ms after the cut the write started, and how long it took. */
  at: number;
  took: number;
  code: number;
  task: string;
  id?: string;
  stderr: string;
}

describe.skipIf(!support.ok)('replica sets: writes through a 2+2 split with the coordinator on one side', { timeout: 180_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(4, { n3: 'coordinator' }, 'replica 2+2', 3));
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('the coordinator side acknowledges every write from the cut through downing and handoff; the other side acknowledges none and refuses with exit 3 once it noticed', async () => {
    let agent: string | undefined;
    for (let i = 0; i < 40 && !agent; i++) {
      const r = await cluster.cli(cluster.node('n3'), ['memory', 'placement', '--agent', `agent-${i}`, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const replicas = (JSON.parse(r.stdout) as { replicas: string[] }).replicas;
      if (replicas.includes('n3') && replicas.includes('n4')) agent = `agent-${i}`;
    }
    expect(agent, 'no agent among 40 ids has n3 and n4 in its replica set').toBeDefined();
    const before = await cluster.addEpisode(cluster.node('n1'), agent!, 'before');
    expect(before.code, before.stderr).toBe(0);

    const cutAt = Date.now();
    await lan.partition([hosts.slice(0, 2), hosts.slice(2)]);
    const outcomes: Outcome[] = [];
    // A new write starts every PAUSE_MS while fewer than IN_FLIGHT of that side's are running, so
    // the cadence holds even when one CLI call takes seconds on a loaded machine.
    const writeLoop = async (nodes: string[], side: string): Promise<void> => {
      const running = new Set<Promise<void>>();
      for (let i = 0; Date.now() - cutAt < WRITE_FOR_MS && i < 500; i++) {
        while (running.size >= IN_FLIGHT) await Promise.race(running);
        const node = nodes[i % nodes.length]!;
        const task = `${side}-${i}`;
        const at = Date.now() - cutAt;
        const one = cluster.addEpisode(cluster.node(node), agent!, task).then((r) => {
          outcomes.push({ node, at, took: Date.now() - cutAt - at, code: r.code, task, id: r.id, stderr: r.stderr.split('\n')[0] ?? '' });
        });
        running.add(one);
        void one.finally(() => running.delete(one));
        await new Promise((res) => setTimeout(res, PAUSE_MS));
      }
      await Promise.all(running);
    };
    await Promise.all([writeLoop(['n3', 'n4'], 'writable'), writeLoop(['n1', 'n2'], 'cut')]);
    const after = await cluster.status(cluster.node('n3'));
    console.log(`[replica 2+2] 30 s after the cut n3 shows removed=[${after?.quorum.removed.join(',')}] voters ${after?.quorum.voters}`);
    outcomes.sort((x, y) => x.at - y.at);
    const writable = outcomes.filter((o) => o.node === 'n3' || o.node === 'n4');
    const cut = outcomes.filter((o) => o.node === 'n1' || o.node === 'n2');
    const line = (o: Outcome): string => `${o.node}@${o.at}ms(${o.took}ms)=${o.code}${o.code === 0 ? '' : ` ${o.stderr.slice(0, 160)}`}`;
    console.log(`[replica 2+2] coordinator side: ${writable.length} writes, ${writable.filter((o) => o.code === 0).length} acknowledged; refused or failed: ${writable.filter((o) => o.code !== 0).map(line).join(' | ') || 'none'}`);
    console.log(`[replica 2+2] other side: ${cut.length} writes, exit codes ${JSON.stringify(countBy(cut.map((o) => o.code)))}; not exit 3: ${cut.filter((o) => o.code !== 3).map(line).join(' | ') || 'none'}`);
    // The whole window was covered: detection and downing (stable-after 10 s) happened inside it.
    expect(after?.quorum.removed.sort(), 'n1 and n2 were not downed within the 30 s of writes').toEqual(['n1', 'n2']);
    expect(writable.length).toBeGreaterThanOrEqual(8);
    expect(cut.length).toBeGreaterThanOrEqual(8);

    // After heal: every acknowledged write everywhere, no refused one anywhere.
    await lan.heal();
    const healed = await cluster.waitStatus(ALL, (s) => s.state === 'ACTIVE' && s.quorum.voters === 4 && s.quorum.reachable === 4 && s.quorum.removed.length === 0, 60_000);
    expect(healed.ok, `not healed: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    const acked = [before.id!, ...outcomes.filter((o) => o.code === 0).map((o) => o.id!)];
    const refused = outcomes.filter((o) => o.code !== 0).map((o) => o.task);
    for (const n of ALL) {
      let ids: string[] = [];
      let tasks: string[] = [];
      for (let i = 0; i < 30; i++) {
        const eps = await cluster.show(cluster.node(n), agent!);
        ids = eps.map((e) => e.id);
        tasks = eps.map((e) => e.task);
        if (acked.every((id) => ids.includes(id))) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(acked.filter((id) => !ids.includes(id)), `${n} lacks acknowledged writes`).toEqual([]);
      // A write refused at once (exit 3) was applied nowhere. (A write that timed out, exit 4, may
      // have been stored by some: it was never acknowledged, so it may or may not survive.)
      const refusedAtOnce = outcomes.filter((o) => o.code === 3).map((o) => o.task);
      expect(tasks.filter((t) => refusedAtOnce.includes(t)), `${n} holds refused writes`).toEqual([]);
      expect(refused.length + acked.length).toBe(outcomes.length + 1);
    }

    // The issue's two claims, asserted last so the heal checks above ran either way.
    expect(writable.filter((o) => o.code !== 0).map(line), 'writes refused or failed on the side with the coordinator').toEqual([]);
    // The other side: nothing is acknowledged. A write already waiting for acks when the cut came,
    // before this side could know (SWIM has not suspected anyone yet), ends as a write timeout
    // (exit 4: applied here, not acknowledged, it may converge later); it cannot honestly be a
    // QuorumError, which says nothing was applied. From the first refusal on, every write fails
    // at once with exit 3.
    expect(cut.filter((o) => o.code === 0).map(line), 'writes acknowledged on the side without the coordinator').toEqual([]);
    const firstRefusal = cut.findIndex((o) => o.code === 3);
    expect(firstRefusal, 'the side without the coordinator never refused a write with exit 3').toBeGreaterThanOrEqual(0);
    expect(cut.slice(firstRefusal).filter((o) => o.code !== 3).map(line), 'writes after the first refusal that did not fail with exit 3').toEqual([]);
    expect(cut.slice(0, firstRefusal).filter((o) => o.code !== 4).map(line), 'writes before the first refusal that did not time out (exit 4)').toEqual([]);
  });
});

function countBy(xs: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
