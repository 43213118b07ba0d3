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

it('compacts from the live document (no log merge), pending structs and held batches included', () => {
  for (const held of [false, true]) {
    const store = new MemoryStore({ nodeId: 'n1', name: 'n1', compaction: { minLogBytes: 0 } });
    const docs = new DurableDocSet(store);
    if (held) docs.hold();
    const src = new Y.Doc({ gc: true });
    const ups: Uint8Array[] = [];
    src.on('update', (u: Uint8Array) => ups.push(u));
    for (let i = 0; i < 30; i++) src.getArray<number>('a').push([i]);
    src.getArray('a').delete(0, 10);
    // Everything but the first update: the rest stays pending on missing dependencies.
    for (const u of ups.slice(1)) docs.apply('d', u, { remotePeer: 'p' });
    docs.doc('d').getText('t').insert(0, 'local');
    if (held) docs.commit();
    // The live document's encoding stands in for merging the log (GC'd: smaller than the merge).
    const merged = Y.mergeUpdates(store.loadDoc('d'));
    store.compact('d'); // (or already compacted by the last append)
    expect(store.docStats('d').logEntries).toBe(0);
    expect(store.docStats('d').snapshotBytes).toBe(Y.encodeStateAsUpdate(docs.doc('d')).byteLength);
    expect(store.docStats('d').snapshotBytes).toBeLessThanOrEqual(merged.byteLength);
    // The snapshot holds the pending structs: the missing update completes the reloaded doc.
    const again = new DurableDocSet(store);
    again.apply('d', ups[0]!, { remotePeer: 'p' });
    expect(again.doc('d').getArray('a').toArray()).toEqual(src.getArray('a').toArray());
    expect(again.doc('d').getText('t').toString()).toBe('local');
  }
});

it('a local write made by an observer while a remote update applies is stored and reported too', () => {
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1' });
  const docs = new DurableDocSet(store);
  const seen: Array<{ origin: unknown; bytes: number }> = [];
  docs.onLocalUpdate((_id, update, origin) => seen.push({ origin, bytes: update.byteLength }));
  const m = docs.doc('d').getMap<string>('m');
  m.observe((e) => {
    if (!e.transaction.local && !m.has('echo')) m.set('echo', 'seen ' + String(m.get('k')));
  });
  const remote = new Y.Doc();
  remote.getMap('m').set('k', 'v');
  const update = Y.encodeStateAsUpdate(remote);
  const origin = { remotePeer: 'p' };
  docs.apply('d', update, origin);
  expect(seen.map((s) => s.origin)).toEqual([origin, null]);
  expect(seen[0]!.bytes).toBe(update.byteLength); // the remote update as received
  const again = new DurableDocSet(store);
  expect(again.doc('d').getMap('m').get('echo')).toBe('seen v');
});
