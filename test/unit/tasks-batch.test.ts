// Batched task writes (TaskService): the submits that arrive at a node in the same instant share
// one quorum write, and so do the outcomes (with their episodes) of runs that finish together.
// In the simulator the batch is a zero-delay task at the same virtual time, so these runs are
// deterministic. Each caller must still get its own answer: its task, its own refusal (an id
// already taken), or the batch write's error (QuorumError on a read-only node, nothing applied).
import { afterEach, describe, expect, it } from 'vitest';
import { QuorumError, UsageError } from '../../src/errors.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import type { TaskView } from '../../src/tasks/index.js';

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

async function startCluster(seed: string): Promise<SimCluster> {
  const c = (cluster = new SimCluster({ seed, nodes: 3 }));
  await c.start();
  const active = () => [0, 1, 2].every((i) => c.membersSeenBy(i).filter((m) => m.state === 'ACTIVE').length === 3);
  expect(await c.runUntil(() => c.allSeeAlive(3) && active(), 60_000)).toBe(true);
  return c;
}

/** Counts node i's quorum writes by outcome from now on. */
function countWrites(c: SimCluster, i: number): Record<string, number> {
  const counts: Record<string, number> = {};
  c.node(i).memoryService.onWrite((_ms, outcome) => {
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  });
  return counts;
}

describe('batched task writes', () => {
  it('submits of one instant are one quorum write; each caller gets its own task, each run one result and one episode', async () => {
    const c = await startCluster('tasks-batch-1');
    const writes = countWrites(c, 0);
    const n = 20;
    const all = Promise.all(Array.from({ length: n }, (_, k) => c.node(0).submit({ type: 'echo', input: { k }, agent: `a${k % 4}` })));
    const views: TaskView[] = await c.settle(all, 30_000);
    // The submits (and their assignments) travelled as one acknowledged write.
    expect(writes).toEqual({ acknowledged: 1 });
    expect(new Set(views.map((v) => v.id)).size).toBe(n);
    views.forEach((v, k) => expect(v).toMatchObject({ input: { k }, agent: `a${k % 4}` }));
    // Placed in the same write: 16 on the submitter's free slots (local-first), the rest elsewhere.
    expect(views.every((v) => v.status !== 'queued')).toBe(true);
    expect(views.filter((v) => v.node === 'n0')).toHaveLength(16);

    const done = () => [0, 1, 2].every((i) => views.every((v) => c.node(i).tasks.get(v.id).status === 'done'));
    expect(await c.runUntil(done, 30_000)).toBe(true);
    for (const [k, v] of views.entries()) {
      for (const i of [0, 1, 2]) {
        const t = c.node(i).tasks.get(v.id);
        expect(t.result).toEqual({ k });
        expect(t.attempts).toBe(1);
      }
    }
    // The runs finished together too: far fewer writes than one per outcome.
    expect(await c.runUntil(() => (writes.acknowledged ?? 0) >= 2, 30_000)).toBe(true);
    expect(writes.acknowledged).toBeLessThan(1 + n / 2);
    expect(writes.timeout ?? 0).toBe(0);
    // Exactly one episode per task, in its agent's memory, on every replica.
    await c.runFor(2_000);
    for (const i of [0, 1, 2]) {
      const episodes = [0, 1, 2, 3].flatMap((a) => c.node(i).memory(`a${a}`).list());
      const byTask = new Map<string, number>();
      for (const e of episodes) byTask.set(String(e.fields.taskId), (byTask.get(String(e.fields.taskId)) ?? 0) + 1);
      expect(byTask.size).toBe(n);
      for (const v of views) expect(byTask.get(v.id)).toBe(1);
    }
  });

  it('outcomes of runs that finish in the same instant as a submit share its quorum write', async () => {
    const c = await startCluster('tasks-batch-4');
    const gate = (): { wait: Promise<void>; open: () => void } => {
      let open!: () => void;
      const wait = new Promise<void>((res) => (open = res));
      return { wait, open };
    };
    const first = gate();
    const second = gate();
    c.node(0).defineAgent('first', async (input) => (await first.wait, input));
    c.node(0).defineAgent('second', async (input) => (await second.wait, input));
    const gated = await c.settle(Promise.all([1, 2, 3].map((k) => c.node(0).submit({ type: 'first', input: k, agent: `g${k}` }))), 30_000);
    expect(await c.runUntil(() => gated.every((v) => c.node(0).tasks.get(v.id).status === 'running'), 30_000)).toBe(true);
    const writes = countWrites(c, 0);
    // The three runs finish and a new task (which runs until `second` opens) arrives in the same instant.
    first.open();
    const next = await c.settle(c.node(0).submit({ type: 'second', input: 'x', agent: 'e' }), 30_000);
    expect(next.status).toBe('running');
    await c.runFor(2_000);
    // One write carried the three outcomes (and their episodes) and the new task with its assignment.
    expect(writes).toEqual({ acknowledged: 1 });
    for (const i of [0, 1, 2]) {
      for (const [k, v] of gated.entries()) {
        expect(c.node(i).tasks.get(v.id)).toMatchObject({ status: 'done', attempts: 1, result: k + 1 });
        // Each finished run left exactly one episode, on every replica.
        expect(c.node(i).memory(`g${k + 1}`).list().map((e) => e.fields.taskId)).toEqual([v.id]);
      }
    }
    second.open();
    expect(await c.runUntil(() => [0, 1, 2].every((i) => c.node(i).tasks.get(next.id).status === 'done'), 30_000)).toBe(true);
  });

  it('submits that arrive while a task write waits for its majority are held and share the next write', async () => {
    // Slow links: a write waits ~40 ms for its acknowledgements.
    const c = (cluster = new SimCluster({ seed: 'tasks-batch-5', nodes: 3, link: { latencyMs: 20, jitterMs: 0 } }));
    await c.start();
    const active = () => [0, 1, 2].every((i) => c.membersSeenBy(i).filter((m) => m.state === 'ACTIVE').length === 3);
    expect(await c.runUntil(() => c.allSeeAlive(3) && active(), 60_000)).toBe(true);
    const writes = countWrites(c, 0);
    const a = c.node(0).submit({ type: 'echo', input: 'a', agent: 'x' });
    await c.runFor(5);
    const b = c.node(0).submit({ type: 'echo', input: 'b', agent: 'y' });
    await c.runFor(5);
    const d = c.node(0).submit({ type: 'echo', input: 'd', agent: 'z' });
    const views = await c.settle(Promise.all([a, b, d]), 30_000);
    // a's write went at once; b and d, arriving at two other instants while it was in flight, went together after it.
    expect(writes).toEqual({ acknowledged: 2 });
    expect(await c.runUntil(() => [0, 1, 2].every((i) => views.every((v) => c.node(i).tasks.get(v.id).status === 'done')), 30_000)).toBe(true);
    await c.runFor(2_000);
    for (const i of [0, 1, 2]) {
      for (const [k, v] of views.entries()) expect(c.node(i).memory(['x', 'y', 'z'][k]!).list().map((e) => e.fields.taskId)).toEqual([v.id]);
    }
  });

  it('an id already taken is refused on its own; the rest of the batch is recorded', async () => {
    const c = await startCluster('tasks-batch-2');
    const mk = (input: number, id?: string) => c.node(0).submit({ type: 'echo', input, ...(id === undefined ? {} : { id }) }).then(
      (v) => ({ ok: true as const, v }),
      (err: Error) => ({ ok: false as const, err }),
    );
    const results = await c.settle(Promise.all([mk(1), mk(2, 'same'), mk(3, 'same'), mk(4)]), 30_000);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    const refused = results[2]!;
    expect(!refused.ok && refused.err).toBeInstanceOf(UsageError);
    // A task that is not even valid is refused before it joins a batch.
    await expect(c.node(0).submit({ type: '', input: 1 })).rejects.toBeInstanceOf(UsageError);
    expect(await c.runUntil(() => c.node(0).tasks.list().filter((t) => t.status === 'done').length === 3, 30_000)).toBe(true);
    expect(c.node(0).tasks.get('same').input).toBe(2);
  });

  it('on a read-only minority every submit of the batch fails with QuorumError and nothing is applied', async () => {
    const c = await startCluster('tasks-batch-3');
    c.partition([0], [1, 2]);
    expect(await c.runUntil(() => !c.node(0).gate.verdict().writable, 60_000)).toBe(true);
    const before = c.node(0).tasks.list().length;
    const results = await c.settle(
      Promise.all(Array.from({ length: 5 }, (_, k) => c.node(0).submit({ type: 'echo', input: k }).then(() => undefined, (err: Error) => err))),
      30_000,
    );
    for (const r of results) expect(r).toBeInstanceOf(QuorumError);
    expect(c.node(0).tasks.list()).toHaveLength(before);
  });
});
