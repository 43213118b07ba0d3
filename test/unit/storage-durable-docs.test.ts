// DurableDocSet: local writes and remote updates reach the store before the call returns, a
// reopened set has the same content, and an acknowledged update that is still pending
// (dependencies missing) survives a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('stores local and remote updates and reloads them', () => {
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1', compaction: { minLogBytes: 0 } });
  const docs = new DurableDocSet(store);
  docs.doc('a').getText('t').insert(0, 'local');
  const remote = new Y.Doc();
  remote.getMap('m').set('k', 'remote');
  docs.apply('a', Y.encodeStateAsUpdate(remote), { remotePeer: 'p' });
  const before = docs.digest('a').slice();
  // Re-applying a duplicate does not grow the log.
  const seq = store.docStats('a').lastSeq;
  docs.apply('a', Y.encodeStateAsUpdate(remote), { remotePeer: 'p' });
  expect(store.docStats('a').lastSeq).toBe(seq);

  const again = new DurableDocSet(store);
  expect(again.digest('a')).toEqual(before);
  expect(again.doc('a').getText('t').toString()).toBe('local');
  expect(again.doc('a').getMap('m').get('k')).toBe('remote');
  // Loading did not append anything.
  expect(store.docStats('a').lastSeq).toBe(seq);
});

it('keeps an acknowledged pending update across a restart (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-durable-'));
  dirs.push(dir);
  const src = new Y.Doc();
  const updates: Uint8Array[] = [];
  src.on('update', (u: Uint8Array) => updates.push(u));
  src.getText('t').insert(0, 'first ');
  src.getText('t').insert(6, 'second');

  let store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store);
  expect(docs.apply('x', updates[1]!, { remotePeer: 'p' })).toEqual({ pending: true });
  store.close(); // crash after the ack

  store = SqliteStore.open({ dir, name: 'n1' });
  const reopened = new DurableDocSet(store);
  expect(reopened.doc('x').store.pendingStructs).not.toBeNull();
  expect(reopened.apply('x', updates[0]!, { remotePeer: 'p' })).toEqual({ pending: false });
  expect(reopened.doc('x').getText('t').toString()).toBe('first second');
  store.close();
});
