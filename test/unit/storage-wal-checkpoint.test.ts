// The write-ahead log's checkpoint with the database file's fsync off the event loop
// (wal-checkpoint.ts): batches that arrive meanwhile wait in memory and commit only after that
// sync; reads and other writes settle first; a failed sync fails what waits and everything later;
// the log stays bounded; a reopened store holds every acknowledged row.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { WalCheckpointer, type CheckpointHost } from '../../src/storage/wal-checkpoint.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import type { AppendEntry } from '../../src/storage/types.js';
import type { SyncDone } from '../../src/storage/wal-sync.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tri-wal-ckpt-'));
  dirs.push(d);
  return d;
}
const row = (doc: string, n: number): AppendEntry => ({ docId: doc, update: new Uint8Array([n & 255, 1, 2, 3]) });

/** A host that records what happens, with a log sync the test finishes by hand. */
function fakeHost(): CheckpointHost & { events: string[]; logBusy: boolean; pendingLog: SyncDone[]; finishLog: (err?: Error) => void } {
  const h = {
    events: [] as string[],
    logBusy: false,
    pendingLog: [] as SyncDone[],
    logSynced: () => !h.logBusy,
    checkpointNoSync: () => void h.events.push('checkpoint'),
    commitNow: (entries: readonly AppendEntry[], synced: SyncDone) => {
      h.events.push(`commit ${entries.map((e) => e.update[0]).join(',')}`);
      h.logBusy = true;
      h.pendingLog.push(synced);
    },
    finishLog: (err?: Error) => {
      const cbs = h.pendingLog.splice(0);
      h.logBusy = false;
      for (const cb of cbs) cb(err);
    },
  };
  return h;
}

it('waits for the log sync, checkpoints, holds new batches until the database file is synced, then commits them as one', () => {
  const host = fakeHost();
  const dbSyncs: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  const dir = tempDir();
  SqliteStore.open({ dir, name: 'x' }).close(); // a database file to open
  const c = new WalCheckpointer(host, join(dir, 'node.db'), { commits: 2, bytes: 1e9 }, (_fd, cb) => dbSyncs.push(cb), () => {
    throw new Error('no blocking sync expected');
  });
  const acked: string[] = [];
  c.commit([row('a', 1)], () => acked.push('1'));
  c.counted(4);
  c.poke();
  c.commit([row('a', 2)], () => acked.push('2'));
  expect(c.counted(4)).toBe(true);
  c.poke(); // due, but the log's sync runs: draining
  expect(c.holding()).toBe(true);
  c.commit([row('a', 3)], () => acked.push('3'));
  c.commit([row('b', 4)], () => acked.push('4'));
  expect(host.events).toEqual(['commit 1', 'commit 2']);
  host.finishLog();
  c.poke(); // the log is on disk now: checkpoint, then the database file's sync
  expect(acked).toEqual(['1', '2']);
  expect(host.events).toEqual(['commit 1', 'commit 2', 'checkpoint']);
  expect(dbSyncs).toHaveLength(1);
  expect(c.checkpoints).toBe(1);
  // Still nothing of 3 and 4 committed: the log must not be rewritten before the file is synced.
  c.poke();
  expect(host.events).toHaveLength(3);
  dbSyncs[0]!(null);
  expect(host.events).toEqual(['commit 1', 'commit 2', 'checkpoint', 'commit 3,4']);
  expect(c.holding()).toBe(false);
  host.finishLog();
  expect(acked).toEqual(['1', '2', '3', '4']);
  c.close();
  c.releaseFile();
});

it('a failed database-file sync fails the waiting batches and every later one; settle() throws it', async () => {
  const host = fakeHost();
  const dir = tempDir();
  SqliteStore.open({ dir, name: 'x' }).close();
  let finish: ((err: NodeJS.ErrnoException | null) => void) | undefined;
  const c = new WalCheckpointer(host, join(dir, 'node.db'), { commits: 1, bytes: 1e9 }, (_fd, cb) => (finish = cb));
  c.counted(1);
  c.poke(); // log idle: checkpoint at once
  const results: Array<Error | undefined> = [];
  c.commit([row('a', 1)], (err) => results.push(err));
  finish!(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
  expect(results).toHaveLength(1);
  expect(results[0]?.message).toMatch(/checkpoint of .* failed \(EIO/);
  c.commit([row('a', 2)], (err) => results.push(err));
  await new Promise((r) => setTimeout(r, 5));
  expect(results).toHaveLength(2);
  expect(results[1]).toBeInstanceOf(Error);
  expect(host.events).toEqual(['checkpoint']); // nothing was committed over the unsynced file
  expect(() => c.settle()).toThrow(/checkpoint of .* failed/);
  c.releaseFile();
});

it('a failed log sync while batches wait for the checkpoint fails them (none waits forever)', () => {
  const host = fakeHost();
  const c = new WalCheckpointer(host, '/nonexistent/node.db', { commits: 1, bytes: 1e9 });
  c.commit([row('a', 1)], () => undefined);
  c.counted(4);
  c.poke(); // draining: the log's sync runs
  const results: Array<Error | undefined> = [];
  c.commit([row('a', 2)], (err) => results.push(err));
  host.finishLog(new Error('EIO'));
  c.poke(new Error('EIO'));
  expect(results).toHaveLength(1);
  expect(results[0]).toBeInstanceOf(Error);
});

it('SqliteStore: checkpoints keep the log bounded, reads during one see every row, and a reopened store has them all', async () => {
  const dir = tempDir();
  const store = SqliteStore.open({ dir, name: 'n1', checkpoint: { commits: 8, bytes: 1e9 }, compaction: { minLogBytes: 1e12 } });
  // Every checkpoint must find the whole log synced and no batch committed over it meanwhile.
  const internals = store as unknown as { checkpointNoSync: () => void; walSync: { idle: () => boolean } };
  const copy = internals.checkpointNoSync.bind(store);
  const logSyncedAtCopy: boolean[] = [];
  internals.checkpointNoSync = () => {
    logSyncedAtCopy.push(internals.walSync.idle());
    copy();
    logSyncedAtCopy.push(internals.walSync.idle());
  };
  let acked = 0;
  let failed = 0;
  const waits: Promise<void>[] = [];
  for (let turn = 0; turn < 300; turn++) {
    waits.push(
      new Promise<void>((resolve) =>
        store.appendManyThenSync([row(`d${turn % 4}`, turn), row(`d${(turn + 1) % 4}`, turn)], (err) => {
          if (err) failed++;
          else acked++;
          resolve();
        }),
      ),
    );
    // A read at any point sees every row appended so far (it settles a checkpoint under way).
    if (turn % 37 === 0) expect(store.loadDoc(`d${turn % 4}`).length).toBeGreaterThan(0);
    // Now and then the writer waits for its acknowledgements (as a sequential client does), so
    // the log's sync catches up and checkpoints come one after another.
    if (turn % 3 === 0) await new Promise((r) => setImmediate(r));
    if (turn % 10 === 9) await Promise.all(waits);
  }
  await Promise.all(waits);
  expect(failed).toBe(0);
  expect(acked).toBe(300);
  // Every few commits (policy: 8), each through the off-loop path.
  expect(store.checkpoints()).toBeGreaterThan(10);
  expect(logSyncedAtCopy.length).toBe(2 * store.checkpoints());
  expect(logSyncedAtCopy.every((idle) => idle)).toBe(true);
  const wal = join(dir, 'node.db-wal');
  // 600 rows in 300 commits: without checkpoints the log would hold several hundred pages.
  expect(existsSync(wal) ? statSync(wal).size : 0).toBeLessThan(200 * 4096);
  const total = [0, 1, 2, 3].reduce((a, i) => a + store.docStats(`d${i}`).lastSeq, 0);
  expect(total).toBe(600);
  store.close();
  const again = SqliteStore.open({ dir, name: 'n1', compaction: { minLogBytes: 1e12 } });
  expect([0, 1, 2, 3].reduce((a, i) => a + again.docStats(`d${i}`).lastSeq, 0)).toBe(600);
  expect(again.loadDoc('d0')).toHaveLength(150);
  again.close();
});

it('SqliteStore: writes under FULL (no group commit) still checkpoint, inline, so the log stays bounded', () => {
  const dir = tempDir();
  const store = SqliteStore.open({ dir, name: 'n1', checkpoint: { commits: 8, bytes: 1e9 }, compaction: { minLogBytes: 1e12 } });
  const big = new Uint8Array(3000).fill(9);
  for (let i = 0; i < 200; i++) store.appendMany([{ docId: `d${i % 4}`, update: big }]);
  // 200 commits of a page or two each: without a checkpoint the log would pass 1 MB.
  expect(statSync(join(dir, 'node.db-wal')).size).toBeLessThan(256 * 1024);
  expect(store.checkpoints()).toBe(0); // none of them the off-loop kind
  store.close();
  const again = SqliteStore.open({ dir, name: 'n1', compaction: { minLogBytes: 1e12 } });
  expect([0, 1, 2, 3].reduce((a, i) => a + again.docStats(`d${i}`).lastSeq, 0)).toBe(200);
  again.close();
});
