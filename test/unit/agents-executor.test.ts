import { describe, expect, it } from 'vitest';
import { AgentExecutor, AgentRegistry, createAgentRegistry, SlotPool } from '../../src/agents/index.js';
import { SimWorld } from '../../src/sim/world.js';

describe('slot pool', () => {
  it('acquire/release tracks free slots and who occupies them', () => {
    const pool = new SlotPool(2);
    const seen: number[] = [];
    pool.onChange((f) => seen.push(f));
    const a = pool.tryAcquire({ taskId: 't1', agentId: 'x' })!;
    const b = pool.tryAcquire({ taskId: 't2', agentId: 'y' })!;
    expect(pool.tryAcquire({ taskId: 't3', agentId: 'z' })).toBeUndefined();
    expect(pool.freeSlots).toBe(0);
    expect(pool.snapshot()).toEqual([{ slot: 0, taskId: 't1', agentId: 'x' }, { slot: 1, taskId: 't2', agentId: 'y' }]);
    a.release();
    a.release(); // idempotent
    expect(pool.freeSlots).toBe(1);
    b.release();
    expect(seen).toEqual([1, 0, 1, 2]);
  });

  it('waiters are served first come, first served; an aborted waiter leaves the queue', async () => {
    const pool = new SlotPool(1);
    const held = pool.tryAcquire({ taskId: 't0', agentId: 'a' })!;
    const ac = new AbortController();
    const first = pool.acquire({ taskId: 't1', agentId: 'a' });
    const quitter = pool.acquire({ taskId: 't2', agentId: 'a' }, ac.signal);
    const third = pool.acquire({ taskId: 't3', agentId: 'a' });
    ac.abort(new Error('gave up'));
    await expect(quitter).rejects.toThrow('gave up');
    expect(pool.waiting).toBe(2);
    expect(pool.tryAcquire({ taskId: 'barger', agentId: 'a' })).toBeUndefined();
    held.release();
    const l1 = await first;
    expect(l1.taskId).toBe('t1');
    l1.release();
    expect((await third).taskId).toBe('t3');
  });
});

describe('agent executor', () => {
  it('runs tasks in slots and frees them afterwards, also when the agent throws', async () => {
    const registry = createAgentRegistry();
    registry.defineAgent('boom', () => {
      throw new Error('kaput');
    });
    const ex = new AgentExecutor({ node: 'n1', registry, slots: 2 });
    const outs = await Promise.all([
      ex.execute({ taskId: 'a', type: 'echo', agentId: 'echo', input: 1, token: 1 }),
      ex.execute({ taskId: 'b', type: 'boom', agentId: 'boom', input: 1, token: 1 }),
      ex.execute({ taskId: 'c', type: 'wordcount', agentId: 'wc', input: { text: 'a b' }, token: 1 }),
      ex.execute({ taskId: 'd', type: 'missing', agentId: 'm', input: 1, token: 1 }),
    ]);
    expect(outs.map((o) => o.ok)).toEqual([true, false, true, false]);
    expect(outs[1]).toMatchObject({ error: 'agent "boom" failed: kaput' });
    expect(outs[3]).toMatchObject({ error: expect.stringMatching(/unknown agent type "missing"/) });
    expect(ex.pool.freeSlots).toBe(2);
    expect(ex.active()).toEqual([]);
  });

  it('never runs more agents at once than there are slots', async () => {
    const registry = new AgentRegistry();
    let now = 0;
    let peak = 0;
    registry.defineAgent('work', async () => {
      peak = Math.max(peak, ++now);
      await new Promise((r) => setTimeout(r, 5));
      now--;
      return null;
    });
    const ex = new AgentExecutor({ node: 'n1', registry, slots: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => ex.execute({ taskId: `t${i}`, type: 'work', agentId: 'w', input: null })));
    expect(peak).toBe(3);
  });

  it('abort, a newer token, a timeout and stop all end a run with the reason', async () => {
    const ex = new AgentExecutor({ node: 'n1', registry: createAgentRegistry(), slots: 4 });
    const revoked = ex.execute({ taskId: 'r', type: 'sleep', agentId: 's', input: { ms: 60_000 }, token: 1 });
    const superseded = ex.execute({ taskId: 's', type: 'sleep', agentId: 's', input: { ms: 60_000 }, token: 1 });
    const timedOut = ex.execute({ taskId: 't', type: 'sleep', agentId: 's', input: { ms: 60_000 }, timeoutMs: 10 });
    expect(ex.abort('r', 'revoked: token 2 took over', 7)).toBe(false); // wrong token: untouched
    expect(ex.abort('r', 'revoked: token 2 took over', 1)).toBe(true);
    const newer = ex.execute({ taskId: 's', type: 'echo', agentId: 's', input: 'v2', token: 2 });
    expect(await revoked).toMatchObject({ ok: false, error: expect.stringMatching(/revoked: token 2 took over/) });
    expect(await superseded).toMatchObject({ ok: false, error: expect.stringMatching(/superseded by token 2/) });
    expect(await newer).toMatchObject({ ok: true, result: 'v2' });
    expect(await timedOut).toMatchObject({ ok: false, error: expect.stringMatching(/timed out after 10 ms/) });
    const last = ex.execute({ taskId: 'u', type: 'sleep', agentId: 's', input: { ms: 60_000 } });
    ex.stop();
    expect(await last).toMatchObject({ ok: false, error: expect.stringMatching(/stopping/) });
    expect(await ex.execute({ taskId: 'v', type: 'echo', agentId: 'e', input: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/reassigned/) });
    expect(ex.pool.freeSlots).toBe(4);
  });

  it('the same (task, token) asked twice shares one run', async () => {
    const registry = new AgentRegistry();
    let calls = 0;
    registry.defineAgent('count', async () => ++calls);
    const ex = new AgentExecutor({ node: 'n1', registry, slots: 1 });
    const [a, b] = await Promise.all([
      ex.execute({ taskId: 'x', type: 'count', agentId: 'c', input: null, token: 5 }),
      ex.execute({ taskId: 'x', type: 'count', agentId: 'c', input: null, token: 5 }),
    ]);
    expect(a).toEqual(b);
    expect(calls).toBe(1);
  });

  it('runs on the injected clock: durations, sleep and timeouts in virtual time', async () => {
    const world = new SimWorld({ startMs: 1_000 });
    const registry = createAgentRegistry();
    registry.defineAgent('nap-twice', async (_input, ctx) => {
      await ctx.sleep!(40);
      await ctx.sleep!(2);
      return 'rested';
    });
    const ex = new AgentExecutor({ node: 'n1', registry, slots: 4, runtime: { clock: world, scheduler: world } });
    const slept = ex.execute({ taskId: 'a', type: 'sleep', agentId: 's', input: { ms: 250 } });
    const napped = ex.execute({ taskId: 'b', type: 'nap-twice', agentId: 's', input: null });
    const timedOut = ex.execute({ taskId: 'c', type: 'sleep', agentId: 's', input: { ms: 60_000 }, timeoutMs: 75 });
    const echoed = ex.execute({ taskId: 'd', type: 'echo', agentId: 's', input: 1 });
    // Nothing but the world's clock moves them: a real 60 s sleep would time this test out.
    await world.runFor(100);
    let sleptDone = false;
    void slept.then(() => (sleptDone = true));
    await world.runFor(0);
    expect(sleptDone).toBe(false);
    expect(await napped).toEqual({ ok: true, result: 'rested', durationMs: 42 });
    expect(await timedOut).toEqual({ ok: false, error: expect.stringMatching(/timed out after 75 ms/), durationMs: 75 });
    expect(await echoed).toEqual({ ok: true, result: 1, durationMs: 0 });
    await world.runFor(200);
    expect(await slept).toEqual({ ok: true, result: { sleptMs: 250 }, durationMs: 250 });
    expect(ex.pool.freeSlots).toBe(4);
  });
});
