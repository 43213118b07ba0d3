// NodeStore on SQLite (better-sqlite3): one database file per node data directory, WAL with
// synchronous = FULL so a returned append is on disk, and an exclusive lock so only one process
// owns a data directory at a time. Statements are prepared once; appends batch into one
// transaction (one fsync) through appendMany.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { mergeForSnapshot } from './merge.js';
import { DB_FILE, SCHEMA_SQL, SCHEMA_VERSION, SQLITE_PRAGMAS } from './sqlite-schema.js';
import {
  DEFAULT_COMPACTION,
  shouldCompact,
  type AppendEntry,
  type CompactionPolicy,
  type DocStorageStats,
  type NodeIdentity,
  type NodeStore,
  type SnapshotSource,
} from './types.js';

export interface SqliteStoreOptions {
  /** The node's data directory; created if missing. */
  dir: string;
  /** Name recorded on first open (and updated when it differs on a later open). */
  name: string;
  compaction?: CompactionPolicy;
}

type Stmt = Database.Statement;

export class SqliteStore implements NodeStore {
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly policy: CompactionPolicy;
  private snapshotSource: SnapshotSource | undefined;
  /** Per-document sizes, kept in memory so the compaction check costs no query per append. */
  private readonly stats = new Map<string, DocStorageStats>();
  private readonly st: Record<
    | 'metaGet' | 'metaSet' | 'logInsert' | 'logRange' | 'logDeleteUpTo' | 'snapGet' | 'snapSet'
    | 'kvGet' | 'kvSet' | 'kvDelete' | 'kvList',
    Stmt
  >;

  /** Opens (creating if needed) `<dir>/node.db`; throws StorageError if another process holds it. */
  static open(opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(opts);
  }

  private constructor(opts: SqliteStoreOptions) {
    this.dir = opts.dir;
    this.policy = opts.compaction ?? DEFAULT_COMPACTION;
    const file = join(opts.dir, DB_FILE);
    try {
      mkdirSync(opts.dir, { recursive: true });
      // timeout 0: a locked directory must fail at once, not hang for better-sqlite3's default 5 s.
      this.db = new Database(file, { timeout: 0 });
    } catch (err) {
      throw new StorageError(`cannot open data directory ${opts.dir}: ${(err as Error).message}; check the path and its permissions`, { cause: err });
    }
    try {
      for (const p of SQLITE_PRAGMAS) this.db.pragma(p);
      // Take the exclusive lock now (locking_mode = EXCLUSIVE keeps it), so a second process
      // fails when it opens, not later on its first write.
      this.db.exec('BEGIN EXCLUSIVE');
      this.db.exec(SCHEMA_SQL);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StorageError(
          `data directory ${opts.dir} is in use by another node process (${file} is locked); ` +
            'stop that process or give this node its own --data directory',
          { cause: err },
        );
      }
      throw new StorageError(`cannot initialise ${file}: ${(err as Error).message}; the file may be corrupt`, { cause: err });
    }
    this.st = {
      metaGet: this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      metaSet: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      logInsert: this.db.prepare('INSERT INTO doc_log (doc_id, seq, data) VALUES (?, ?, ?)'),
      logRange: this.db.prepare('SELECT data FROM doc_log WHERE doc_id = ? ORDER BY seq').pluck(),
      logDeleteUpTo: this.db.prepare('DELETE FROM doc_log WHERE doc_id = ? AND seq <= ?'),
      snapGet: this.db.prepare('SELECT data FROM doc_snapshot WHERE doc_id = ?').pluck(),
      snapSet: this.db.prepare(
        'INSERT INTO doc_snapshot (doc_id, data, upto_seq) VALUES (?, ?, ?) ' +
          'ON CONFLICT(doc_id) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq',
      ),
      kvGet: this.db.prepare('SELECT value FROM kv WHERE key = ?').pluck(),
      kvSet: this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      kvDelete: this.db.prepare('DELETE FROM kv WHERE key = ?'),
      kvList: this.db.prepare("SELECT key, value FROM kv WHERE substr(key, 1, length(?)) = ? ORDER BY key").raw(),
    };
    this.initIdentity(opts.name);
    this.loadStats();
  }

  identity(): NodeIdentity {
    return { nodeId: this.meta('node_id')!, name: this.meta('name')! };
  }
  setName(name: string): void {
    this.st.metaSet.run('name', name);
  }
  incarnation(): number {
    return Number(this.meta('incarnation') ?? '0');
  }
  bumpIncarnation(): number {
    const next = this.incarnation() + 1;
    this.st.metaSet.run('incarnation', String(next));
    return next;
  }

  append(docId: string, update: Uint8Array): number {
    return this.appendMany([{ docId, update }])[0]!;
  }

  appendMany(entries: readonly AppendEntry[]): number[] {
    if (entries.length === 0) return [];
    const touched = new Set<string>();
    const seqs = this.guard('append', () =>
      this.db.transaction(() =>
        entries.map(({ docId, update }) => {
          const s = this.statsOf(docId);
          const seq = s.lastSeq + 1;
          this.st.logInsert.run(docId, seq, update);
          // In-memory sizes change only after the insert succeeded; a failed transaction
          // rolls back both (we recompute from disk below).
          s.lastSeq = seq;
          s.logBytes += update.byteLength;
          s.logEntries += 1;
          touched.add(docId);
          return seq;
        }),
      )(),
      () => this.loadStats(),
    );
    for (const docId of touched) {
      if (shouldCompact(this.statsOf(docId), this.policy)) this.compact(docId);
    }
    return seqs;
  }

  loadDoc(docId: string): Uint8Array[] {
    return this.guard('load', () => {
      // One read transaction so a concurrent compaction (same process) cannot split the view.
      return this.db.transaction(() => {
        const snap = this.st.snapGet.get(docId) as Buffer | undefined;
        const log = this.st.logRange.all(docId) as Buffer[];
        return [...(snap ? [snap] : []), ...log].map(toU8);
      })();
    });
  }

  docIds(): string[] {
    return [...this.stats.keys()].sort();
  }

  setSnapshotSource(source: SnapshotSource | undefined): void {
    this.snapshotSource = source;
  }

  compact(docId: string): boolean {
    const s = this.stats.get(docId);
    if (!s || s.logEntries === 0) return false;
    // The live document's encoding (cheap, garbage-collected) when a source vouches for it.
    const merged = this.snapshotSource?.(docId) ?? mergeForSnapshot(docId, this.loadDoc(docId));
    this.guard('compact', () =>
      // Snapshot write and log trim in one transaction: a crash leaves either the old
      // snapshot + full log or the new snapshot + empty log, never a gap or a double.
      this.db.transaction(() => {
        this.st.snapSet.run(docId, merged, s.lastSeq);
        this.st.logDeleteUpTo.run(docId, s.lastSeq);
      })(),
    );
    s.snapshotBytes = merged.byteLength;
    s.logBytes = 0;
    s.logEntries = 0;
    return true;
  }

  docStats(docId: string): DocStorageStats {
    return { ...(this.stats.get(docId) ?? { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0 }) };
  }

  kvGet(key: string): string | undefined {
    return this.st.kvGet.get(key) as string | undefined;
  }
  kvSet(key: string, value: string): void {
    this.guard('kv write', () => this.st.kvSet.run(key, value));
  }
  kvDelete(key: string): void {
    this.guard('kv delete', () => this.st.kvDelete.run(key));
  }
  kvList(prefix: string): Array<[string, string]> {
    return this.st.kvList.all(prefix, prefix) as Array<[string, string]>;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The durability settings in force, as SQLite reports them (for /status and tests). */
  settings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'; lockingMode: string } {
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
      lockingMode: String(this.db.pragma('locking_mode', { simple: true })),
    };
  }

  private meta(key: string): string | undefined {
    return this.st.metaGet.get(key) as string | undefined;
  }

  private initIdentity(name: string): void {
    this.db.transaction(() => {
      const version = this.meta('schema_version');
      if (version !== undefined && Number(version) > SCHEMA_VERSION) {
        throw new StorageError(
          `data directory ${this.dir} was written by a newer trinity-cluster (schema ${version} > ${SCHEMA_VERSION}); upgrade this binary`,
        );
      }
      this.st.metaSet.run('schema_version', String(SCHEMA_VERSION));
      if (this.meta('node_id') === undefined) this.st.metaSet.run('node_id', randomUUID());
      if (this.meta('name') !== name) this.st.metaSet.run('name', name);
    })();
  }

  private loadStats(): void {
    this.stats.clear();
    const snaps = this.db.prepare('SELECT doc_id, length(data), upto_seq FROM doc_snapshot').raw().all() as Array<[string, number, number]>;
    for (const [id, bytes, upto] of snaps) {
      this.stats.set(id, { snapshotBytes: bytes, logBytes: 0, logEntries: 0, lastSeq: upto });
    }
    const logs = this.db
      .prepare('SELECT doc_id, count(*), sum(length(data)), max(seq) FROM doc_log GROUP BY doc_id')
      .raw()
      .all() as Array<[string, number, number, number]>;
    for (const [id, n, bytes, maxSeq] of logs) {
      const s = this.statsOf(id);
      s.logEntries = n;
      s.logBytes = bytes;
      s.lastSeq = Math.max(s.lastSeq, maxSeq);
    }
  }

  private statsOf(docId: string): DocStorageStats {
    let s = this.stats.get(docId);
    if (!s) {
      s = { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0 };
      this.stats.set(docId, s);
    }
    return s;
  }

  /** Runs a database operation, turning SQLite failures into StorageError with advice. */
  private guard<T>(what: string, fn: () => T, onError?: () => void): T {
    try {
      return fn();
    } catch (err) {
      onError?.();
      if (err instanceof StorageError) throw err;
      throw new StorageError(
        `storage ${what} failed in ${this.dir}: ${(err as Error).message}; check free disk space and that the directory is writable`,
        { cause: err },
      );
    }
  }
}

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
