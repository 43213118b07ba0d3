// Checkpoints of the write-ahead log without an fsync on the event loop. SQLite's automatic
// checkpoint runs inside the commit that crosses its threshold and, under synchronous = NORMAL,
// fsyncs the log and then the database file there: the event loop stood still for 7 ms on a
// quiet disk and 24-70 ms on the loaded bench machine, every few hundred commits, on every node.
//
// Here the store turns the automatic checkpoint off and the group-commit path checkpoints itself:
// 1. once due, new group-commit batches wait in memory (they are not acknowledged yet anyway);
// 2. once every frame in the log is on disk (no log sync running or waiting), the checkpoint
//    copies the log into the database file with synchronous = OFF (no fsync, a few page writes);
// 3. the database file is fdatasynced on the thread pool; only then do the waiting batches
//    commit. SQLite rewrites the log from its start at the first commit after a complete
//    checkpoint, so no commit may happen before the copied pages are durable: otherwise a power
//    loss could find the log overwritten and the pages it held not yet in the database file.
// Any other access to the store in between (a read, a write under FULL) settles first: it
// commits the waiting batches before the checkpoint, or waits for the database file's sync.
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import type { AppendEntry } from './types.js';
import type { SyncDone } from './wal-sync.js';

/** What the checkpointer needs from the store. */
export interface CheckpointHost {
  /** Whether every commit so far is on disk (no sync of the log running or waiting). */
  logSynced(): boolean;
  /** Copies the whole log into the database file, with no fsync of either. */
  checkpointNoSync(): void;
  /** Commits a batch now and requests the log's sync (appendManyThenSync); throws StorageError. */
  commitNow(entries: readonly AppendEntry[], synced: SyncDone): void;
}

export interface CheckpointPolicy {
  /** A checkpoint is due after this many commits ... */
  commits: number;
  /** ... or this many bytes of appended updates since the last one, whichever first. */
  bytes: number;
}

/** About what SQLite's default (1,000 pages of log) amounts to for small group commits. */
export const DEFAULT_CHECKPOINT: CheckpointPolicy = { commits: 400, bytes: 4 << 20 };

type Phase = 'idle' | 'draining' | 'syncing-db';

export class WalCheckpointer {
  private phase: Phase = 'idle';
  private commits = 0;
  private bytes = 0;
  private queued: Array<{ entries: readonly AppendEntry[]; synced: SyncDone }> = [];
  private fd: number | undefined;
  private failed: Error | undefined;
  private closed = false;
  /** Which database-file sync is the current one (a late callback of an earlier one is ignored). */
  private round = 0;
  /** Checkpoints done this way (tests, metrics). */
  checkpoints = 0;

  /** `dbFile`: the database file; `sync`/`syncNow`: fs.fdatasync and fdatasyncSync (tests inject delays and failures). */
  constructor(
    private readonly host: CheckpointHost,
    private readonly dbFile: string,
    private readonly policy: CheckpointPolicy = DEFAULT_CHECKPOINT,
    private readonly sync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync,
    private readonly syncNow: (fd: number) => void = fdatasyncSync,
  ) {}

  /** Counts a commit of `bytes` of updates (every path); true when a checkpoint is due. */
  counted(bytes: number): boolean {
    this.commits++;
    this.bytes += bytes;
    return this.due();
  }

  due(): boolean {
    return this.commits >= this.policy.commits || this.bytes >= this.policy.bytes;
  }

  /** A checkpoint was done some other way (inline under FULL, or a TRUNCATE one). */
  reset(): void {
    this.commits = 0;
    this.bytes = 0;
  }

  /** Whether a group-commit batch must wait now (commit() queues it). */
  holding(): boolean {
    return this.phase !== 'idle' || this.failed !== undefined;
  }

  /** A group-commit batch: queued while a checkpoint is under way, committed now otherwise. */
  commit(entries: readonly AppendEntry[], synced: SyncDone): void {
    if (this.failed) {
      const err = this.failed;
      queueMicrotask(() => synced(err));
      return;
    }
    if (this.phase === 'idle') {
      this.host.commitNow(entries, synced);
      return;
    }
    this.queued.push({ entries, synced });
  }

  /** Called after every commit and every log sync (with its error): moves the checkpoint on when it can. */
  poke(logErr?: Error): void {
    if (this.closed || this.failed) return;
    if (logErr) return this.fail(logErr); // the log's sync failed: the batches waiting here never will be acknowledged
    if (this.phase === 'idle' && this.due()) this.phase = 'draining';
    if (this.phase !== 'draining' || !this.host.logSynced()) return;
    try {
      this.host.checkpointNoSync();
      this.fd = this.open();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.reset();
    this.checkpoints++;
    this.phase = 'syncing-db';
    const round = ++this.round;
    this.sync(this.fd, (err) => {
      if (this.phase !== 'syncing-db' || round !== this.round || this.closed) return; // settle() synced it meanwhile
      if (err) return this.fail(err);
      this.phase = 'idle';
      this.release();
    });
  }

  /**
   * Before any other access to the store: commits the waiting batches (before the checkpoint),
   * or finishes the database file's sync on this thread first (rare: a read or a FULL write
   * during the few milliseconds of that sync). Throws the sync's error.
   */
  settle(): void {
    if (this.failed) throw this.failed;
    if (this.phase === 'syncing-db') {
      try {
        this.syncNow(this.fd!);
      } catch (err) {
        this.fail(err as Error);
        throw this.failed!;
      }
      this.phase = 'idle';
    }
    this.release();
  }

  /** Waiting batches are committed (the store closes after; its close checkpoints with fsync). */
  close(): void {
    try {
      if (!this.failed) this.settle();
    } finally {
      this.closed = true;
      this.phase = 'idle';
    }
  }

  /** Closes the database file's descriptor: only after SQLite closed it (POSIX locks, see open()). */
  releaseFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The waiting batches, committed as one (callbacks in order, after that commit's sync). */
  private release(): void {
    if (this.queued.length === 0) return;
    const batches = this.queued;
    this.queued = [];
    const entries = batches.flatMap((b) => b.entries);
    try {
      this.host.commitNow(entries, (err) => {
        for (const b of batches) b.synced(err);
      });
    } catch (err) {
      for (const b of batches) b.synced(err as Error);
    }
  }

  /** As WalSync: after a failed fsync nothing later is trusted; the node must restart. */
  private fail(err: Error): void {
    this.failed = new Error(`checkpoint of ${this.dbFile} failed (${err.message}): nothing since is acknowledged; restart the node`);
    this.phase = 'idle';
    const waiting = this.queued;
    this.queued = [];
    for (const b of waiting) b.synced(this.failed);
  }

  /**
   * The database file's descriptor, kept open until close(): closing any descriptor of the file
   * would drop SQLite's POSIX locks on it (see WalSync.open).
   */
  private open(): number {
    this.fd ??= openSync(this.dbFile, 'r');
    return this.fd;
  }
}
