// The group commit's fsync off the event loop: WalSync's bookkeeping with a controllable
// fdatasync (which write each sync covers, coalescing, failures, close), and SqliteStore's
// appendManyUnsynced + syncAppends on a real file (settings back to FULL, content reloads,
// and the fsync completes on the thread pool, not in the call).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { WalSync, type Fdatasync } from '../../src/storage/wal-sync.js';
import * as Y from 'yjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tri-walsync-'));
  dirs.push(d);
  return d;
}

/** An fdatasync whose completions the test releases one at a time. */
function manualSync(): { fsync: Fdatasync; calls: () => number; finish: (err?: Error) => void } {
  const pending: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  let calls = 0;
  return {
    fsync: (_fd, cb) => {
      calls++;
      pending.push(cb);
    },
    calls: () => calls,
    finish: (err) => pending.shift()!(err ? Object.assign(err, { code: 'EIO' }) : null),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WalSync', () => {
  function setup(): { w: WalSync; m: ReturnType<typeof manualSync> } {
    const file = join(tempDir(), 'log');
    writeFileSync(file, 'x');
    const m = manualSync();
    return { w: new WalSync(file, m.fsync), m };
  }

  it('resolves at once when nothing was written since the last sync', async () => {
    const { w, m } = setup();
    await w.sync();
    expect(m.calls()).toBe(0);
  });

  it('a sync covers only what was written before it started; callers meanwhile share the next one', async () => {
    const { w, m } = setup();
    const done: string[] = [];
    w.wrote();
    const first = w.sync().then(() => done.push('first'));
    w.wrote(); // written while the first fdatasync runs: not covered by it
    const second = w.sync().then(() => done.push('second'));
    w.wrote();
    const third = w.sync().then(() => done.push('third'));
    expect(m.calls()).toBe(1);
    m.finish();
    await first;
    await tick();
    expect(done).toEqual(['first']);
    // One more fdatasync serves both later callers.
    expect(m.calls()).toBe(2);
    m.finish();
    await Promise.all([second, third]);
    expect(done).toEqual(['first', 'second', 'third']);
    expect(w.unsynced).toBe(0);
  });

  it('a failed fdatasync rejects exactly the callers it covered; later ones get a new attempt', async () => {
    const { w, m } = setup();
    w.wrote();
    const covered = w.sync();
    w.wrote();
    const later = w.sync();
    m.finish(new Error('I/O error'));
    await expect(covered).rejects.toThrow(/fdatasync .* failed: I\/O error/);
    m.finish();
    await expect(later).resolves.toBeUndefined();
  });

  it('a commit with synchronous = FULL counts as a sync of everything before it', async () => {
    const { w, m } = setup();
    w.wrote();
    w.syncedAll();
    await w.sync();
    expect(m.calls()).toBe(0);
  });

  it('closing rejects callers still waiting, and refuses new ones', async () => {
    const { w, m } = setup();
    w.wrote();
    const running = w.sync();
    w.wrote();
    const queued = w.sync();
    w.close();
    m.finish();
    await expect(running).resolves.toBeUndefined();
    await expect(queued).rejects.toThrow(/closed/);
    w.wrote();
    await expect(w.sync()).rejects.toThrow(/closed/);
  });
});

describe('SqliteStore.appendManyUnsynced', () => {
  it('writes now, syncs off the event loop, keeps synchronous = FULL for everything else, and reloads', async () => {
    const dir = tempDir();
    const store = SqliteStore.open({ dir, name: 'a' });
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 20; i++) doc.getMap('m').set(`k${i}`, i);
    const seqs = store.appendManyUnsynced(updates.map((update) => ({ docId: 'doc/a', update })));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(store.settings().synchronous).toBe('FULL');
    // The fsync runs on the thread pool: the promise is still pending after this turn's microtasks.
    let synced = false;
    const onDisk = store.syncAppends().then(() => (synced = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(synced).toBe(false);
    await onDisk;
    expect(synced).toBe(true);
    store.close();
    const again = SqliteStore.open({ dir, name: 'a' });
    try {
      const copy = new Y.Doc();
      for (const u of again.loadDoc('doc/a')) Y.applyUpdate(copy, u);
      expect(copy.getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON());
    } finally {
      again.close();
    }
  });

  it('DurableDocSet.commitAsync stores what was held; with nothing held it still waits for the earlier sync', async () => {
    const store = SqliteStore.open({ dir: tempDir(), name: 'a' });
    try {
      const docs = new DurableDocSet(store);
      docs.hold();
      docs.doc('doc/b').getText('t').insert(0, 'hello');
      expect(docs.heldCount()).toBe(1);
      const first = docs.commitAsync()!;
      expect(first).toBeInstanceOf(Promise);
      expect(docs.heldCount()).toBe(0);
      const second = docs.commitAsync()!; // nothing held: resolves with (not before) the first batch's sync
      let firstDone = false;
      void first.then(() => (firstDone = true));
      await second;
      expect(firstDone).toBe(true);
      expect(store.docStats('doc/b').logEntries).toBe(1);
    } finally {
      store.close();
    }
  });
});
