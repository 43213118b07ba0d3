// Sync messages per task with tasks sharded with their agents (issue 21: at most 8 per task at
// RF 3, whatever the node count), on SimCluster: 9 nodes, RF 3, formed and quiet. Tasks for one
// agent submitted together through a node that is not one of its replicas: the task shard and the
// agent's memory change only on its 3 replicas, so no other node receives a push, a repair or an
// acknowledgement of them, and the whole cluster sends at most 8 sync messages per task (the
// background of anti-entropy probes included).
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import type { SyncStats } from '../../src/sync/stats.js';
import type { TaskView } from '../../src/tasks/index.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const N = 9;
const TASKS = 24;
/** What carries or acknowledges a document's content (anti-entropy probes aside). */
const CONTENT_KINDS = ['update', 'updates', 'ack', 'acks', 'doc-deltas', 'doc-states', 'snapshot-request'] as const;

const messages = (s: SyncStats['sent']): number => Object.values(s).reduce((a, k) => a + (k?.messages ?? 0), 0);
const contentReceived = (s: SyncStats): number => CONTENT_KINDS.reduce((a, k) => a + (s.received[k]?.messages ?? 0), 0);

describe('sync messages per task, tasks sharded (simulator, 9 nodes, RF 3)', () => {
  it("a task's writes reach only its agent's replicas, at most 8 sync messages per task", async () => {
    const c = track(new SimCluster({ seed: 'task-messages-9', nodes: N, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(N) && c.allSee((ms) => ms.every((m) => m.state === 'ACTIVE')) && c.live().every((i) => c.node(i).gate.voterConfig().voters.length === N), 120_000)).toBe(true);
      const agent = 'alpha';
      const replicas = [...c.node(0).memoryService.replicas.view.current().replicasOf(`agent/${agent}`)!];
      expect(replicas).toHaveLength(3);
      expect([...c.node(0).memoryService.replicas.view.current().replicasOf(`tasks/${agent}`)!].sort()).toEqual([...replicas].sort()); // memory and tasks share the key
      // One warm-up task makes the shard and the agent's memory on the replicas; then quiet (handoff, first anti-entropy rounds).
      const via = c.live().find((i) => !replicas.includes(c.node(i).name))!;
      await c.settle(c.node(via).submit({ type: 'echo', agent, input: { warm: true } }), 10_000);
      await c.runFor(15_000);
      const before = c.live().map((i) => c.node(i).memoryService.engine.stats());
      const tasks: TaskView[] = await c.settle(Promise.all(Array.from({ length: TASKS }, (_, k) => c.node(via).submit({ type: 'echo', agent, input: { k } }))), 20_000);
      const doneOn = (name: string): boolean => {
        const table = c.node(c.nodes.findIndex((n) => n.name === name)).tasks.shards.held(`tasks/${agent}`)?.table;
        return tasks.every((t) => table?.get(t.id)?.status === 'done');
      };
      expect(await c.runUntil(() => replicas.every(doneOn), 60_000)).toBe(true);
      await c.runFor(2_000); // the last acknowledgements
      const after = c.live().map((i) => c.node(i).memoryService.engine.stats());
      let sent = 0;
      for (const [k, i] of c.live().entries()) {
        sent += messages(after[k]!.sent) - messages(before[k]!.sent);
        const got = contentReceived(after[k]!) - contentReceived(before[k]!);
        if (!replicas.includes(c.node(i).name)) expect(got, `${c.node(i).name} (not a replica of ${agent}) received ${got} content messages`).toBe(0);
      }
      if (process.env.TRI_TEST_PRINT) console.log(`sync messages per task: ${sent / TASKS}`);
      expect(sent / TASKS, `${sent} sync messages for ${TASKS} tasks`).toBeLessThanOrEqual(8);
    });
  }, 240_000);
});
