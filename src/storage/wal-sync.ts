// fsync off the event loop. A commit under synchronous = NORMAL (WAL mode) only write()s its
// frames into the write-ahead log; an fdatasync of that file started after the write makes them
// durable. WalSync runs that fdatasync on libuv's thread pool, one at a time: a request made while
// one runs waits for the next (its frames may have been written after the running one started),
// so every batch committed meanwhile shares one fsync, as etcd's WAL pipeline does. The event
// loop keeps receiving, applying and committing while the disk syncs; callers act on durability
// (send an ack, resolve a write) only in the callback.
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';
import { traceNow, writeTrace } from '../util/write-trace.js';

export type SyncDone = (err?: Error) => void;

export class WalSync {
  private fd: number | undefined;
  private running = false;
  /** Callbacks of the sync running now (their frames were written before it started). */
  private inFlight: SyncDone[] = [];
  /** Callbacks waiting for the next sync. */
  private next: SyncDone[] = [];
  private closed = false;
  /** Syncs started (tests, metrics: one per batch of commits, not per commit). */
  syncs = 0;

  /**
   * The first failed sync. It fails every later one too: after an fsync error the kernel may have
   * dropped the dirty pages and reports the error once, so a later sync that succeeds proves
   * nothing about the earlier frames (PostgreSQL's "fsyncgate"). The node must restart.
   */
  private failed: Error | undefined;

  /** `walFile`: the write-ahead log (never the database file: see open()); `sync`: fs.fdatasync (tests inject failures). */
  constructor(
    private readonly walFile: string,
    private readonly sync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {}

  /** Calls `done` once everything written to the log before this call is on disk (or with the error). */
  request(done: SyncDone): void {
    if (this.closed || this.failed) {
      done(this.failed ?? new Error('the store is closed'));
      return;
    }
    if (writeTrace) {
      const t0 = traceNow();
      const inner = done;
      done = (err) => {
        writeTrace?.since('walsync.requestToSynced', t0);
        inner(err);
      };
    }
    this.next.push(done);
    if (!this.running) this.start();
  }

  /** True when no sync runs or waits: every commit that requested one is on disk. */
  idle(): boolean {
    return !this.running && this.next.length === 0;
  }

  /** Requests waiting or running (a bound for tests: none are lost). */
  waiting(): number {
    return this.inFlight.length + this.next.length;
  }

  /**
   * Stops: waiting callbacks get an error (the caller syncs what it committed some other way,
   * as close() of SQLite does). The running fdatasync finishes on its own and is discarded.
   */
  close(): void {
    this.closed = true;
    const all = [...this.inFlight, ...this.next];
    this.inFlight = [];
    this.next = [];
    if (this.fd !== undefined && !this.running) closeSync(this.fd);
    for (const cb of all) cb(new Error('the store closed before the commit was synced'));
  }

  private start(): void {
    let fd: number;
    try {
      fd = this.open();
    } catch (err) {
      const all = this.next;
      this.next = [];
      for (const cb of all) cb(err as Error);
      return;
    }
    this.running = true;
    this.inFlight = this.next;
    this.next = [];
    this.syncs++;
    const t0 = writeTrace && traceNow();
    this.sync(fd, (err) => {
      this.running = false;
      if (writeTrace && t0 !== undefined) {
        writeTrace.since('walsync.fdatasync', t0);
        writeTrace.add('walsync.batchesPerSync', this.inFlight.length);
      }
      if (this.closed) {
        closeSync(fd);
        return;
      }
      if (err) this.failed = new Error(`fsync of the write-ahead log ${this.walFile} failed (${err.message}): nothing since the last good sync is acknowledged; restart the node`);
      const done = this.inFlight;
      const waiting = this.failed ? this.next : [];
      this.inFlight = [];
      if (this.failed) this.next = [];
      for (const cb of [...done, ...waiting]) cb(this.failed);
      if (this.next.length > 0) this.start();
    });
  }

  /**
   * The log's descriptor. SQLite keeps the log file while its connection is open (WAL mode with
   * an exclusive lock truncates it at a checkpoint, never deletes it), but a descriptor whose
   * file was unlinked (no links left) would sync nothing, so that is checked before each sync.
   * No log file at all fails the sync (nothing is acknowledged) rather than opening the database
   * file: closing a second descriptor of it would drop SQLite's POSIX locks on it.
   */
  private open(): number {
    if (this.fd !== undefined && fstatSync(this.fd).nlink > 0) return this.fd;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.fd = openSync(this.walFile, 'r');
    return this.fd;
  }
}
