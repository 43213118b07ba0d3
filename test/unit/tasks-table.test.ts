import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NotFoundError, TriError, UsageError } from '../../src/errors.js';
import { TaskTable } from '../../src/tasks/task-table.js';
import { seeded } from '../lib/seeded.js';

const table = (node: string, seed = 1) => new TaskTable({ node, random: seeded(seed) });

/** Full two-way anti-entropy between two replicas. */
function sync(a: TaskTable, b: TaskTable): void {
  const toB = Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc));
  const toA = Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc));
  Y.applyUpdate(b.doc, toB, 'remote');
  Y.applyUpdate(a.doc, toA, 'remote');
}

describe('task table: one replica', () => {
  it('submit -> queued; assign -> running with token 1 and a lease; complete -> done', () => {
    const t = table('c1');
    const id = t.submit({ type: 'echo', input: { x: 1 } }, 1000);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(t.get(id)).toMatchObject({ id, type: 'echo', agent: 'echo', status: 'queued', node: null, attempts: 0, lease: null, result: null, submittedAt: 1000 });
    const token = t.assign(id, 'n1', 50, 1000);
    expect(token).toBe(1);
    expect(t.get(id)).toMatchObject({ status: 'running', node: 'n1', attempts: 1, lease: { holder: 'n1', token: 1, expiresAt: 1050 } });
    expect(t.complete(id, { token: 1, holder: 'n1' }, { x: 1 }, 2000)).toEqual({ accepted: true });
    expect(t.get(id)).toMatchObject({ status: 'done', node: 'n1', result: { x: 1 }, error: null, finishedAt: 2000, lease: null });
  });

  it('a duplicate report is recognised, a different one after the end is refused', () => {
    const t = table('c1');
    const id = t.submit({ type: 'echo', input: 1 }, 0);
    t.assign(id, 'n1', 0);
    t.complete(id, { token: 1, holder: 'n1' }, 'first', 1);
    expect(t.complete(id, { token: 1, holder: 'n1' }, 'again', 2)).toMatchObject({ accepted: false, reason: 'duplicate' });
    expect(t.fail(id, { token: 1, holder: 'n2' }, 'x', 2)).toMatchObject({ accepted: false, reason: 'finished' });
    expect(t.get(id)?.result).toBe('first');
    expect(t.state(id)?.outcomes).toHaveLength(1);
    expect(() => t.assign(id, 'n2', 5)).toThrow(TriError);
  });

  it("a stale token's result is refused; the current holder's is accepted", () => {
    const t = table('c1');
    const id = t.submit({ type: 'echo', input: 'hi' }, 0);
    expect(t.assign(id, 'n1', 0)).toBe(1);
    expect(t.assign(id, 'n2', 10)).toBe(2);
    expect(t.complete(id, { token: 1, holder: 'n1' }, 'late', 20)).toMatchObject({ accepted: false, reason: 'stale-token' });
    expect(t.renew(id, { token: 1, holder: 'n1' }, 20)).toMatchObject({ accepted: false, reason: 'stale-token' });
    expect(t.complete(id, { token: 2, holder: 'n1' }, 'imposter', 20)).toMatchObject({ accepted: false, reason: 'not-holder' });
    expect(t.complete(id, { token: 3, holder: 'n2' }, 'future', 20)).toMatchObject({ accepted: false, reason: 'unknown-token' });
    expect(t.complete(id, { token: 2, holder: 'n2' }, 'ok', 30)).toEqual({ accepted: true });
    expect(t.get(id)).toMatchObject({ status: 'done', node: 'n2', result: 'ok', attempts: 2 });
  });

  it('lease expiry makes the task eligible for reassignment; renewal pushes it out', () => {
    const t = table('c1');
    const id = t.submit({ type: 'sleep', input: { ms: 1 } }, 0);
    t.assign(id, 'n1', 100, 1000);
    expect(t.expired(1099)).toEqual([]);
    expect(t.nextExpiry(500)).toBe(1100);
    expect(t.renew(id, { token: 1, holder: 'n1' }, 900)).toEqual({ accepted: true });
    expect(t.expired(1100)).toEqual([]);
    expect(t.expired(1900)).toEqual([{ id, token: 1, holder: 'n1', expiresAt: 1900 }]);
    expect(t.assign(id, 'n2', 1900, 1000)).toBe(2);
    expect(t.expired(1900)).toEqual([]);
    expect(t.heldBy('n2')).toEqual([{ id, token: 2, holder: 'n2' }]);
    expect(t.heldBy('n1')).toEqual([]);
  });

  it('attempts count every hand-out; giveUp ends the task as failed with the reason', () => {
    const t = table('c1');
    const id = t.submit({ type: 'echo', input: null, maxAttempts: 2 }, 0);
    t.assign(id, 'n1', 0);
    t.assign(id, 'n2', 1);
    expect(t.get(id)?.attempts).toBe(2);
    expect(t.giveUp(id, 'gave up after 2 attempts', 5)).toEqual({ accepted: true });
    expect(t.get(id)).toMatchObject({ status: 'failed', error: 'gave up after 2 attempts', result: null, attempts: 2 });
    expect(t.complete(id, { token: 2, holder: 'n2' }, 'too late', 6)).toMatchObject({ accepted: false, reason: 'finished' });
  });

  it('an agent failure and a non-JSON result end the task failed with the reason', () => {
    const t = table('c1');
    const a = t.submit({ type: 'x', input: 1 }, 0);
    const b = t.submit({ type: 'x', input: 2 }, 0);
    t.assign(a, 'n1', 0);
    t.assign(b, 'n1', 0);
    t.fail(a, { token: 1, holder: 'n1' }, 'agent "x" failed: boom', 1);
    t.complete(b, { token: 1, holder: 'n1' }, { f: (() => 1) as unknown as number }, 1);
    expect(t.get(a)).toMatchObject({ status: 'failed', error: 'agent "x" failed: boom' });
    expect(t.get(b)?.status).toBe('failed');
    expect(t.get(b)?.error).toMatch(/not JSON/);
  });

  it('validates submissions and names unknown tasks', () => {
    const t = table('c1');
    expect(() => t.submit({ type: '', input: 1 }, 0)).toThrow(UsageError);
    expect(() => t.submit({ type: 'echo', input: undefined as never }, 0)).toThrow(/not JSON/);
    expect(() => t.submit({ type: 'echo', input: 1, strategy: 'fastest' as never }, 0)).toThrow(/local-first/);
    expect(() => t.submit({ type: 'echo', input: 1, maxAttempts: 0 }, 0)).toThrow(/maxAttempts/);
    t.submit({ id: 'fixed', type: 'echo', input: 1 }, 0);
    expect(() => t.submit({ id: 'fixed', type: 'echo', input: 1 }, 0)).toThrow(/already exists/);
    expect(() => t.assign('nope', 'n1', 0)).toThrow(NotFoundError);
    expect(t.complete('nope', { token: 1, holder: 'n1' }, 1, 0)).toMatchObject({ accepted: false, reason: 'unknown-task' });
    expect(t.get('nope')).toBeUndefined();
  });

  it('lists tasks oldest first and hides a malformed task from a non-conforming peer', () => {
    const t = table('c1');
    const b = t.submit({ type: 'echo', input: 'b' }, 20);
    const a = t.submit({ type: 'echo', input: 'a' }, 10);
    t.doc.getMap('tasks').set('junk', new Y.Map());
    expect(t.list().map((v) => v.id)).toEqual([a, b]);
  });

  it('a task is three Yjs items when submitted and assigned, one more when finished (flat layout)', () => {
    const t = table('c1');
    const items = (): number => {
      let n = 0;
      t.doc.store.clients.forEach((structs) => (n += structs.filter((s) => s instanceof Y.Item).length));
      return n;
    };
    const id = t.transact(() => {
      const id = t.submit({ type: 'echo', input: 1 }, 0);
      t.assign(id, 'n1', 0);
      return id;
    });
    expect(items()).toBe(3);
    t.complete(id, { token: 1, holder: 'n1' }, 1, 1);
    expect(items()).toBe(4);
  });

  it('reads and extends a task written in the older nested layout (a map per part)', () => {
    const t = table('c1');
    t.doc.transact(() => {
      const m = new Y.Map<unknown>();
      t.doc.getMap('tasks').set('old', m);
      m.set('spec', { id: 'old', type: 'echo', agent: 'echo', input: 7, strategy: 'local-first', maxAttempts: 3, submittedAt: 5, submittedBy: 'n9' });
      m.set('assignments', new Y.Map());
      m.set('renewals', new Y.Map());
      m.set('outcomes', new Y.Map());
    });
    expect(t.get('old')).toMatchObject({ status: 'queued', input: 7 });
    const token = t.assign('old', 'n1', 0);
    expect(t.renew('old', { token, holder: 'n1' }, 1).accepted).toBe(true);
    expect(t.complete('old', { token, holder: 'n1' }, 8, 2).accepted).toBe(true);
    expect(t.get('old')).toMatchObject({ status: 'done', result: 8, attempts: 1 });
    // Its parts went into its nested maps, not beside them.
    const m = t.doc.getMap<Y.Map<unknown>>('tasks').get('old')!;
    expect((m.get('assignments') as Y.Map<unknown>).size).toBe(1);
    expect((m.get('outcomes') as Y.Map<unknown>).size).toBe(1);
    expect([...m.keys()].sort()).toEqual(['assignments', 'outcomes', 'renewals', 'spec']);
  });
});

describe('task table: replicas merging', () => {
  it("a reassignment and the old holder's late result, recorded on two replicas concurrently -> one result on both", () => {
    const a = table('c1', 1);
    const b = table('c2', 2);
    const id = a.submit({ type: 'echo', input: 'v' }, 0);
    a.assign(id, 'n1', 0, 1000);
    sync(a, b);
    // Replica b thinks n1's lease ran out (b first saw it at 0) and hands the task to n2.
    expect(b.expired(0)).toEqual([]);
    expect(b.expired(1000).map((l) => l.id)).toEqual([id]);
    expect(b.assign(id, 'n2', 1000, 1000)).toBe(2);
    // Meanwhile on replica a, n1 (still current there) finishes; on b, n2 finishes too.
    expect(a.complete(id, { token: 1, holder: 'n1' }, 'from n1', 1100)).toEqual({ accepted: true });
    expect(b.complete(id, { token: 2, holder: 'n2' }, 'from n2', 1200)).toEqual({ accepted: true });
    sync(a, b);
    for (const r of [a, b]) {
      expect(r.get(id)).toMatchObject({ status: 'done', node: 'n1', result: 'from n1', attempts: 2 });
      expect(r.state(id)?.outcomes).toHaveLength(2); // both executions are on record...
    }
    expect(a.list()).toEqual(b.list()); // ...but exactly one result is visible, the same on both
    expect(a.complete(id, { token: 2, holder: 'n2' }, 'again', 1300)).toMatchObject({ accepted: false, reason: 'finished' });
  });

  it('two coordinators hand out the same token concurrently: the pair decides, both agree', () => {
    const a = table('c1', 3);
    const b = table('c2', 4);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    sync(a, b);
    expect(a.assign(id, 'n2', 0)).toBe(1);
    expect(b.assign(id, 'n1', 0)).toBe(1);
    expect(a.complete(id, { token: 1, holder: 'n2' }, 'by n2', 5)).toEqual({ accepted: true });
    sync(a, b);
    // Merged: (1, n1) is current (lower name); n2's recorded result still wins as the only one.
    expect(a.get(id)).toMatchObject({ status: 'done', result: 'by n2', attempts: 2 });
    expect(b.get(id)).toEqual(a.get(id));
    // A later report from n1 is refused on both replicas: the task is finished.
    expect(b.complete(id, { token: 1, holder: 'n1' }, 'by n1', 6)).toMatchObject({ accepted: false, reason: 'finished' });
  });

  it('same token on both replicas, both record results concurrently: the lower holder name wins on both', () => {
    const a = table('c1', 5);
    const b = table('c2', 6);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    sync(a, b);
    a.assign(id, 'zeta', 0);
    b.assign(id, 'alpha', 0);
    a.complete(id, { token: 1, holder: 'zeta' }, 'Z', 1);
    b.complete(id, { token: 1, holder: 'alpha' }, 'A', 1);
    sync(a, b);
    expect(a.get(id)?.result).toBe('A');
    expect(b.get(id)?.result).toBe('A');
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc));
  });

  it('after a merge the next token fences every token either replica handed out', () => {
    const a = table('c1', 7);
    const b = table('c2', 8);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    sync(a, b);
    a.assign(id, 'n1', 0);
    a.assign(id, 'n2', 0);
    b.assign(id, 'n3', 0);
    sync(a, b);
    expect(b.assign(id, 'n4', 0)).toBe(3);
    expect(b.complete(id, { token: 2, holder: 'n2' }, 'x', 1)).toMatchObject({ accepted: false, reason: 'stale-token' });
  });

  it('a remote lease is timed from when this replica first observed it (clocks are per node)', () => {
    const a = table('c1', 9);
    const b = table('c2', 10);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    a.assign(id, 'n1', 1_000_000, 500); // a's clock is far ahead of b's
    sync(a, b);
    expect(b.get(id)?.lease?.expiresAt).toBeNull(); // not observed yet
    expect(b.expired(20)).toEqual([]);
    expect(b.get(id)?.lease?.expiresAt).toBe(520);
    expect(b.expired(520).map((l) => l.holder)).toEqual(['n1']);
    // a renewal made on a restarts b's timer when b sees it
    a.renew(id, { token: 1, holder: 'n1' }, 1_000_400);
    sync(a, b);
    expect(b.expired(600)).toEqual([]);
    expect(b.expired(1100).map((l) => l.holder)).toEqual(['n1']);
  });
});
