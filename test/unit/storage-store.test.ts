// NodeStore contract, run against both implementations: append/load round trip, sequence
// numbers, compaction that keeps content identical, identity/incarnation and the key-value space.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import Database from 'better-sqlite3';
import { DB_FILE } from '../../src/storage/sqlite-schema.js';
import { StorageError } from '../../src/errors.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import type { CompactionPolicy, NodeStore } from '../../src/storage/types.js';

const dirs: string[] = [];
const stores: NodeStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tri-store-'));
  dirs.push(d);
  return d;
}

const impls: Array<[string, (c?: CompactionPolicy) => NodeStore]> = [
  ['MemoryStore', (c) => track(new MemoryStore({ nodeId: 'n-1', name: 'a', compaction: c }))],
  ['SqliteStore', (c) => track(SqliteStore.open({ dir: tempDir(), name: 'a', compaction: c }))],
];
function track<T extends NodeStore>(s: T): T {
  stores.push(s);
  return s;
}

/** Captures each update a doc emits while `edit` runs. */
function updatesOf(doc: Y.Doc, edit: () => void): Uint8Array[] {
  const out: Uint8Array[] = [];
  const h = (u: Uint8Array) => out.push(u);
  doc.on('update', h);
  edit();
  doc.off('update', h);
  return out;
}

function rebuild(parts: Uint8Array[]): Y.Doc {
  const d = new Y.Doc();
  for (const p of parts) Y.applyUpdate(d, p);
  return d;
}

describe.each(impls)('%s', (_name, make) => {
  it('round-trips appended updates with per-document sequence numbers', () => {
    const s = make();
    const doc = new Y.Doc();
    const ups = updatesOf(doc, () => {
      for (let i = 0; i < 5; i++) doc.getArray('a').push([i]);
    });
    expect(ups.map((u) => s.append('d1', u))).toEqual([1, 2, 3, 4, 5]);
    expect(s.appendMany([{ docId: 'd2', update: ups[0]! }, { docId: 'd1', update: ups[0]! }])).toEqual([1, 6]);
    expect(s.docIds()).toEqual(['d1', 'd2']);
    const back = rebuild(s.loadDoc('d1'));
    expect(back.getArray('a').toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(s.loadDoc('nope')).toEqual([]);
  });

  it('compaction keeps the content identical and trims the log', () => {
    const s = make({ minLogBytes: 0 });
    const doc = new Y.Doc();
    const ups = updatesOf(doc, () => {
      for (let i = 0; i < 50; i++) doc.getText('t').insert(0, `line ${i}\n`);
      doc.getText('t').delete(0, 20);
      doc.getMap('m').set('k', 'v');
    });
    for (const u of ups) s.append('d', u);
    const stats = s.docStats('d');
    // Auto-compaction ran: the log never holds more bytes than the snapshot.
    expect(stats.logBytes).toBeLessThanOrEqual(Math.max(stats.snapshotBytes, ups.at(-1)!.byteLength));
    expect(stats.lastSeq).toBe(ups.length);
    s.compact('d');
    expect(s.loadDoc('d')).toHaveLength(1);
    const back = rebuild(s.loadDoc('d'));
    expect(back.getText('t').toString()).toBe(doc.getText('t').toString());
    expect(Y.encodeStateVector(back)).toEqual(Y.encodeStateVector(doc));
    expect(Y.encodeSnapshot(Y.snapshot(back))).toEqual(Y.encodeSnapshot(Y.snapshot(doc)));
    // Sequence numbers continue after compaction.
    expect(s.append('d', ups[0]!)).toBe(ups.length + 1);
  });

  it('does not compact below the minimum log size', () => {
    const s = make({ minLogBytes: 1 << 20 });
    const doc = new Y.Doc();
    for (const u of updatesOf(doc, () => doc.getArray('a').push([1, 2, 3]))) s.append('d', u);
    expect(s.docStats('d')).toMatchObject({ snapshotBytes: 0, logEntries: 1 });
  });

  it('bumps the incarnation and keeps a key-value space', () => {
    const s = make();
    expect(s.incarnation()).toBe(0);
    expect(s.bumpIncarnation()).toBe(1);
    expect(s.bumpIncarnation()).toBe(2);
    s.kvSet('keyring', '{"keys":[]}');
    s.kvSet('task/2', 'b');
    s.kvSet('task/1', 'a');
    expect(s.kvGet('keyring')).toBe('{"keys":[]}');
    expect(s.kvList('task/')).toEqual([['task/1', 'a'], ['task/2', 'b']]);
    s.kvDelete('task/1');
    expect(s.kvList('task/')).toEqual([['task/2', 'b']]);
    expect(s.identity().name).toBe('a');
    s.setName('b');
    expect(s.identity().name).toBe('b');
  });
});

describe('SqliteStore on disk', () => {
  it('persists identity, incarnation, documents and seqs across reopen', () => {
    const dir = tempDir();
    const a = SqliteStore.open({ dir, name: 'n1', compaction: { minLogBytes: 0 } });
    const id = a.identity().nodeId;
    a.bumpIncarnation();
    a.bumpIncarnation();
    const doc = new Y.Doc();
    const ups = updatesOf(doc, () => {
      for (let i = 0; i < 10; i++) doc.getArray('a').push([i]);
    });
    a.appendMany(ups.map((update) => ({ docId: 'x', update })));
    a.close();
    // A data directory is one node: another name is refused (issue 15) and changes nothing.
    expect(() => SqliteStore.open({ dir, name: 'n1-renamed' })).toThrow(/belongs to node "n1", not "n1-renamed".*--name n1/);
    const b = track(SqliteStore.open({ dir, name: 'n1' }));
    expect(b.identity()).toEqual({ nodeId: id, name: 'n1' });
    expect(b.incarnation()).toBe(2);
    expect(b.docStats('x').lastSeq).toBe(10);
    expect(b.append('x', ups[0]!)).toBe(11);
    expect(rebuild(b.loadDoc('x')).getArray('a').toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('runs WAL with synchronous = FULL under an exclusive lock', () => {
    const s = SqliteStore.open({ dir: tempDir(), name: 'n1' });
    track(s);
    expect(s.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', lockingMode: 'exclusive' });
  });

  it('refuses a second open of the same data directory with StorageError', () => {
    const dir = tempDir();
    track(SqliteStore.open({ dir, name: 'n1' }));
    expect(() => SqliteStore.open({ dir, name: 'n1' })).toThrow(StorageError);
    expect(() => SqliteStore.open({ dir, name: 'n1' })).toThrow(/in use by another node process/);
  });

  it('releases the directory on close', () => {
    const dir = tempDir();
    SqliteStore.open({ dir, name: 'n1' }).close();
    expect(() => track(SqliteStore.open({ dir, name: 'n1' }))).not.toThrow();
  });
});

describe('SqliteStore update log', () => {
  /** `n` updates of a doc of its own, each one array push. */
  function updates(n: number, tag: string): Uint8Array[] {
    const doc = new Y.Doc();
    return updatesOf(doc, () => {
      for (let i = 0; i < n; i++) doc.getArray('a').push([`${tag}-${i}`]);
    });
  }

  it('migrates a schema-1 directory (log clustered by document) without losing an update', () => {
    const dir = tempDir();
    const a = updates(5, 'a');
    const b = updates(2, 'b');
    // A v1 directory as the previous version left it: doc a compacted up to seq 3, two log rows after.
    const db = new Database(join(dir, DB_FILE));
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE doc_log (doc_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (doc_id, seq)) WITHOUT ROWID;
      CREATE TABLE doc_snapshot (doc_id TEXT PRIMARY KEY, data BLOB NOT NULL, upto_seq INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
    db.prepare("INSERT INTO meta VALUES ('schema_version', '1'), ('node_id', 'old-id'), ('name', 'n1')").run();
    db.prepare('INSERT INTO doc_snapshot VALUES (?, ?, ?)').run('a', Buffer.from(Y.mergeUpdates(a.slice(0, 3))), 3);
    const ins = db.prepare('INSERT INTO doc_log VALUES (?, ?, ?)');
    ins.run('a', 4, Buffer.from(a[3]!));
    ins.run('a', 5, Buffer.from(a[4]!));
    ins.run('b', 1, Buffer.from(b[0]!));
    ins.run('b', 2, Buffer.from(b[1]!));
    db.close();

    const s = track(SqliteStore.open({ dir, name: 'n1' }));
    expect(s.identity().nodeId).toBe('old-id');
    expect(s.docIds()).toEqual(['a', 'b']);
    expect(s.docStats('a')).toMatchObject({ lastSeq: 5, logEntries: 2 });
    expect(rebuild(s.loadDoc('a')).getArray('a').toArray()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(rebuild(s.loadAll().get('b')!).getArray('a').toArray()).toEqual(['b-0', 'b-1']);
    expect(s.append('b', b[0]!)).toBe(3);
    s.close();
    const check = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'doc_log'").pluck().get()).toBe(0);
      expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('2');
    } finally {
      check.close();
    }
  });

  it('appends every commit at the end of one log, whatever documents it touches', () => {
    const dir = tempDir();
    const s = track(SqliteStore.open({ dir, name: 'n1' }));
    const ups = updates(1, 'x');
    for (let round = 0; round < 3; round++) s.appendMany(Array.from({ length: 40 }, (_, d) => ({ docId: `doc-${d}`, update: ups[0]! })));
    s.close();
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      const rows = db.prepare('SELECT seq, doc_id, doc_seq FROM update_log ORDER BY seq').raw().all() as Array<[number, string, number]>;
      expect(rows).toHaveLength(120);
      // Global order is append order; per-document sequence numbers count 1, 2, 3 within it.
      expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(rows.filter((r) => r[1] === 'doc-7').map((r) => r[2])).toEqual([1, 2, 3]);
    } finally {
      db.close();
    }
  });

  it('reclaims rows that snapshots cover once an idle document holds them back, and reopens with identical content', () => {
    const dir = tempDir();
    // minLogBytes: more than the cold document's one update, so only the hot one compacts by itself.
    const policy = { minLogBytes: 200, minDeadBytes: 2048 };
    const s = SqliteStore.open({ dir, name: 'n1', compaction: policy });
    const cold = updates(1, 'cold');
    const hot = updates(400, 'hot');
    s.append('cold', cold[0]!); // the oldest live row, for a document nobody writes again
    for (const u of hot) s.append('hot', u);
    const { diskBytes, liveBytes } = s.logSizes();
    // Compacting 'hot' left its rows behind cold's: without reclaiming, all 400 would stay.
    const hotBytes = hot.reduce((n, u) => n + u.byteLength, 0);
    expect(diskBytes).toBeLessThan(hotBytes / 2);
    expect(diskBytes - liveBytes).toBeLessThanOrEqual(Math.max(2048, liveBytes) + hot.at(-1)!.byteLength);
    // The idle document was compacted to let the log move on.
    expect(s.docStats('cold')).toMatchObject({ logEntries: 0, lastSeq: 1 });
    expect(s.docStats('cold').snapshotBytes).toBeGreaterThan(0);
    s.close();
    const r = track(SqliteStore.open({ dir, name: 'n1', compaction: policy }));
    expect(r.logSizes()).toEqual({ diskBytes, liveBytes });
    const all = r.loadAll();
    expect(rebuild(all.get('hot')!).getArray('a').toArray()).toEqual(hot.map((_, i) => `hot-${i}`));
    expect(rebuild(r.loadDoc('hot')).getArray('a').toArray()).toEqual(hot.map((_, i) => `hot-${i}`));
    expect(rebuild(all.get('cold')!).getArray('a').toArray()).toEqual(['cold-0']);
    expect(r.append('hot', hot[0]!)).toBe(401);
  });
});
