// SqliteStore.appendManyThenSync and WalSync: rows are written (readable, atomic) when the call
// returns, every callback comes once and in call order, a batch committed while one sync runs
// starts its own at once (up to DEFAULT_SYNC_OVERLAP), batches committed while that many run
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

it('writes at once, calls back in order, and shares one fsync among the batches committed while the overlapping ones run', async () => {
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
  // The first batch starts a sync, the second another beside it (DEFAULT_SYNC_OVERLAP = 2); the
  // other 18 were committed while both ran and share the next.
  expect(store.walSyncs()).toBe(3);
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
  s.request((err) => results.push(err)); // a second sync beside the first
  s.request((err) => results.push(err)); // waits for the next sync
  expect(calls).toBe(2);
  finish!(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })); // the second fails: all three fail
  expect(results).toHaveLength(3);
  expect(results.every((e) => e instanceof Error && /fsync of the write-ahead log .* failed/.test(e.message))).toBe(true);
  s.request((err) => results.push(err));
  expect(results[3]).toBeInstanceOf(Error);
  expect(calls).toBe(2); // no sync was even tried
  s.close();
});

it('WalSync: a request made while a sync runs starts its own at once, and the first to return settles every round before it, in order', () => {
  const dir = tempDir();
  const wal = join(dir, 'x.db-wal');
  writeFileSync(wal, 'log');
  const finish: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  const s = new WalSync(wal, (_fd, cb) => void finish.push(cb));
  const order: string[] = [];
  s.request((err) => order.push(err ? 'a failed' : 'a'));
  // Its frames were written after sync 1 began: sync 1 does not cover them, so a second starts now
  // (one at a time, it waited for sync 1 to return and then for a whole sync 2).
  s.request((err) => order.push(err ? 'b failed' : 'b'));
  expect(finish).toHaveLength(2);
  // Both running: the next waits and shares one sync with any others.
  s.request((err) => order.push(err ? 'c failed' : 'c'));
  s.request((err) => order.push(err ? 'd failed' : 'd'));
  expect(finish).toHaveLength(2);
  // Sync 2 returns first: it began after a's frames were written, so it covers a too.
  finish[1]!(null);
  expect(order).toEqual(['a', 'b']);
  expect(finish).toHaveLength(3); // c and d share the third
  expect(s.idle()).toBe(false);
  finish[0]!(null); // sync 1's late return settles nothing twice
  expect(order).toEqual(['a', 'b']);
  finish[2]!(null);
  expect(order).toEqual(['a', 'b', 'c', 'd']);
  expect(s.idle()).toBe(true);
  expect(s.syncs).toBe(3);
  s.close();
});

it('WalSync with overlap 1 syncs one at a time (the rule before overlapping syncs)', () => {
  const dir = tempDir();
  const wal = join(dir, 'x.db-wal');
  writeFileSync(wal, 'log');
  const finish: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  const s = new WalSync(wal, (_fd, cb) => void finish.push(cb), 1);
  const order: string[] = [];
  s.request(() => order.push('a'));
  s.request(() => order.push('b'));
  expect(finish).toHaveLength(1);
  finish[0]!(null);
  expect(order).toEqual(['a']);
  expect(finish).toHaveLength(2);
  finish[1]!(null);
  expect(order).toEqual(['a', 'b']);
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
