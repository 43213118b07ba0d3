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

/** Origin of updates replayed from disk, so they are not stored a second time. */
const FROM_DISK = Symbol('from-disk');

export class DurableDocSet implements DocSet {
  private readonly inner: YDocSet;
  /** Appends waiting for commit() while group commit is on (hold()). */
  private held: AppendEntry[] | undefined;

  /** `schemaFor`: what remote updates to each document may contain (see YDocSet). */
  constructor(
    private readonly store: NodeStore,
    schemaFor?: SchemaFor,
  ) {
    this.inner = new YDocSet(schemaFor);
    const all = store.loadAll?.();
    for (const id of store.docIds()) {
      const doc = this.inner.doc(id);
      // Disk content was validated when it arrived; replay it without a second validation pass.
      for (const part of all?.get(id) ?? store.loadDoc(id)) Y.applyUpdate(doc, part, FROM_DISK);
    }
    this.inner.onLocalUpdate((id, update, origin) => {
      // Local writes are stored here; remote ones in apply(); replays not at all.
      if (origin !== FROM_DISK && !isRemoteOrigin(origin)) this.append(id, update);
    });
    // Compaction happens inside appendMany, when nothing is held back: then each document
    // holds exactly what the store holds, and its encoding is the merged snapshot.
    store.setSnapshotSource?.((id) => (this.held === undefined || this.held.length === 0) && this.inner.has(id) ? Y.encodeStateAsUpdate(this.inner.doc(id)) : undefined);
  }

  /**
   * Group commit: from now on appends wait in memory until commit() writes them all in one
   * transaction (one fsync). The caller must not let anything depend on a held update being
   * durable (send an acknowledgement, resolve a write) before commit() returned.
   */
  hold(): void {
    this.held ??= [];
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

  /** Commits what is held and turns group commit off: appends are stored at once again. */
  release(): void {
    this.commit();
    this.held = undefined;
  }

  private append(docId: string, update: Uint8Array): void {
    if (this.held) this.held.push({ docId, update });
    else this.store.append(docId, update);
  }

  /** The document, for local reads and writes (writes are stored on their 'update' event). */
  doc(id: string): Y.Doc {
    return this.inner.doc(id);
  }

  ids(): string[] {
    return this.inner.ids();
  }
  /** Documents held as live Y.Docs in memory now. */
  residentCount(): number {
    return this.inner.ids().length;
  }
  /** Calls `cb` with every document created from now on (see YDocSet.onDocCreated). */
  onDocCreated(cb: (id: string, doc: Y.Doc) => void): void {
    this.inner.onDocCreated(cb);
  }
  /**
   * Rewrites what the store holds for `id` from the live (garbage-collected) document, so deleted
   * content leaves the data directory (forget). Returns false, doing nothing, while updates are
   * held for a group commit (the snapshot must cover everything the document holds; try later).
   */
  reclaim(id: string): boolean {
    if (this.heldCount() > 0) return false;
    if (!this.inner.has(id)) return true;
    if (this.store.reclaim) this.store.reclaim(id);
    else this.store.compact(id);
    return true;
  }
  stateVector(id: string): Uint8Array {
    return this.inner.stateVector(id);
  }
  diff(id: string, remoteSV: Uint8Array): Uint8Array {
    return this.inner.diff(id, remoteSV);
  }

  apply(id: string, update: Uint8Array, origin: unknown): { pending: boolean } {
    const r = this.inner.apply(id, update, origin);
    // A duplicate that changed nothing and left nothing pending is already on disk.
    if (r.changed || r.pending) this.append(id, update);
    return { pending: r.pending };
  }

  digest(id: string): Uint8Array {
    return this.inner.digest(id);
  }
  onLocalUpdate(cb: UpdateListener): void {
    this.inner.onLocalUpdate(cb);
  }
}
