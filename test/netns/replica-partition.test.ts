// A partition through one agent's replica set (root only; skips loudly elsewhere): 5 real `tri`
// nodes in 5 network namespaces, RF 3. Agent X's replica set is {A, B, C} (read with `tri memory
// placement`); the cut puts {A, B} on one side and {C, D, E}, the cluster majority, on the other.
// On C, D and E the cluster is writable, yet X's writes fail at once with exit 3 naming X's
// replica set ({reachable 1, voters 3, replicas} in the --json error), applying nothing; writes to
// an agent whose replica set has a majority in {C, D, E} succeed there. After heal every
// acknowledged write is readable everywhere and the refused ones exist nowhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, type Host, type Lan } from './lib/index.js';
import { destroyLanCluster, launchLanCluster, summarize, TriCluster, type TriNode } from './lib/cluster.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING replica-set partition netns tests: ${support.reason}`);

const ALL = ['n1', 'n2', 'n3', 'n4', 'n5'];

interface Placement {
  agent: string;
  replicas: string[];
  epoch: number;
}

async function placement(cluster: TriCluster, at: TriNode, agent: string): Promise<Placement> {
  const r = await cluster.cli(at, ['memory', 'placement', '--agent', agent, '--json']);
  if (r.code !== 0) throw new Error(`tri memory placement on ${at.name} failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Placement;
}

/** The `{error: {code, name, message, ...data}}` line `tri --json` prints on stderr for a failed command. */
function errorJson(stderr: string): { code?: string; reachable?: number; voters?: number; replicas?: string[] } {
  const line = stderr.split('\n').find((l) => l.startsWith('{"error"'));
  return line ? (JSON.parse(line) as { error: ReturnType<typeof errorJson> }).error : {};
}

describe.skipIf(!support.ok)('replica sets: a partition that cuts one agent\'s replica set 2|1', { timeout: 150_000 }, () => {
  let lan: Lan;
  let cluster: TriCluster;
  let hosts: Host[];

  beforeAll(async () => {
    ({ lan, cluster, hosts } = await launchLanCluster(5, {}, 'replica partition', 3));
  }, 90_000);

  afterAll(() => destroyLanCluster(cluster, lan));

  it('the cut agent is refused with exit 3 on the majority side, an agent with a majority there is written', async () => {
    const n1 = cluster.node('n1');
    const cut = await placement(cluster, n1, 'agent-cut');
    expect(cut.replicas).toHaveLength(3);
    const [a, b, c] = cut.replicas as [string, string, string];
    const rest = ALL.filter((n) => !cut.replicas.includes(n));
    const majority = [c, ...rest];
    // Another agent with at least 2 of its 3 replicas on the majority side (rendezvous hashing
    // spreads agents, so one of the first few ids is such an agent).
    let whole: Placement | undefined;
    for (let i = 0; i < 40 && !whole; i++) {
      const p = await placement(cluster, n1, `agent-ok-${i}`);
      if (p.replicas.filter((r) => majority.includes(r)).length >= 2) whole = p;
    }
    expect(whole, 'no agent with a replica majority on the majority side among 40 ids').toBeDefined();
    console.log(`[replica partition] agent-cut on ${cut.replicas.join(',')}; ${whole!.agent} on ${whole!.replicas.join(',')}; cut {${a},${b}} | {${majority.join(',')}}`);

    const acked: { agent: string; id: string }[] = [];
    for (const [agent, at] of [['agent-cut', c], [whole!.agent, majority[1]!]] as const) {
      const r = await cluster.addEpisode(cluster.node(at), agent, `before-${agent}`);
      expect(r.code, r.stderr).toBe(0);
      acked.push({ agent, id: r.id! });
    }

    const t0 = Date.now();
    const byName = new Map(ALL.map((n, i) => [n, hosts[i]!]));
    await lan.partition([[byName.get(a)!, byName.get(b)!], majority.map((n) => byName.get(n)!)]);
    // The majority side counts only itself reachable (before stable-after downs A and B, which
    // would move agent-cut's replica set onto the majority side).
    const noticed = await cluster.waitStatus(majority, (s) => s.quorum.writable && s.quorum.reachable === 3 && s.quorum.voters === 5, 45_000, 250);
    expect(noticed.ok, `majority side did not notice the cut: ${JSON.stringify(summarize(noticed.statuses))}\n${cluster.logs()}`).toBe(true);
    console.log(`[replica partition] majority side sees 3 of 5 voters ${Date.now() - t0} ms after the cut`);

    // The three refusals run at once: the majority downs A and B stable-after (10 s) after it
    // declared them FAILED, which moves agent-cut's replica set onto the majority side; on a
    // loaded machine nine CLI calls in a row did not fit into that window.
    const refusedTasks = majority.map((n) => `refused-${n}`);
    const before = await Promise.all(majority.map((n) => cluster.digest(cluster.node(n))));
    const w0 = Date.now();
    const results = await Promise.all(majority.map(async (n, i) => ({ r: await cluster.addEpisode(cluster.node(n), 'agent-cut', refusedTasks[i]!), took: Date.now() - w0 })));
    const afterDigests = await Promise.all(majority.map((n) => cluster.digest(cluster.node(n))));
    const still = await cluster.status(cluster.node(c));
    if (results.some(({ r }) => r.code !== 3) && still?.quorum.removed.length) {
      throw new Error(`A and B were downed (removed [${still.quorum.removed.join(',')}]) before the refusals ran (${Date.now() - t0} ms after the cut): the machine was too slow to test within stable-after; exit codes ${results.map(({ r }) => r.code).join(',')}`);
    }
    majority.forEach((n, i) => {
      const { r, took } = results[i]!;
      expect(r.code, `${n}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/the replica set of agent agent-cut .* has no reachable majority/);
      // C reaches itself of the three; D and E reach only C.
      expect(errorJson(r.stderr)).toMatchObject({ code: 'TRI_QUORUM', reachable: 1, voters: 3, replicas: cut.replicas });
      expect(took, 'refused at once, not after the write timeout').toBeLessThan(5_000);
      expect(afterDigests[i], `${n} applied a refused write`).toEqual(before[i]);
    });
    for (const n of majority) {
      const r = await cluster.addEpisode(cluster.node(n), whole!.agent, `during-${n}`);
      expect(r.code, `${n}: ${r.stderr}`).toBe(0);
      acked.push({ agent: whole!.agent, id: r.id! });
    }
    console.log(`[replica partition] refusals and writes done ${Date.now() - t0} ms after the cut`);

    await lan.heal();
    const healed = await cluster.waitStatus(ALL, (s) => s.state === 'ACTIVE' && s.quorum.writable && s.quorum.reachable === s.quorum.voters && s.quorum.removed.length === 0, 60_000);
    expect(healed.ok, `not healed: ${JSON.stringify(summarize(healed.statuses))}\n${cluster.logs()}`).toBe(true);
    // Reads anywhere (a non-replica merges from a majority of the set): every acknowledged write, no refused one.
    for (const n of ALL) {
      for (const agent of ['agent-cut', whole!.agent]) {
        let ids: string[] = [];
        let tasks: string[] = [];
        for (let i = 0; i < 20; i++) {
          const eps = await cluster.show(cluster.node(n), agent);
          ids = eps.map((e) => e.id);
          tasks = eps.map((e) => e.task);
          if (acked.filter((x) => x.agent === agent).every((x) => ids.includes(x.id))) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        for (const x of acked.filter((y) => y.agent === agent)) expect(ids, `${n} lacks ${x.id} of ${agent}`).toContain(x.id);
        for (const t of refusedTasks) expect(tasks, `${n} holds refused ${t}`).not.toContain(t);
      }
    }
  });
});
