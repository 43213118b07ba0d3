// fsync off the event loop. A commit under synchronous = NORMAL (WAL mode) only write()s its
// frames into the write-ahead log; an fdatasync of that file started after the write makes them
// durable. WalSync runs those fdatasyncs on libuv's thread pool, up to `overlap` at once: a request
// made while one runs starts its own at once instead of waiting for the running one to finish and
// then for a whole next one (on the loaded 2-core machine each sync round trip costs two thread
// wake-ups of ~20 ms run-queue wait each, so "wait for the next" was most of a write's latency).
// Requests made while `overlap` syncs run share the next one. Callbacks come in request order: a
// sync that returns covers every batch requested before it started (their frames were written
// before it began), so it settles those of earlier syncs still running too. The event loop keeps
// receiving, applying and committing while the disk syncs; callers act on durability (send an
// ack, resolve a write) only in the callback.
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';
import { traceNow, writeTrace } from '../util/write-trace.js';

export type SyncDone = (err?: Error) => void;

/** Syncs at once by default: enough that a request never waits for a running one (libuv has 4 threads). */
export const DEFAULT_SYNC_OVERLAP = 2;

/** The callbacks one fdatasync settles (those requested before it started). */
interface Round {
  callbacks: SyncDone[];
}

export class WalSync {
  private fd: number | undefined;
  /** Descriptors replaced while syncs ran on them: closed once none runs. */
  private stale: number[] = [];
  /** Syncs started and not yet settled, oldest first. */
  private rounds: Round[] = [];
  /** fdatasync calls not yet returned (a round settled by a later one may still run). */
  private running = 0;
  /** Callbacks waiting for a sync to start. */
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

  /**
   * `walFile`: the write-ahead log (never the database file: see open()); `sync`: fs.fdatasync
   * (tests inject failures); `overlap`: most fdatasyncs running at once (1: one at a time).
   */
  constructor(
    private readonly walFile: string,
    private readonly sync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync,
    private readonly overlap = DEFAULT_SYNC_OVERLAP,
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
    if (this.running < this.overlap) this.start();
  }

  /** True when no sync runs or waits: every commit that requested one is on disk. */
  idle(): boolean {
    return this.rounds.length === 0 && this.next.length === 0;
  }

  /** Requests waiting or running (a bound for tests: none are lost). */
  waiting(): number {
    return this.rounds.reduce((a, r) => a + r.callbacks.length, 0) + this.next.length;
  }

  /**
   * Stops: waiting callbacks get an error (the caller syncs what it committed some other way,
   * as close() of SQLite does). Running fdatasyncs finish on their own and are discarded.
   */
  close(): void {
    this.closed = true;
    const all = [...this.rounds.flatMap((r) => r.callbacks), ...this.next];
    this.rounds = [];
    this.next = [];
    if (this.running === 0) this.closeFds();
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
    const round: Round = { callbacks: this.next };
    this.next = [];
    this.rounds.push(round);
    this.running++;
    this.syncs++;
    const t0 = writeTrace && traceNow();
    this.sync(fd, (err) => {
      this.running--;
      if (writeTrace && t0 !== undefined) {
        writeTrace.since('walsync.fdatasync', t0);
        writeTrace.add('walsync.running', this.running + 1);
      }
      if (this.closed) {
        if (this.running === 0) this.closeFds();
        return;
      }
      if (this.running === 0) this.closeStale();
      if (err && !this.failed) this.failed = new Error(`fsync of the write-ahead log ${this.walFile} failed (${err.message}): nothing since the last good sync is acknowledged; restart the node`);
      if (this.failed) {
        // Every batch not yet settled fails, those of syncs still running too (fsyncgate).
        const all = [...this.rounds.flatMap((r) => r.callbacks), ...this.next];
        this.rounds = [];
        this.next = [];
        for (const cb of all) cb(this.failed);
        return;
      }
      // This sync covers its own round and every earlier one (settled already if it returned first).
      const at = this.rounds.indexOf(round);
      const done = at < 0 ? [] : this.rounds.splice(0, at + 1);
      for (const r of done) for (const cb of r.callbacks) cb();
      if (this.next.length > 0 && this.running < this.overlap) this.start();
    });
  }

  private closeFds(): void {
    this.closeStale();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private closeStale(): void {
    for (const fd of this.stale.splice(0)) closeSync(fd);
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
    // A sync may still run on the old descriptor: close it once none does.
    if (this.fd !== undefined) {
      if (this.running > 0) this.stale.push(this.fd);
      else closeSync(this.fd);
    }
    this.fd = undefined;
    this.fd = openSync(this.walFile, 'r');
    return this.fd;
  }
}
