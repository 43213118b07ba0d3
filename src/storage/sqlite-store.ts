// NodeStore on SQLite (better-sqlite3): one database file per node data directory, WAL with
// synchronous = FULL so a returned append is on disk (appendManyThenSync: written at once,
// fsynced off the event loop by WalSync before its callback), and an exclusive lock so only one
// process owns a data directory at a time. Statements are prepared once; appends batch into one
// transaction (one fsync) through appendMany, as rows at the end of one global log (see
// sqlite-schema.ts for why), and each document's rows are folded into its snapshot by compaction.
import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { LogLedger } from './log-ledger.js';
import { mergeForSnapshot } from './merge.js';
import { preparePrivateFile } from './private-files.js';
import { dataFileBytes, initIdentity, openDatabase, prepareStatements, readSettings, type DatabaseSettings, type Statements } from './sqlite-database.js';
import { WalSync, type SyncDone } from './wal-sync.js';
import { WalCheckpointer, type CheckpointPolicy } from './wal-checkpoint.js';
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

export class SqliteStore implements NodeStore {
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly policy: CompactionPolicy;
  private snapshotSource: SnapshotSource | undefined;
  /** Per-document sizes and the log's extent, kept in memory so the compaction check costs no query per append. */
  private readonly log = new LogLedger();
  private readonly walSync: WalSync;
  /** Checkpoints of the log, with the database file's fsync off the event loop (wal-checkpoint.ts). */
  private readonly ckpt: WalCheckpointer;
  /** Whether SQLite runs the write-ahead log (it may refuse, e.g. on a file system without shared memory support): only then is the fsync deferred. */
  private readonly walMode: boolean;
  private readonly st: Statements;

  /** Opens (creating if needed) `<dir>/node.db`; throws StorageError if another process holds it. */
  static open(opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(opts);
  }

  private constructor(opts: SqliteStoreOptions) {
    this.dir = opts.dir;
    this.policy = opts.compaction ?? DEFAULT_COMPACTION;
    const { db, file } = openDatabase(opts.dir, opts.cacheBytes);
    this.db = db;
    this.st = prepareStatements(db);
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
      initIdentity(this.db, this.st, this.dir, opts.name);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.log.reload(this.db);
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
          const s = this.log.of(docId);
          const seq = s.lastSeq + 1;
          const row = this.log.lastRow + 1;
          this.st.logInsert.run(row, docId, seq, update);
          // In-memory sizes change only after the insert succeeded; a failed transaction
          // rolls back both (we recompute from disk below).
          this.log.appended(s, row, update.byteLength);
          touched.add(docId);
          return seq;
        }),
      )(),
      () => this.log.reload(this.db),
    );
    for (const docId of touched) {
      if (shouldCompact(this.log.of(docId), this.policy)) this.compact(docId);
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
    for (const docId of this.log.toReclaim(this.policy.minDeadBytes)) this.compact(docId);
  }

  /** One pass over the whole log: every document's snapshot then its live rows, in order. */
  loadAll(): Map<string, Uint8Array[]> {
    return this.guard('load', () =>
      this.db.transaction(() => {
        const out = new Map<string, Uint8Array[]>();
        for (const id of this.log.docs.keys()) {
          const snap = this.st.snapGet.get(id) as Buffer | undefined;
          out.set(id, snap ? [toU8(snap)] : []);
        }
        for (const [id, seq, data] of this.st.logAll.iterate() as Iterable<[string, number, Buffer]>) {
          if (seq > (this.log.docs.get(id)?.uptoSeq ?? 0)) out.get(id)?.push(toU8(data));
        }
        return out;
      })(),
    );
  }

  loadDoc(docId: string): Uint8Array[] {
    // No live rows (compacted, as an unloaded document is): its snapshot alone, by key, without
    // scanning the log (loading an unloaded document on demand must stay cheap).
    if ((this.log.docs.get(docId)?.logEntries ?? 0) === 0) {
      const snap = this.guard('load', () => this.st.snapGet.get(docId) as Buffer | undefined);
      return snap ? [toU8(snap)] : [];
    }
    return this.guard('load', () => {
      // One read transaction so a concurrent compaction (same process) cannot split the view.
      return this.db.transaction(() => {
        const snap = this.st.snapGet.get(docId) as Buffer | undefined;
        const log = this.st.logRange.all(docId, this.log.docs.get(docId)?.uptoSeq ?? 0) as Buffer[];
        return [...(snap ? [snap] : []), ...log].map(toU8);
      })();
    });
  }

  docIds(): string[] {
    return [...this.log.docs.keys()].sort();
  }

  setSnapshotSource(source: SnapshotSource | undefined): void {
    this.snapshotSource = source;
  }

  compact(docId: string): boolean {
    const s = this.log.docs.get(docId);
    if (!s || s.logEntries === 0) return false;
    // The live document's encoding (cheap, garbage-collected) when a source vouches for it.
    const merged = this.snapshotSource?.(docId) ?? mergeForSnapshot(docId, this.loadDoc(docId));
    // The rows that may go with it: everything before the oldest live row of another document.
    const keepFrom = this.log.keepFrom(docId);
    const trim = keepFrom > this.log.trimmedBelow;
    this.guard('compact', () =>
      // Snapshot write and log trim in one transaction: a crash leaves either the old snapshot
      // and the rows after it, or the new one (which covers the rows it does not delete).
      this.db.transaction(() => {
        this.st.snapSet.run(docId, merged, s.lastSeq);
        if (trim) {
          const freed = this.st.logBytesBelow.get(keepFrom) as number;
          this.st.logDeleteBelow.run(keepFrom);
          this.log.diskLogBytes -= freed;
        }
      })(),
      () => this.log.reload(this.db),
    );
    if (trim) this.log.trimmedBelow = keepFrom;
    this.log.compacted(s, merged.byteLength);
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
    this.log.reload(this.db);
  }

  reclaim(docId: string, deferMaintain = false): void {
    this.compact(docId);
    const s = this.log.docs.get(docId);
    if (s) {
      // The rows the new snapshot covers go now, not when the log's prefix reaches them.
      this.guard('reclaim', () =>
        this.db.transaction(() => {
          this.log.diskLogBytes -= this.st.logBytesOfDoc.get(docId, s.uptoSeq) as number;
          this.st.logDeleteOfDoc.run(docId, s.uptoSeq);
        })(),
        () => this.log.reload(this.db),
      );
    }
    if (!deferMaintain) this.maintain();
  }

  maintain(): void {
    this.guard('maintenance', () => {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    });
    this.ckpt.reset();
  }

  diskBytes(): number {
    return dataFileBytes(this.dir);
  }

  docStats(docId: string): DocStorageStats {
    const s = this.log.docs.get(docId);
    return s ? { snapshotBytes: s.snapshotBytes, logBytes: s.logBytes, logEntries: s.logEntries, lastSeq: s.lastSeq } : { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0 };
  }

  /** Bytes of log rows on disk, and of those no snapshot covers yet (tests, metrics). */
  logSizes(): { diskBytes: number; liveBytes: number } {
    return { diskBytes: this.log.diskLogBytes, liveBytes: this.log.liveLogBytes };
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
  settings(): DatabaseSettings {
    return readSettings(this.db);
  }

  private meta(key: string): string | undefined {
    return this.st.metaGet.get(key) as string | undefined;
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
