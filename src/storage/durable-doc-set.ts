// A DocSet whose documents live in a NodeStore: loaded from it on open, and every change
// appended to it before the call that made the change returns. This is what makes the sync
// engine's `ack` honest: DocSet.apply returns only after the update is on disk.
//
// Remote updates are stored as received (raw), not as the 'update' event Yjs emits for them,
// because an update whose dependencies are missing integrates nothing yet and emits no event:
// storing only events would lose an acknowledged, still-pending update in a crash.
import * as Y from 'yjs';
import { YDocSet, type SchemaFor, type UpdateListener } from '../sync/ydoc-set.js';
import { isRemoteOrigin, type DocSet } from '../sync/types.js';
import type { AppendEntry, NodeStore } from './types.js';
import { Residency, type ResidencyOptions } from './residency.js';
import { traceNow, writeTrace } from '../util/write-trace.js';

/** Origin of updates replayed from disk, so they are not stored a second time. */
const FROM_DISK = Symbol('from-disk');

export class DurableDocSet implements DocSet {
  private readonly inner: YDocSet;
  /** Appends waiting for commit() while group commit is on (hold()). */
  private held: AppendEntry[] | undefined;
  /** Which documents are resident, and what is known of the unloaded ones (undefined: all stay resident). */
  private readonly residency: Residency | undefined;
  private readonly evictListeners: Array<(id: string) => void> = [];

  /** `schemaFor`: what remote updates to each document may contain (see YDocSet). `residency`: see residency.ts. */
  constructor(
    private readonly store: NodeStore,
    schemaFor?: SchemaFor,
    residency?: ResidencyOptions,
  ) {
    this.inner = new YDocSet(schemaFor);
    this.residency = residency ? new Residency(store, residency) : undefined;
    // Documents whose stored state vector and digest are current stay on disk (bounded residency).
    const toLoad = store.docIds().filter((id) => !this.residency?.adoptStored(id));
    const all = toLoad.length > 0 && toLoad.length * 2 >= store.docIds().length ? store.loadAll?.() : undefined;
    for (const id of toLoad) {
      // Disk content was validated when it arrived; replay it without a second validation pass.
      this.inner.load(id, all?.get(id) ?? store.loadDoc(id), FROM_DISK);
      this.residency?.touch(id);
    }
    this.inner.onLocalUpdate((id, update, origin) => {
      // Local writes are stored here; remote ones in apply(); replays not at all.
      if (origin !== FROM_DISK && !isRemoteOrigin(origin)) this.append(id, update);
    });
    // A document with no update held back holds exactly what the store holds, so its encoding
    // is the merged snapshot (compaction inside appendMany, or before unloading it).
    store.setSnapshotSource?.((id) => !this.isHeld(id) && this.inner.has(id) ? Y.encodeStateAsUpdate(this.inner.doc(id)) : undefined);
  }

  /**
   * Unloads idle documents until the resident ones fit the memory budget (no-op without one);
   * returns how many went. A document with updates held for a group commit stays (its live
   * state is ahead of the store); the others may go. Skipping the whole pass whenever anything
   * was held meant a steady load (always something held) unloaded nothing for seconds on end.
   */
  evictIdle(): number {
    if (!this.residency) return 0;
    const held = new Set(this.held?.map((e) => e.docId));
    return this.residency.evict(
      this.inner,
      (id) => {
        for (const cb of this.evictListeners) cb(id);
      },
      (id) => held.has(id),
    );
  }

  /** Unloads `id` now, whatever the budget (no-op without residency, or while it must stay); true if it went. */
  unload(id: string): boolean {
    if (!this.residency) return false;
    const held = new Set(this.held?.map((e) => e.docId));
    return this.residency.unload(this.inner, id, (gone) => {
      for (const cb of this.evictListeners) cb(gone);
    }, (d) => held.has(d));
  }

  /** Calls `cb` after a document was unloaded (holders of its Y.Doc must drop it). */
  onEvict(cb: (id: string) => void): void {
    this.evictListeners.push(cb);
  }

  /** The document resident, loaded from the store if it was unloaded. */
  private ensure(id: string): void {
    this.residency?.touch(id);
    if (!this.residency?.isEvicted(id)) return;
    this.inner.load(id, this.store.loadDoc(id), FROM_DISK);
    this.residency.loaded(id);
  }

  /**
   * Group commit: from now on appends wait in memory until commit() writes them all in one
   * transaction (one fsync). The caller must not let anything depend on a held update being
   * durable (send an acknowledgement, resolve a write) before commit() returned.
   */
  hold(): void {
    this.held ??= [];
  }

  private isHeld(id: string): boolean {
    return this.held !== undefined && this.held.some((e) => e.docId === id);
  }

  /** Updates held and not yet committed. */
  heldCount(): number {
    return this.held?.length ?? 0;
  }

  /** Writes the held updates in one transaction (one fsync); appends stay held. Throws StorageError. */
  commit(): void {
    if (!this.held || this.held.length === 0) return;
    const batch = this.held;
    this.held = [];
    this.store.appendMany(batch);
  }

  /**
   * Group commit with the fsync off the event loop (stores with appendManyThenSync; others commit
   * as commit() does and call back at once): writes the held updates in one transaction now and
   * calls `durable` once they, and everything committed before them, are on disk, or with the
   * error (a failed transaction calls it at once). Callbacks come in call order. With nothing
   * held it still waits for the syncs of earlier batches (an ack of a duplicate must not overtake
   * the sync of the original).
   */
  commitThen(durable: (err?: Error) => void): void {
    const batch = this.held ?? [];
    if (this.held) this.held = [];
    const sync = this.store.appendManyThenSync?.bind(this.store);
    if (!sync) {
      try {
        if (batch.length > 0) this.store.appendMany(batch);
      } catch (err) {
        durable(err as Error);
        return;
      }
      durable();
      return;
    }
    if (batch.length === 0 && this.unsynced === 0) {
      durable();
      return;
    }
    this.unsynced++;
    const t0 = writeTrace && traceNow();
    writeTrace?.add('commit.updatesPerBatch', batch.length);
    try {
      sync(batch, (err) => {
        if (t0 !== undefined) writeTrace?.since('commit.toDurable', t0);
        this.unsynced--;
        durable(err);
      });
    } catch (err) {
      this.unsynced--; // the transaction failed: nothing was written, no callback comes
      durable(err as Error);
    }
  }
  /** commitThen batches whose sync has not called back yet. */
  private unsynced = 0;

  /**
   * True when the store syncs off the event loop and no sync runs or waits: a commitThen now
   * starts its fsync at once, so committing before the turn ends saves time; while a sync runs
   * the batch would only wait for the next one, so it may as well gather the whole turn.
   */
  syncIdle(): boolean {
    return this.unsynced === 0 && (this.store.syncIdle?.() ?? false);
  }

  /** Commits what is held and turns group commit off: appends are stored at once again. */
  release(): void {
    this.commit();
    this.held = undefined;
  }

  private append(docId: string, update: Uint8Array): void {
    if (this.held) this.held.push({ docId, update });
    else this.store.append(docId, update);
  }

  /** The document, for local reads and writes (writes are stored on their 'update' event); loaded if it was unloaded. */
  doc(id: string): Y.Doc {
    this.ensure(id);
    return this.inner.doc(id);
  }

  /** Whether the document is held here, resident or not. */
  has(id: string): boolean {
    return this.inner.has(id) || this.residency?.isEvicted(id) === true;
  }

  /**
   * Removes a document from memory and from the store (handoff gave it to its new replica set).
   * Returns false, doing nothing, while updates of it are held for a group commit (try later).
   * Holders of its Y.Doc are told as for an unloaded document (onEvict).
   */
  drop(id: string): boolean {
    if (this.isHeld(id)) return false;
    if (!this.has(id)) return true;
    this.inner.unload(id);
    this.residency?.forget(id);
    if (this.store.dropDoc) this.store.dropDoc(id);
    for (const cb of this.evictListeners) cb(id);
    return true;
  }

  /** What the store holds of `id` (bytes of its snapshot and log). */
  storageStats(id: string): { snapshotBytes: number; logBytes: number } {
    return this.store.docStats(id);
  }

  /** Every document, resident or not. */
  ids(): string[] {
    const resident = this.inner.ids();
    return this.residency ? [...resident, ...this.residency.evictedIds()] : resident;
  }
  /** Whether `id` is held as a live Y.Doc now. */
  isResident(id: string): boolean {
    return this.inner.has(id);
  }
  /** What the store holds of a document that is not resident (its snapshot and log rows, for a decode elsewhere); undefined when resident. */
  storedParts(id: string): Uint8Array[] | undefined {
    return this.residency?.isEvicted(id) ? this.store.loadDoc(id) : undefined;
  }
  /** Documents held as live Y.Docs in memory now. */
  residentCount(): number {
    return this.inner.ids().length;
  }
  /** The resident documents' ids. */
  residentIds(): string[] {
    return this.inner.ids();
  }
  /** Calls `cb` with every document made resident from now on (see YDocSet.onDocCreated). */
  onDocCreated(cb: (id: string, doc: Y.Doc) => void): void {
    this.inner.onDocCreated(cb);
  }
  /**
   * Rewrites what the store holds for `id` from the live (garbage-collected) document, so deleted
   * content leaves the data directory (forget). Returns false, doing nothing, while updates are
   * held for a group commit (the snapshot must cover everything the document holds; try later).
   * `prepare` runs on the live document first (folding its tombstones: tombstone-fold.ts).
   * `deferMaintain`: see NodeStore.reclaim (the caller runs the store's maintain() after a batch).
   */
  reclaim(id: string, prepare?: (doc: Y.Doc) => void, deferMaintain = false): boolean {
    if (this.heldCount() > 0) return false;
    if (this.residency?.isEvicted(id)) this.ensure(id); // the snapshot is written from the live document
    if (!this.inner.has(id)) return true;
    prepare?.(this.inner.doc(id));
    if (this.store.reclaim) this.store.reclaim(id, deferMaintain);
    else this.store.compact(id);
    return true;
  }
  stateVector(id: string): Uint8Array {
    return this.residency?.stored(id)?.sv ?? this.inner.stateVector(id);
  }
  diff(id: string, remoteSV: Uint8Array): Uint8Array {
    this.ensure(id);
    return this.inner.diff(id, remoteSV);
  }

  apply(id: string, update: Uint8Array, origin: unknown): { pending: boolean } {
    this.ensure(id);
    const r = this.inner.apply(id, update, origin);
    // A duplicate that changed nothing and left nothing pending is already on disk.
    if (r.changed || r.pending) this.append(id, update);
    if (r.pending) for (const l of this.pendingListeners) l(id);
    return { pending: r.pending };
  }

  /**
   * Called when a remote update is stored but waits on missing dependencies: its structs
   * integrate later, inside the transaction of another update, whose event does not carry them.
   */
  onPending(cb: (id: string) => void): void {
    this.pendingListeners.push(cb);
  }
  private readonly pendingListeners: Array<(id: string) => void> = [];

  digest(id: string): Uint8Array {
    return this.residency?.stored(id)?.digest ?? this.inner.digest(id);
  }
  onLocalUpdate(cb: UpdateListener): void {
    this.inner.onLocalUpdate(cb);
  }
}
