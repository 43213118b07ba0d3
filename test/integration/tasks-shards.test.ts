// Tasks sharded with their agents on real processes (issue 21 item 7): five `tri node start`
// processes on 127.0.32.11-15, replication factor 3. Echo tasks for five agents, submitted through
// every node, all finish; each agent's task table ('tasks/<agent>') is then stored by exactly the
// agent's 3 replicas (each node's memory.placement: tasksHeldHere) and any node answers `task get` and a
// paged `task list` for every task. Then the scheduler of one shard (its first replica) is
// SIGKILLed while it runs that shard's sleep tasks: another replica re-places them and each one
// completes exactly once (one result, one episode in the agent's memory).
import { describe, expect, it } from 'vitest';
import { NodeClient } from '../../src/client/node-client.js';
import type { TaskView } from '../../src/tasks/index.js';
import { loopbackRange, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { NodeClients } from './lib/node-clients.js';

const AGENTS = ['shard-a', 'shard-b', 'shard-c', 'shard-d', 'shard-e'];

describe('tasks sharded with their agents: 5 processes, replication factor 3 (127.0.32.11-15)', () => {
  let c!: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(11, 5, 32), profile: 'local', extraArgs: () => ['--replication-factor', '3'] }),
    (x) => (c = x),
  );
  const clients = new NodeClients(() => c);
  const client = (name: string): Promise<NodeClient> => clients.get(name);
  const replicasOf = async (agent: string): Promise<string[]> => (await (await client('n1')).placement(agent)).replicas;

  /** Whether `name` holds the agent's task shard (memory.placement's tasksHeldHere: the node's document set, as stored). */
  const holdsShard = async (name: string, agent: string): Promise<boolean> => (await (await client(name)).placement(agent)).tasksHeldHere;

  const waitDone = (via: string, ids: string[], timeoutMs: number) =>
    waitFor(
      `${ids.length} tasks finished (asked on ${via})`,
      async () => {
        const k = await client(via);
        const views = await Promise.all(ids.map((id) => k.getTask(id)));
        const open = views.filter((v) => v.status !== 'done' && v.status !== 'failed');
        return { ok: open.length === 0, value: views, detail: open.map((v) => `${v.id}:${v.status}@${v.node ?? '-'}`).join(' ') };
      },
      { timeoutMs, intervalMs: 500 },
    );

  it('echo tasks for five agents: each shard stored by exactly its 3 replicas; any node gets and lists every task', async () => {
    await waitFor(
      'five ACTIVE voters on one configuration',
      async () => {
        const all = await Promise.all(c.nodes.map(async (n) => (await client(n.name)).status()));
        const ok = all.every((s) => s.voters.length === 5 && s.quorum.configuration === all[0]!.quorum.configuration && s.state === 'ACTIVE');
        return { ok, value: all, detail: all.map((s) => `${s.state} ${s.voters.length}@${s.quorum.configuration}`).join(' ') };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const names = c.nodes.map((n) => n.name);
    const submitted = await Promise.all(
      Array.from({ length: 15 }, async (_, i) => (await client(names[i % 5]!)).submitTask({ type: 'echo', agent: AGENTS[i % AGENTS.length]!, input: { i } })),
    );
    const done = await waitDone('n3', submitted.map((t) => t.id), 60_000);
    for (const v of done) {
      expect(v.status).toBe('done');
      expect(await replicasOf(v.agent)).toContain(v.node); // local-first: run by a replica of its agent
    }
    for (const agent of AGENTS) {
      const set = [...(await replicasOf(agent))].sort();
      expect(set).toHaveLength(3);
      await waitFor(
        `tasks/${agent} stored by exactly ${set.join(',')}`,
        async () => {
          const held = await Promise.all(names.map((n) => holdsShard(n, agent)));
          const holders = names.filter((_, i) => held[i]).sort();
          return { ok: JSON.stringify(holders) === JSON.stringify(set), value: holders, detail: holders.join(',') };
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      );
    }
    // Every node answers for every task (a non-replica asks the replicas), and pages over all shards.
    for (const name of names) {
      const k = await client(name);
      for (const t of submitted) expect((await k.getTask(t.id)).status).toBe('done');
      const ids: string[] = [];
      for await (const items of k.taskPages({ limit: 4 })) {
        expect(items.length).toBeLessThanOrEqual(4);
        ids.push(...items.map((v) => v.id));
      }
      expect(ids.sort(), name).toEqual(submitted.map((t) => t.id).sort());
    }
  }, 180_000);

  it("SIGKILL of a shard's scheduler mid-run: another replica re-places its tasks, each done exactly once", async () => {
    const agent = AGENTS[0]!;
    const set = await replicasOf(agent);
    const scheduler = set[0]!;
    const live = c.nodes.map((n) => n.name).filter((n) => n !== scheduler);
    const outsider = live.find((n) => !set.includes(n))!;
    const k = await client(outsider);
    // Submitted through a non-replica: forwarded to the scheduler, which runs them itself (local-first).
    const tasks: TaskView[] = [];
    for (let i = 0; i < 2; i++) tasks.push(await k.submitTask({ type: 'sleep', agent, input: { ms: 4000 } }));
    await waitFor(
      `both sleep tasks running on ${scheduler}`,
      async () => {
        const views = await Promise.all(tasks.map((t) => k.getTask(t.id)));
        return { ok: views.every((v) => v.status === 'running' && v.lease?.holder === scheduler), value: views, detail: views.map((v) => `${v.status}@${v.lease?.holder ?? '-'}`).join(' ') };
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(c.node(scheduler).signal('SIGKILL')).toBe(true);
    await c.node(scheduler).waitExit(10_000);
    clients.forget(scheduler);
    const views = await waitDone(outsider, tasks.map((t) => t.id), 120_000);
    for (const v of views) {
      expect(v.status).toBe('done');
      expect(v.node).not.toBe(scheduler);
      expect(v.attempts).toBeGreaterThanOrEqual(2);
    }
    // Exactly once: one episode per task in the agent's memory, on every live replica.
    for (const name of set.filter((n) => n !== scheduler)) {
      const episodes = await (await client(name)).showMemory(agent);
      for (const t of tasks) expect(episodes.filter((e) => e.fields.taskId === t.id), `${t.id} on ${name}`).toHaveLength(1);
    }
  }, 240_000);

  it('closes its clients', async () => {
    await clients.closeAll();
  });
});
