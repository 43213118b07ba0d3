// The task table keeps its open set and derived-state caches in step with every local and merged
// change: these cases read a replica's state (filling its caches) and then merge a change into it,
// which must show at once (a guard for any cheaper way of following changes).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TaskTable } from '../../src/tasks/task-table.js';
import { seeded } from '../lib/seeded.js';

const table = (node: string, seed: number) => new TaskTable({ node, random: seeded(seed) });

/** Everything `from` has that `to` lacks, applied as a peer's update. */
function merge(from: TaskTable, to: TaskTable): void {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)), 'remote');
}

describe('task table: caches follow merged transactions', () => {
  it('a merged submit opens the task; a merged assignment and outcome change a state already read', () => {
    const a = table('c1', 1);
    const b = table('c2', 2);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    merge(a, b);
    expect(b.counts()).toEqual({ queued: 1, running: 0, done: 0, failed: 0 });
    expect(b.get(id)?.status).toBe('queued'); // cached now
    const token = a.assign(id, 'n1', 0);
    merge(a, b);
    expect(b.get(id)).toMatchObject({ status: 'running', node: 'n1', attempts: 1 });
    expect(b.counts()).toEqual({ queued: 0, running: 1, done: 0, failed: 0 });
    a.complete(id, { token, holder: 'n1' }, 'ok', 1);
    merge(a, b);
    expect(b.get(id)).toMatchObject({ status: 'done', result: 'ok' });
    expect(b.counts()).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
    expect(b.mayHaveOpen()).toBe(false);
  });

  it('a change inside a nested part map of the older layout invalidates the state read before it', () => {
    const a = table('c1', 1);
    a.doc.transact(() => {
      const m = new Y.Map<unknown>();
      a.doc.getMap('tasks').set('old', m);
      m.set('spec', { id: 'old', type: 'echo', agent: 'echo', input: 7, strategy: 'local-first', maxAttempts: 3, submittedAt: 5, submittedBy: 'n9' });
      m.set('assignments', new Y.Map());
      m.set('renewals', new Y.Map());
      m.set('outcomes', new Y.Map());
    });
    const b = table('c2', 2);
    merge(a, b);
    expect(b.get('old')?.status).toBe('queued');
    a.assign('old', 'n3', 0);
    merge(a, b);
    expect(b.get('old')).toMatchObject({ status: 'running', node: 'n3' });
  });

  it('a task key deleted by a merge (trimmed on another replica) leaves the open set and the counts', () => {
    const a = table('c1', 1);
    const b = table('c2', 2);
    const id = a.submit({ type: 'echo', input: 1 }, 0);
    merge(a, b);
    expect(b.counts().queued).toBe(1);
    a.doc.transact(() => a.doc.getMap('tasks').delete(id));
    merge(a, b);
    expect(b.get(id)).toBeUndefined();
    expect(b.counts()).toEqual({ queued: 0, running: 0, done: 0, failed: 0 });
    expect(b.mayHaveOpen()).toBe(false);
  });

  it('the same explicit id submitted on two replicas at once: after merging both agree and count one task', () => {
    const a = table('c1', 1);
    const b = table('c2', 2);
    a.submit({ id: 'same', type: 'echo', input: 'from a' }, 0);
    b.submit({ id: 'same', type: 'echo', input: 'from b' }, 0);
    // Both read it before the merge (caches filled with their own version).
    expect(a.get('same')?.input).toBe('from a');
    expect(b.get('same')?.input).toBe('from b');
    merge(a, b);
    merge(b, a);
    expect(a.get('same')?.input).toBe(b.get('same')?.input);
    expect(a.counts()).toEqual({ queued: 1, running: 0, done: 0, failed: 0 });
    expect(b.counts()).toEqual({ queued: 1, running: 0, done: 0, failed: 0 });
  });

  it('a retention record key ("~...") never enters the open set', () => {
    const a = table('c1', 1);
    a.doc.transact(() => a.doc.getMap('tasks').set('~retired', new Y.Map()));
    expect(a.mayHaveOpen()).toBe(false);
    expect(a.list()).toEqual([]);
  });
});
