import { describe, expect, it } from 'vitest';
import { TaskScheduler, type SchedulerEffect, type SchedulerMember } from '../../src/tasks/scheduler.js';
import { TaskTable } from '../../src/tasks/task-table.js';
import { seeded } from '../lib/seeded.js';

const m = (name: string, o: Partial<SchedulerMember> = {}): SchedulerMember => ({ name, state: 'ACTIVE', slots: 4, freeSlots: 4, rttMs: 5, ...o });
const runs = (effects: SchedulerEffect[]) => effects.filter((e): e is Extract<SchedulerEffect, { type: 'run' }> => e.type === 'run');

function setup(leaseMs = 1000) {
  const table = new TaskTable({ node: 'c', random: seeded(1) });
  const scheduler = new TaskScheduler({ self: 'c', leaseMs });
  return { table, scheduler, random: seeded(2) };
}

describe('task scheduler', () => {
  it('places queued tasks local-first and fills the local node only up to its free slots', () => {
    const { table, scheduler, random } = setup();
    const ids = Array.from({ length: 5 }, (_, i) => table.submit({ type: 'echo', input: i }, i));
    const { effects, wakeAt } = scheduler.tick(table, [m('c', { freeSlots: 2 }), m('far', { rttMs: 50 }), m('near', { rttMs: 1 })], 0, random);
    expect(runs(effects).map((e) => e.node)).toEqual(['c', 'c', 'near', 'near', 'near']);
    expect(runs(effects).map((e) => e.task.id)).toEqual(ids);
    expect(runs(effects)[0]).toMatchObject({ token: 1, leaseMs: 1000, attempt: 1, task: { type: 'echo', agent: 'echo', input: 0 } });
    expect(table.list().every((t) => t.status === 'running')).toBe(true);
    expect(wakeAt).toBe(1000);
    // a second tick with nothing new changes nothing
    expect(scheduler.tick(table, [m('c'), m('near')], 10, random).effects).toEqual([]);
  });

  it('a run that ended here but whose outcome is not recorded yet holds no slot for new placements', () => {
    const { table, scheduler, random } = setup();
    const members = [m('c', { slots: 2, freeSlots: 2 }), m('near', { rttMs: 1 })];
    const held = Array.from({ length: 2 }, (_, i) => table.submit({ type: 'echo', input: i }, i));
    expect(runs(scheduler.tick(table, members, 0, random).effects).map((e) => e.node)).toEqual(['c', 'c']);
    // Both runs finished here (the pool reports its slots free), their outcomes still wait for a write.
    const fresh = table.submit({ type: 'echo', input: 9 }, 9);
    expect(runs(scheduler.placeNewMany(table, [fresh], scheduler.prepare(table, members, 1), 1, random)).map((e) => e.node)).toEqual(['near']);
    const again = table.submit({ type: 'echo', input: 10 }, 10);
    const cands = scheduler.prepare(table, members, 1, new Set(held));
    expect(cands.find((c) => c.name === 'c')).toMatchObject({ freeSlots: 2, inFlight: 0 });
    expect(runs(scheduler.placeNewMany(table, [again], cands, 1, random)).map((e) => e.node)).toEqual(['c']);
  });

  it('reassigns at once when the holder is FAILED, with a new token, without revoking the dead', () => {
    const { table, scheduler, random } = setup();
    const id = table.submit({ type: 'echo', input: 'x' }, 0);
    scheduler.tick(table, [m('a'), m('b', { rttMs: 50 })], 0, random);
    expect(table.get(id)?.node).toBe('a');
    const { effects } = scheduler.tick(table, [m('a', { state: 'FAILED' }), m('b', { rttMs: 50 })], 10, random);
    expect(effects).toEqual([{ type: 'run', task: { id, type: 'echo', agent: 'echo', input: 'x' }, node: 'b', token: 2, leaseMs: 1000, attempt: 2 }]);
    expect(table.complete(id, { token: 1, holder: 'a' }, 'late', 20)).toMatchObject({ accepted: false, reason: 'stale-token' });
  });

  it('reassigns when the lease runs out and tells the old holder it was fenced off', () => {
    const { table, scheduler, random } = setup(500);
    const id = table.submit({ type: 'echo', input: 1, strategy: 'round-robin' }, 0);
    scheduler.tick(table, [m('a'), m('b')], 0, random);
    expect(scheduler.tick(table, [m('a'), m('b')], 499, random).effects).toEqual([]);
    const { effects } = scheduler.tick(table, [m('a'), m('b')], 500, random);
    expect(effects.map((e) => e.type).sort()).toEqual(['revoke', 'run']);
    expect(effects.find((e) => e.type === 'revoke')).toMatchObject({ id, node: 'a', token: 1 });
    expect(runs(effects)[0]).toMatchObject({ node: 'b', token: 2, attempt: 2 });
  });

  it('renewals keep a long task where it is', () => {
    const { table, scheduler, random } = setup(500);
    const id = table.submit({ type: 'sleep', input: { ms: 5000 } }, 0);
    scheduler.tick(table, [m('a')], 0, random);
    for (let t = 400; t <= 4000; t += 400) {
      expect(table.renew(id, { token: 1, holder: 'a' }, t)).toEqual({ accepted: true });
      expect(scheduler.tick(table, [m('a')], t + 50, random).effects).toEqual([]);
    }
  });

  it('after maxAttempts the task fails with the reason of the last loss', () => {
    const { table, scheduler, random } = setup(100);
    const id = table.submit({ type: 'echo', input: 1, maxAttempts: 2 }, 0);
    scheduler.tick(table, [m('a')], 0, random);
    scheduler.tick(table, [m('a')], 100, random); // lease out: attempt 2
    const { effects } = scheduler.tick(table, [m('a', { state: 'FAILED' })], 150, random);
    expect(effects).toEqual([{ type: 'failed', id, reason: 'gave up after 2 attempt(s): its node a is FAILED' }]);
    expect(table.get(id)).toMatchObject({ status: 'failed', attempts: 2, error: 'gave up after 2 attempt(s): its node a is FAILED' });
  });

  it('without capacity the task waits, queued, with the reason', () => {
    const { table, scheduler, random } = setup();
    const id = table.submit({ type: 'echo', input: 1 }, 0);
    const { effects } = scheduler.tick(table, [m('a', { freeSlots: 0 }), m('b', { state: 'JOINING' })], 0, random);
    expect(effects).toEqual([expect.objectContaining({ type: 'wait', id, reason: 'no-free-slots' })]);
    expect(table.get(id)?.status).toBe('queued');
  });

  it('does not trust stale gossip: in-flight tasks in the table count against reported free slots', () => {
    const { table, scheduler, random } = setup();
    for (let i = 0; i < 3; i++) table.submit({ type: 'echo', input: i }, i);
    scheduler.tick(table, [m('a', { slots: 2, freeSlots: 2 }), m('b', { rttMs: 90 })], 0, random);
    table.submit({ type: 'echo', input: 9 }, 9);
    // gossip still says a has 2 free, but the table shows 2 running there
    const { effects } = scheduler.tick(table, [m('a', { slots: 2, freeSlots: 2 }), m('b', { rttMs: 90 })], 1, random);
    expect(runs(effects).map((e) => e.node)).toEqual(['b']);
  });

  it('round-robin through the scheduler: 30 tasks over 3 members, 10 each', () => {
    const { table, scheduler, random } = setup();
    for (let i = 0; i < 30; i++) table.submit({ type: 'echo', input: i, strategy: 'round-robin' }, i);
    const members = ['n1', 'n2', 'n3'].map((n) => m(n, { slots: 16, freeSlots: 16 }));
    const { effects } = scheduler.tick(table, members, 0, random);
    const per = new Map<string, number>();
    for (const e of runs(effects)) per.set(e.node, (per.get(e.node) ?? 0) + 1);
    expect(Object.fromEntries(per)).toEqual({ n1: 10, n2: 10, n3: 10 });
  });
});

describe('task scheduler: lost tasks do not hold slots', () => {
  it('a task whose lease ran out on a one-slot member can go back to that member', () => {
    const { table, scheduler, random } = setup(500);
    const id = table.submit({ type: 'echo', input: 1 }, 0);
    scheduler.tick(table, [m('solo', { slots: 1, freeSlots: 1 })], 0, random); // the run RPC is lost
    const { effects } = scheduler.tick(table, [m('solo', { slots: 1, freeSlots: 1 })], 500, random);
    expect(effects).toEqual([expect.objectContaining({ type: 'run', node: 'solo', token: 2, task: expect.objectContaining({ id }) })]);
  });
});
