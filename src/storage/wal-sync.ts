// fsync of SQLite's write-ahead log off the event loop. A group commit writes its transaction
// with synchronous = NORMAL (into the WAL, in the page cache: no fsync in the event loop), then
// asks for sync(): an fdatasync of the WAL file on libuv's thread pool. The promise resolves once
// every frame written before the call is on disk, which is when the node may acknowledge the
// batch. Meanwhile the event loop goes on: client frames, pushes to peers and their acks are
// handled while the disk works, instead of waiting behind a synchronous fsync of 2-20 ms.
//
// Why it is as durable as synchronous = FULL for what is acknowledged: SQLite's WAL recovery
// keeps a frame only with a valid checksum chain, and nothing is acknowledged before the
// fdatasync covering its frames returned. Checkpoints still fsync the WAL before copying it (what
// synchronous = NORMAL does). The WAL file keeps its inode while the database is open
// (journal_size_limit and wal_checkpoint(TRUNCATE) truncate it, never unlink it); fsync is per
// inode, so a descriptor opened here covers what SQLite wrote through its own.
//
// Syncs run one at a time, coalesced: callers that arrive while one runs share the next one.
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

export type Fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WalSync {
  /** Writes so far (a counter the store bumps after each unsynced commit). */
  private written = 0;
  /** Every write up to this count is on disk. */
  private synced = 0;
  private running = false;
  private waiters: Waiter[] = [];
  private fd: number | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly fsync: Fdatasync = fdatasync,
  ) {}

  /** The store wrote a transaction without syncing it. */
  wrote(): void {
    this.written++;
  }

  /** Something synced everything written so far (a commit with synchronous = FULL). */
  syncedAll(): void {
    this.synced = this.written;
    this.resolveUpTo(this.synced);
  }

  /** Writes not yet known to be on disk. */
  get unsynced(): number {
    return this.written - this.synced;
  }

  /** Resolves once every write made before this call is on disk; rejects if the fdatasync covering it failed. */
  sync(): Promise<void> {
    const upTo = this.written;
    if (upTo <= this.synced) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.run();
    });
  }

  close(): void {
    this.closed = true;
    if (this.fd !== undefined && !this.running) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private run(): void {
    if (this.running || this.waiters.length === 0) return;
    const covers = this.written;
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (err) {
      this.rejectUpTo(covers, err as Error);
      return;
    }
    this.running = true;
    this.fsync(fd, (err) => {
      this.running = false;
      if (this.closed && this.fd !== undefined) {
        closeSync(this.fd);
        this.fd = undefined;
      }
      if (err) this.rejectUpTo(covers, new Error(`fdatasync of ${this.path} failed: ${err.message}`));
      else {
        this.synced = Math.max(this.synced, covers);
        this.resolveUpTo(this.synced);
      }
      if (!this.closed) this.run();
      else this.rejectUpTo(Infinity, new Error('the store closed before the write-ahead log was synced'));
    });
  }

  private descriptor(): number {
    // Reopened if the file was replaced (it is not while SQLite has the database open; cheap to check).
    if (this.fd !== undefined && fstatSync(this.fd).nlink === 0) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.fd ??= openSync(this.path, 'r');
    return this.fd;
  }

  private resolveUpTo(n: number): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.upTo <= n) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private rejectUpTo(n: number, err: Error): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.upTo <= n) w.reject(err);
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
