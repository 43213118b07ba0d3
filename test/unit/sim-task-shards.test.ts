// Tasks sharded with their agents on SimCluster (issue 21 item 7): 5 nodes, replication factor 3.
// Tasks for several agents submitted through every node end up in per-agent task tables
// ('tasks/<agent>') held by exactly the agent's 3 replicas (nobody else, the cluster-wide table
// stays empty); local-first runs them on a replica (data-local); every node finds every task
// (get and list ask the replicas). Crashing the scheduler of a shard (its first live replica)
// while its tasks run: once it is downed, the next replica re-places them and each ends done
// exactly once (one winner, one episode).
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import type { TaskView } from '../../src/tasks/index.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta'];

const replicasOf = (c: SimCluster, agent: string): string[] => [...c.node(c.live()[0]!).memoryService.replicas.view.current().replicasOf(`tasks/${agent}`)!];
const indexOf = (c: SimCluster, name: string): number => c.nodes.findIndex((n) => n.name === name);
const holders = (c: SimCluster, agent: string): string[] =>
  c
    .live()
    .filter((i) => c.node(i).memoryService.docs.has(`tasks/${agent}`))
    .map((i) => c.node(i).name)
    .sort();

describe('tasks sharded with their agents (simulator, 5 nodes, RF 3)', () => {
  it('each shard lives on its agent replica set, runs data-local, and every node finds every task', async () => {
    const c = track(new SimCluster({ seed: 'task-shards-5', nodes: 5, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.allSee((ms) => ms.every((m) => m.state === 'ACTIVE')) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      const submitted: TaskView[] = [];
      for (let k = 0; k < 18; k++) {
        const agent = AGENTS[k % AGENTS.length]!;
        submitted.push(await c.settle(c.node(k % 5).submit({ type: 'echo', agent, input: { k } }), 10_000));
      }
      const done = (): boolean => submitted.every((t) => replicasOf(c, t.agent).every((n) => c.node(indexOf(c, n)).tasks.shards.held(`tasks/${t.agent}`)?.table.get(t.id)?.status === 'done'));
      expect(await c.runUntil(done, 60_000)).toBe(true);
      expect(await c.runUntil(() => AGENTS.every((a) => JSON.stringify(holders(c, a)) === JSON.stringify([...replicasOf(c, a)].sort())), 30_000)).toBe(true);
      for (const t of submitted) {
        const view = c.node(indexOf(c, replicasOf(c, t.agent)[0]!)).tasks.get(t.id);
        expect(view.result).toEqual({ k: (t.input as { k: number }).k });
        expect(replicasOf(c, t.agent)).toContain(view.node); // local-first: a replica of the agent ran it
      }
      for (const i of c.live()) expect(c.node(i).tasks.table.list()).toEqual([]); // nothing in the cluster-wide table
      // Any node answers for any task, and a paged list over all shards sees each task once.
      for (const t of submitted) {
        const outsider = c.live().find((i) => !replicasOf(c, t.agent).includes(c.node(i).name))!;
        expect((await c.settle(c.node(outsider).tasks.getAnywhere(t.id), 10_000)).status).toBe('done');
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await c.settle(c.node(0).tasks.pageAnywhere({ limit: 4, ...(after ? { after } : {}) }), 10_000);
        expect(page.items.length).toBeLessThanOrEqual(4);
        seen.push(...page.items.map((v) => v.id));
        if (!page.next) break;
        after = page.next;
      }
      expect([...seen].sort()).toEqual(submitted.map((t) => t.id).sort());
    });
  });

  it('the scheduler of a shard crashes while its tasks run: the next replica re-places them, each done once', async () => {
    const c = track(new SimCluster({ seed: 'task-shards-failover', nodes: 5, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.allSee((ms) => ms.every((m) => m.state === 'ACTIVE')) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      const agent = 'alpha';
      const [first, second] = replicasOf(c, agent);
      const victim = indexOf(c, first!);
      // Submitted through a non-replica: forwarded to the scheduler, which runs them itself (local-first).
      const via = c.live().find((i) => !replicasOf(c, agent).includes(c.node(i).name))!;
      const tasks: TaskView[] = [];
      for (let k = 0; k < 3; k++) tasks.push(await c.settle(c.node(via).submit({ type: 'sleep', agent, input: { ms: 4000 } }), 10_000));
      const viewOn = (i: number, id: string) => c.node(i).tasks.shards.held(`tasks/${agent}`)?.table.get(id);
      expect(await c.runUntil(() => tasks.every((t) => viewOn(victim, t.id)?.status === 'running'), 10_000)).toBe(true);
      expect(tasks.every((t) => viewOn(victim, t.id)!.lease!.holder === first)).toBe(true);
      c.crash(victim);
      const next = indexOf(c, second!);
      expect(await c.runUntil(() => tasks.every((t) => viewOn(next, t.id)?.status === 'done'), 120_000)).toBe(true);
      for (const t of tasks) {
        const v = viewOn(next, t.id)!;
        expect(v.node).not.toBe(first);
        expect(v.attempts).toBe(2);
        expect(c.node(next).memory(agent).list().filter((e) => e.fields.taskId === t.id)).toHaveLength(1);
      }
    });
  });

  it("retention trims finished tasks from a shard on every replica (its scheduler trims); a trimmed explicit id is refused", async () => {
    const c = track(new SimCluster({ seed: 'task-shards-retention', nodes: 5, replicationFactor: 3, nodeOptions: { retention: { taskRetentionMs: 3000 } } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.allSee((ms) => ms.every((m) => m.state === 'ACTIVE')) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 5), 60_000)).toBe(true);
      const agent = 'beta';
      const set = replicasOf(c, agent).map((n) => indexOf(c, n));
      const t = await c.settle(c.node(0).submit({ id: 'keep-once', type: 'echo', agent, input: { x: 1 } }), 10_000);
      const on = (i: number) => c.node(i).tasks.shards.held(`tasks/${agent}`)?.table.get(t.id);
      expect(await c.runUntil(() => set.every((i) => on(i)?.status === 'done'), 30_000)).toBe(true);
      expect(await c.runUntil(() => set.every((i) => c.node(i).tasks.shards.held(`tasks/${agent}`) !== undefined && on(i) === undefined), 60_000)).toBe(true);
      // The trim counts once its write is acknowledged; only the shard's scheduler (its first replica) trims.
      const trimmed = (i: number) => (c.node(i).retention.status().tasks as { trimmed: number }).trimmed;
      expect(await c.runUntil(() => c.live().some((i) => trimmed(i) > 0), 30_000)).toBe(true);
      const scheduler = set[0]!;
      expect(c.live().map((i) => trimmed(i))).toEqual(c.live().map((i) => (i === scheduler ? 1 : 0)));
      for (const i of set) expect(c.node(i).retention.status()).toMatchObject({ tasks: { retiredIds: 1 } });
      await expect(c.settle(c.node(scheduler).submit({ id: 'keep-once', type: 'echo', agent, input: { x: 2 } }), 10_000)).rejects.toThrow(/was used by a task that finished/);
    });
  });
});
