// Group commit (the quorum-writes benchmark's write-path change): while a DurableDocSet holds,
// local and remote updates wait in memory and commit() stores them in one appendMany call (one
// transaction, one fsync); release() commits and turns holding off. MemoryService on a runtime
// with scheduler.immediate holds, and sends nothing (acks included) before the commit returned.
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { AppendEntry } from '../../src/storage/types.js';
import { procCpuSeconds } from '../../bench/quorum/load.js';

function countingStore(): { store: MemoryStore; batches: number[] } {
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1' });
  const batches: number[] = [];
  // Each call is one transaction (one fsync on SQLite): count single appends as batches of one.
  const appendMany = store.appendMany.bind(store);
  store.appendMany = (entries: readonly AppendEntry[]) => {
    batches.push(entries.length);
    return appendMany(entries);
  };
  const append = store.append.bind(store);
  store.append = (docId: string, update: Uint8Array) => {
    batches.push(1);
    return append(docId, update);
  };
  return { store, batches };
}

it('stores every update at once without holding', () => {
  const { store, batches } = countingStore();
  const docs = new DurableDocSet(store);
  docs.doc('a').getText('t').insert(0, 'x');
  docs.doc('b').getText('t').insert(0, 'y');
  expect(batches).toEqual([1, 1]);
  expect(docs.heldCount()).toBe(0);
});

it('holds local and remote updates until commit, then stores them in one batch', () => {
  const { store, batches } = countingStore();
  const docs = new DurableDocSet(store);
  docs.hold();
  docs.doc('a').getText('t').insert(0, 'local');
  const remote = new Y.Doc();
  remote.getMap('m').set('k', 'v');
  docs.apply('b', Y.encodeStateAsUpdate(remote), { remotePeer: 'p' });
  expect(batches).toEqual([]);
  expect(store.docStats('a').lastSeq).toBe(0);
  expect(docs.heldCount()).toBe(2);
  docs.commit();
  expect(batches).toEqual([2]);
  expect(docs.heldCount()).toBe(0);
  // Still holding after a commit; release() commits what is left and stops holding.
  docs.doc('a').getText('t').insert(0, 'more ');
  expect(docs.heldCount()).toBe(1);
  docs.release();
  docs.doc('a').getText('t').insert(0, 'after ');
  expect(batches).toEqual([2, 1, 1]);
  const again = new DurableDocSet(store);
  expect(again.doc('a').getText('t').toString()).toBe('after more local');
  expect(again.doc('b').getMap('m').get('k')).toBe('v');
});

it('reads a process CPU time from /proc (quorum-writes reports CPU per write)', () => {
  const cpu = procCpuSeconds(process.pid);
  if (process.platform === 'linux') expect(cpu).toBeGreaterThanOrEqual(0);
  expect(Number.isNaN(procCpuSeconds(undefined))).toBe(true);
});
