// NodeStore on SQLite (better-sqlite3): one database file per node data directory, WAL with
// synchronous = FULL so a returned append is on disk (appendManyThenSync: written at once,
// fsynced off the event loop by WalSync before its callback), and an exclusive lock so only one
// process owns a data directory at a time. Statements are prepared once; appends batch into one
// transaction (one fsync) through appendMany, as rows at the end of one global log (see
// sqlite-schema.ts for why), and each document's rows are folded into its snapshot by compaction.
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { mergeForSnapshot } from './merge.js';
import { preparePrivateDir, preparePrivateFile } from './private-files.js';
import { WalSync, type SyncDone } from './wal-sync.js';
import { WalCheckpointer, type CheckpointPolicy } from './wal-checkpoint.js';
import { DB_FILE, MIGRATE_V1_SQL, SCHEMA_SQL, SCHEMA_VERSION, SQLITE_PRAGMAS } from './sqlite-schema.js';
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
  /** When the write-ahead log is checkpointed (wal-checkpoint.ts); tests make it small. */
  checkpoint?: CheckpointPolicy;
  /** SQLite's page cache (native memory, outside V8's heap); better-sqlite3's default is 16 MB. */
  cacheBytes?: number;
}

type Stmt = Database.Statement;

/** A document's sizes, plus where its live rows start in the global log. */
interface DocState extends DocStorageStats {
  /** The snapshot covers the document's rows up to this doc_seq. */
  uptoSeq: number;
  /** Global seq of the document's first row not covered by its snapshot (when logEntries > 0). */
  firstRow: number;
}

/**
 * Rows that snapshots cover but that still sit in the log (behind an older live row of another
 * document) may take this much beyond the live log before the documents holding them back are
 * compacted: a bound on dead bytes on disk, and on what a restart reads past.
 */
const DEFAULT_MIN_DEAD_BYTES = 1 << 20;
/** Documents compacted at most per commit to free dead rows (bounded work per commit). */
const MAX_RECLAIM_PER_COMMIT = 8;

export class SqliteStore implements NodeStore {
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly policy: CompactionPolicy;
  private snapshotSource: SnapshotSource | undefined;
  /** Per-document sizes, kept in memory so the compaction check costs no query per append. */
  private readonly stats = new Map<string, DocState>();
  /** Global seq of the last row appended. */
  private lastRow = 0;
  private readonly walSync: WalSync;
  /** Checkpoints of the log, with the database file's fsync off the event loop (wal-checkpoint.ts). */
  private readonly ckpt: WalCheckpointer;
  /** Whether SQLite runs the write-ahead log (it may refuse, e.g. on a file system without shared memory support): only then is the fsync deferred. */
  private readonly walMode: boolean;
  /** Rows below this global seq are deleted (all covered by snapshots). */
  private trimmedBelow = 0;
  /** Bytes of every row in the log, live or covered by a snapshot. */
  private diskLogBytes = 0;
  /** Bytes of the rows no snapshot covers (the sum of the documents' logBytes). */
  private liveLogBytes = 0;
  private readonly st: Record<
    | 'metaGet' | 'metaSet' | 'logInsert' | 'logRange' | 'logAll' | 'logBytesBelow' | 'logDeleteBelow' | 'snapGet' | 'snapSet'
    | 'logBytesOfDoc' | 'logDeleteOfDoc'
    | 'kvGet' | 'kvSet' | 'kvDelete' | 'kvList' | 'syncNormal' | 'syncFull',
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
      preparePrivateDir(opts.dir);
      preparePrivateFile(file);
      // timeout 0: a locked directory must fail at once, not hang for better-sqlite3's default 5 s.
      this.db = new Database(file, { timeout: 0 });
    } catch (err) {
      throw new StorageError(`cannot open data directory ${opts.dir}: ${(err as Error).message}; check the path and its permissions`, { cause: err });
    }
    try {
      for (const p of SQLITE_PRAGMAS) this.db.pragma(p);
      if (opts.cacheBytes !== undefined) this.db.pragma(`cache_size = -${Math.max(1, Math.ceil(opts.cacheBytes / 1024))}`);
      // Take the exclusive lock now (locking_mode = EXCLUSIVE keeps it), so a second process
      // fails when it opens, not later on its first write.
      this.db.exec('BEGIN EXCLUSIVE');
      this.db.exec(SCHEMA_SQL);
      if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doc_log'").get() !== undefined) this.db.exec(MIGRATE_V1_SQL);
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
      logInsert: this.db.prepare('INSERT INTO update_log (seq, doc_id, doc_seq, data) VALUES (?, ?, ?, ?)'),
      // A scan of the whole log (no index on doc_id: it would scatter every commit again).
      // Only loadDoc uses it; a node opening its data directory reads everything in one pass (loadAll).
      logRange: this.db.prepare('SELECT data FROM update_log WHERE doc_id = ? AND doc_seq > ? ORDER BY seq').pluck(),
      logAll: this.db.prepare('SELECT doc_id, doc_seq, data FROM update_log ORDER BY seq').raw(),
      logBytesBelow: this.db.prepare('SELECT coalesce(sum(length(data)), 0) FROM update_log WHERE seq < ?').pluck(),
      logDeleteBelow: this.db.prepare('DELETE FROM update_log WHERE seq < ?'),
      // reclaim(): a scan of the log, which compaction keeps short.
      logBytesOfDoc: this.db.prepare('SELECT coalesce(sum(length(data)), 0) FROM update_log WHERE doc_id = ? AND doc_seq <= ?').pluck(),
      logDeleteOfDoc: this.db.prepare('DELETE FROM update_log WHERE doc_id = ? AND doc_seq <= ?'),
      snapGet: this.db.prepare('SELECT data FROM doc_snapshot WHERE doc_id = ?').pluck(),
      snapSet: this.db.prepare(
        'INSERT INTO doc_snapshot (doc_id, data, upto_seq) VALUES (?, ?, ?) ' +
          'ON CONFLICT(doc_id) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq',
      ),
      kvGet: this.db.prepare('SELECT value FROM kv WHERE key = ?').pluck(),
      kvSet: this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      kvDelete: this.db.prepare('DELETE FROM kv WHERE key = ?'),
      kvList: this.db.prepare("SELECT key, value FROM kv WHERE substr(key, 1, length(?)) = ? ORDER BY key").raw(),
      // appendManyThenSync switches to NORMAL (no fsync in the commit) around its transaction only.
      syncNormal: this.db.prepare('PRAGMA synchronous = NORMAL'),
      syncFull: this.db.prepare('PRAGMA synchronous = FULL'),
    };
    this.walSync = new WalSync(`${file}-wal`);
    this.walMode = String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.ckpt = new WalCheckpointer(
      {
        logSynced: () => this.walSync.idle(),
        checkpointNoSync: () => this.checkpointNoSync(),
        commitNow: (entries, synced) => void this.commitThenSync(entries, synced),
      },
      file,
      opts.checkpoint,
    );
    // The store checkpoints itself (appendMany, and the group-commit path through ckpt).
    if (this.walMode) this.db.pragma('wal_autocheckpoint = 0');
    try {
      this.initIdentity(opts.name);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.loadStats();
  }

  identity(): NodeIdentity {
    return { nodeId: this.meta('node_id')!, name: this.meta('name')! };
  }
  setName(name: string): void {
    this.ckpt.settle();
    this.st.metaSet.run('name', name);
  }
  incarnation(): number {
    return Number(this.meta('incarnation') ?? '0');
  }
  bumpIncarnation(): number {
    const next = this.incarnation() + 1;
    this.ckpt.settle();
    this.st.metaSet.run('incarnation', String(next));
    return next;
  }

  append(docId: string, update: Uint8Array): number {
    return this.appendMany([{ docId, update }])[0]!;
  }

  appendMany(entries: readonly AppendEntry[]): number[] {
    return this.appendRows(entries, false);
  }

  /** `grouped`: a group commit (its checkpoint is wal-checkpoint.ts's); otherwise one under FULL checkpoints inline when due. */
  private appendRows(entries: readonly AppendEntry[], grouped: boolean): number[] {
    if (entries.length === 0) return [];
    const touched = new Set<string>();
    const seqs = this.guard('append', () =>
      this.db.transaction(() =>
        entries.map(({ docId, update }) => {
          const s = this.statsOf(docId);
          const seq = s.lastSeq + 1;
          const row = this.lastRow + 1;
          this.st.logInsert.run(row, docId, seq, update);
          // In-memory sizes change only after the insert succeeded; a failed transaction
          // rolls back both (we recompute from disk below).
          this.lastRow = row;
          if (s.logEntries === 0) s.firstRow = row;
          s.lastSeq = seq;
          s.logBytes += update.byteLength;
          s.logEntries += 1;
          this.diskLogBytes += update.byteLength;
          this.liveLogBytes += update.byteLength;
          touched.add(docId);
          return seq;
        }),
      )(),
      () => this.loadStats(),
    );
    for (const docId of touched) {
      if (shouldCompact(this.statsOf(docId), this.policy)) this.compact(docId);
    }
    this.reclaimDeadRows();
    let bytes = 0;
    for (const e of entries) bytes += e.update.byteLength;
    if (this.ckpt.counted(bytes) && !grouped && this.walMode && !this.ckpt.holding()) {
      // As SQLite's automatic checkpoint did: inline, with fsync (FULL), on this path only.
      this.guard('checkpoint', () => this.db.pragma('wal_checkpoint(PASSIVE)'));
      this.ckpt.reset();
    }
    return seqs;
  }

  /**
   * appendMany without an fsync on the event loop: the transaction commits under synchronous =
   * NORMAL (its frames written to the write-ahead log, atomic as ever), then WalSync fdatasyncs
   * the log on the thread pool and calls `synced`. Every other write keeps FULL (and its fsync
   * covers these frames too). Throws StorageError, calling nothing, when the transaction fails.
   */
  appendManyThenSync(entries: readonly AppendEntry[], synced: SyncDone): number[] {
    if (!this.walMode) {
      const seqs = this.appendMany(entries); // FULL: on disk when it returns
      queueMicrotask(() => synced());
      return seqs;
    }
    if (this.ckpt.holding()) {
      this.ckpt.commit(entries, synced); // waits for the checkpoint under way (its rows are not readable until then)
      return [];
    }
    return this.commitThenSync(entries, synced);
  }

  private commitThenSync(entries: readonly AppendEntry[], synced: SyncDone): number[] {
    this.st.syncNormal.run();
    let seqs: number[];
    try {
      seqs = this.appendRows(entries, true);
    } finally {
      this.st.syncFull.run();
    }
    this.walSync.request((err) => {
      synced(err);
      this.ckpt.poke(err);
    });
    this.ckpt.poke(); // due now: later batches wait while the log's sync finishes
    return seqs;
  }

  /** The whole log into the database file with no fsync (wal-checkpoint.ts syncs the file before the log is reused). */
  private checkpointNoSync(): void {
    // Not through guard(): its settle() would commit the waiting batches first, and the copy
    // would take frames not yet synced.
    try {
      this.db.pragma('synchronous = OFF');
      try {
        this.db.pragma('wal_checkpoint(PASSIVE)');
      } finally {
        this.st.syncFull.run();
      }
    } catch (err) {
      throw new StorageError(`storage checkpoint failed in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  syncIdle(): boolean {
    return this.walMode && this.walSync.idle() && !this.ckpt.holding();
  }

  /** Checkpoints taken with the database file's fsync off the event loop (tests, metrics). */
  checkpoints(): number {
    return this.ckpt.checkpoints;
  }

  /** fdatasync calls made by appendManyThenSync so far (each covers every batch committed before it began). */
  walSyncs(): number {
    return this.walSync.syncs;
  }

  /**
   * Compacted rows leave the log only as a prefix: a document that stays idle with a few live
   * rows holds back every row after its first one. Once dead rows outweigh the live log (and
   * the policy's minDeadBytes), the documents with the oldest live rows are compacted, a few per commit,
   * so the prefix moves on. Amortised like the per-document rule: each reclaim follows at least
   * as many bytes appended as it frees.
   */
  private reclaimDeadRows(): void {
    if (this.diskLogBytes - this.liveLogBytes <= Math.max(this.policy.minDeadBytes ?? DEFAULT_MIN_DEAD_BYTES, this.liveLogBytes)) return;
    const oldest = [...this.stats].filter(([, s]) => s.logEntries > 0).sort((a, b) => a[1].firstRow - b[1].firstRow);
    for (const [docId] of oldest.slice(0, MAX_RECLAIM_PER_COMMIT)) this.compact(docId);
  }

  /** One pass over the whole log: every document's snapshot then its live rows, in order. */
  loadAll(): Map<string, Uint8Array[]> {
    return this.guard('load', () =>
      this.db.transaction(() => {
        const out = new Map<string, Uint8Array[]>();
        for (const id of this.stats.keys()) {
          const snap = this.st.snapGet.get(id) as Buffer | undefined;
          out.set(id, snap ? [toU8(snap)] : []);
        }
        for (const [id, seq, data] of this.st.logAll.iterate() as Iterable<[string, number, Buffer]>) {
          if (seq > (this.stats.get(id)?.uptoSeq ?? 0)) out.get(id)?.push(toU8(data));
        }
        return out;
      })(),
    );
  }

  loadDoc(docId: string): Uint8Array[] {
    // No live rows (compacted, as an unloaded document is): its snapshot alone, by key, without
    // scanning the log (loading an unloaded document on demand must stay cheap).
    if ((this.stats.get(docId)?.logEntries ?? 0) === 0) {
      const snap = this.guard('load', () => this.st.snapGet.get(docId) as Buffer | undefined);
      return snap ? [toU8(snap)] : [];
    }
    return this.guard('load', () => {
      // One read transaction so a concurrent compaction (same process) cannot split the view.
      return this.db.transaction(() => {
        const snap = this.st.snapGet.get(docId) as Buffer | undefined;
        const log = this.st.logRange.all(docId, this.stats.get(docId)?.uptoSeq ?? 0) as Buffer[];
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
    // The rows that may go with it: everything before the oldest live row of another document.
    let keepFrom = this.lastRow + 1;
    for (const [id, o] of this.stats) if (id !== docId && o.logEntries > 0 && o.firstRow < keepFrom) keepFrom = o.firstRow;
    const trim = keepFrom > this.trimmedBelow;
    this.guard('compact', () =>
      // Snapshot write and log trim in one transaction: a crash leaves either the old snapshot
      // and the rows after it, or the new one (which covers the rows it does not delete).
      this.db.transaction(() => {
        this.st.snapSet.run(docId, merged, s.lastSeq);
        if (trim) {
          const freed = this.st.logBytesBelow.get(keepFrom) as number;
          this.st.logDeleteBelow.run(keepFrom);
          this.diskLogBytes -= freed;
        }
      })(),
      () => this.loadStats(),
    );
    if (trim) this.trimmedBelow = keepFrom;
    this.liveLogBytes -= s.logBytes;
    s.uptoSeq = s.lastSeq;
    s.snapshotBytes = merged.byteLength;
    s.logBytes = 0;
    s.logEntries = 0;
    return true;
  }

  dropDoc(docId: string): void {
    this.guard('drop document', () =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM update_log WHERE doc_id = ?').run(docId);
        this.db.prepare('DELETE FROM doc_snapshot WHERE doc_id = ?').run(docId);
      })(),
    );
    // Rare (once per document handed off): recount the log rather than patch every figure.
    this.loadStats();
  }

  reclaim(docId: string): void {
    this.compact(docId);
    const s = this.stats.get(docId);
    if (s) {
      // The rows the new snapshot covers go now, not when the log's prefix reaches them.
      this.guard('reclaim', () =>
        this.db.transaction(() => {
          this.diskLogBytes -= this.st.logBytesOfDoc.get(docId, s.uptoSeq) as number;
          this.st.logDeleteOfDoc.run(docId, s.uptoSeq);
        })(),
        () => this.loadStats(),
      );
    }
    this.maintain();
  }

  maintain(): void {
    this.guard('maintenance', () => {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    });
    this.ckpt.reset();
  }

  diskBytes(): number {
    let n = 0;
    for (const f of [DB_FILE, `${DB_FILE}-wal`]) {
      try {
        n += statSync(join(this.dir, f)).size;
      } catch {
        // no write-ahead log right after a checkpoint
      }
    }
    return n;
  }

  docStats(docId: string): DocStorageStats {
    const s = this.stats.get(docId);
    return s ? { snapshotBytes: s.snapshotBytes, logBytes: s.logBytes, logEntries: s.logEntries, lastSeq: s.lastSeq } : { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0 };
  }

  /** Bytes of log rows on disk, and of those no snapshot covers yet (tests, metrics). */
  logSizes(): { diskBytes: number; liveBytes: number } {
    return { diskBytes: this.diskLogBytes, liveBytes: this.liveLogBytes };
  }

  /** A consistent copy of the whole database in `file`, taken while the node runs (SQLite online backup). */
  async backupTo(file: string): Promise<void> {
    this.ckpt.settle();
    preparePrivateFile(file);
    await this.db.backup(file);
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
    // Callbacks still waiting for a sync get an error; closing SQLite checkpoints with fsync.
    try {
      if (this.db.open) this.ckpt.close();
    } finally {
      this.walSync.close();
      if (this.db.open) this.db.close();
      this.ckpt.releaseFile();
    }
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
      const recorded = this.meta('name');
      // One data directory is one node: a node started with another's directory (or a directory
      // under another name) would take over that node's identity, voter slot and acknowledgements.
      if (recorded !== undefined && recorded !== name) {
        throw new StorageError(
          `data directory ${this.dir} belongs to node "${recorded}", not "${name}": start it with --name ${recorded}, or give node "${name}" its own --data directory`,
        );
      }
      if (recorded === undefined) this.st.metaSet.run('name', name);
    })();
  }

  /** Rebuilds the in-memory sizes from disk (on open, and after a failed transaction). */
  private loadStats(): void {
    this.stats.clear();
    const snaps = this.db.prepare('SELECT doc_id, length(data), upto_seq FROM doc_snapshot').raw().all() as Array<[string, number, number]>;
    for (const [id, bytes, upto] of snaps) {
      this.stats.set(id, { snapshotBytes: bytes, logBytes: 0, logEntries: 0, lastSeq: upto, uptoSeq: upto, firstRow: 0 });
    }
    this.lastRow = 0;
    this.trimmedBelow = 0;
    this.diskLogBytes = 0;
    this.liveLogBytes = 0;
    // Headers only: length() of a blob does not read it.
    const rows = this.db.prepare('SELECT seq, doc_id, doc_seq, length(data) FROM update_log ORDER BY seq').raw().iterate() as Iterable<[number, string, number, number]>;
    for (const [row, id, seq, bytes] of rows) {
      if (this.trimmedBelow === 0) this.trimmedBelow = row;
      this.lastRow = row;
      this.diskLogBytes += bytes;
      const s = this.statsOf(id);
      if (seq <= s.uptoSeq) continue; // covered by the snapshot, waiting to leave the log
      if (s.logEntries === 0) s.firstRow = row;
      s.logEntries += 1;
      s.logBytes += bytes;
      s.lastSeq = Math.max(s.lastSeq, seq);
      this.liveLogBytes += bytes;
    }
  }

  private statsOf(docId: string): DocState {
    let s = this.stats.get(docId);
    if (!s) {
      s = { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0, uptoSeq: 0, firstRow: 0 };
      this.stats.set(docId, s);
    }
    return s;
  }

  /** Runs a database operation, turning SQLite failures into StorageError with advice. */
  private guard<T>(what: string, fn: () => T, onError?: () => void): T {
    try {
      // Nothing may read past or commit over a checkpoint under way (wal-checkpoint.ts).
      this.ckpt.settle();
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
