// SqliteStore.appendManyThenSync and WalSync: rows are written (readable, atomic) when the call
// returns, every callback comes once and in call order, batches committed while a sync runs
// share the next one, and the commits of other writes keep synchronous = FULL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { WalSync } from '../../src/storage/wal-sync.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tri-wal-sync-'));
  dirs.push(d);
  return d;
}

const update = (n: number): Uint8Array => {
  const d = new Y.Doc();
  d.getText('t').insert(0, `update ${n}`);
  return Y.encodeStateAsUpdate(d);
};

it('writes at once, calls back in order, and shares one fsync among the batches committed while one runs', async () => {
  const dir = tempDir();
  const store = SqliteStore.open({ dir, name: 'n1' });
  const order: number[] = [];
  const all: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    all.push(
      new Promise<void>((resolve, reject) => {
        const seqs = store.appendManyThenSync([{ docId: `d${i % 3}`, update: update(i) }], (err) => {
          if (err) reject(err);
          order.push(i);
          resolve();
        });
        expect(seqs).toHaveLength(1);
      }),
    );
    // Readable before any sync finished (the rows are in the write-ahead log).
    expect(store.loadDoc(`d${i % 3}`).length).toBeGreaterThan(0);
  }
  await Promise.all(all);
  expect(order).toEqual([...Array(20).keys()]);
  // The first batch starts a sync; the other 19 were committed while it ran and share the next.
  expect(store.walSyncs()).toBe(2);
  expect(store.settings().synchronous).toBe('FULL');
  store.close();
  const again = SqliteStore.open({ dir, name: 'n1' });
  expect(again.docIds().sort()).toEqual(['d0', 'd1', 'd2']);
  expect(again.docStats('d0').lastSeq + again.docStats('d1').lastSeq + again.docStats('d2').lastSeq).toBe(20);
  again.close();
});

it('a failed transaction throws and calls nothing; callbacks waiting at close get an error', async () => {
  const dir = tempDir();
  const store = SqliteStore.open({ dir, name: 'n1' });
  let called = 0;
  // A document id that is not a string fails the insert (the column is TEXT NOT NULL).
  expect(() => store.appendManyThenSync([{ docId: null as unknown as string, update: update(1) }], () => called++)).toThrow(/storage append failed/);
  await new Promise((r) => setTimeout(r, 20));
  expect(called).toBe(0);
  const errors: (Error | undefined)[] = [];
  store.appendManyThenSync([{ docId: 'a', update: update(2) }], (err) => errors.push(err));
  store.appendManyThenSync([{ docId: 'a', update: update(3) }], (err) => errors.push(err));
  store.close();
  expect(errors).toHaveLength(2);
  expect(errors.every((e) => e instanceof Error)).toBe(true);
});

it('WalSync fails the callbacks while there is no log file (nothing acknowledged), and syncs the log once it exists', async () => {
  const dir = tempDir();
  const wal = join(dir, 'x.db-wal');
  const s = new WalSync(wal);
  const first = await new Promise<Error | undefined>((resolve) => s.request(resolve));
  expect(first).toBeInstanceOf(Error);
  writeFileSync(wal, 'log');
  await new Promise<void>((resolve, reject) => s.request((err) => (err ? reject(err) : resolve())));
  expect(s.syncs).toBe(1);
  expect(s.waiting()).toBe(0);
  s.close();
  const late: (Error | undefined)[] = [];
  s.request((err) => late.push(err));
  expect(late[0]).toBeInstanceOf(Error);
});

it('WalSync: one failed fsync fails its callbacks, the waiting ones and every later one (a later good sync proves nothing)', async () => {
  const dir = tempDir();
  const wal = join(dir, 'x.db-wal');
  writeFileSync(wal, 'log');
  let calls = 0;
  let finish: ((err: NodeJS.ErrnoException | null) => void) | undefined;
  const s = new WalSync(wal, (_fd, cb) => {
    calls++;
    finish = cb;
  });
  const results: Array<Error | undefined> = [];
  s.request((err) => results.push(err));
  s.request((err) => results.push(err)); // waits for the next sync
  expect(calls).toBe(1);
  finish!(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
  expect(results).toHaveLength(2);
  expect(results.every((e) => e instanceof Error && /fsync of the write-ahead log .* failed/.test(e.message))).toBe(true);
  s.request((err) => results.push(err));
  expect(results[2]).toBeInstanceOf(Error);
  expect(calls).toBe(1); // no sync was even tried
  s.close();
});

it('DurableDocSet.commitThen: an empty commit still waits for the sync of an earlier batch', async () => {
  const dir = tempDir();
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store);
  docs.hold();
  docs.doc('a').getText('t').insert(0, 'x');
  const events: string[] = [];
  docs.commitThen((err) => events.push(err ? 'error' : 'first'));
  // Nothing held now, but the first batch is not yet on disk: the second callback comes after it.
  docs.commitThen((err) => events.push(err ? 'error' : 'second'));
  expect(events).toEqual([]);
  for (let i = 0; i < 500 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  expect(events).toEqual(['first', 'second']);
  // Nothing held and nothing waiting: at once.
  docs.commitThen(() => events.push('third'));
  expect(events).toEqual(['first', 'second', 'third']);
  store.close();
});
