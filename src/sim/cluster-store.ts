// One life's handle on a simulated node's durable store. A node closes its store when it stops or
// crashes; the MemoryStore behind the handle stays open, so the next life (SimCluster.restart)
// opens a new handle over the same data, as a real node reopens its data directory. A closed
// handle refuses writes, so a node's previous life can never write into the next one's data.
import { StorageError } from '../errors.js';
import type { MemoryStore } from '../storage/memory-store.js';
import type { AppendEntry, DocStorageStats, NodeIdentity, NodeStore, SnapshotSource } from '../storage/types.js';

export class SimStoreHandle implements NodeStore {
  private closed = false;

  constructor(private readonly inner: MemoryStore) {}

  identity(): NodeIdentity {
    return this.inner.identity();
  }
  setName(name: string): void {
    this.check();
    this.inner.setName(name);
  }
  incarnation(): number {
    return this.inner.incarnation();
  }
  bumpIncarnation(): number {
    this.check();
    return this.inner.bumpIncarnation();
  }
  append(docId: string, update: Uint8Array): number {
    this.check();
    return this.inner.append(docId, update);
  }
  appendMany(entries: readonly AppendEntry[]): number[] {
    this.check();
    return this.inner.appendMany(entries);
  }
  loadDoc(docId: string): Uint8Array[] {
    return this.inner.loadDoc(docId);
  }
  docIds(): string[] {
    return this.inner.docIds();
  }
  compact(docId: string): boolean {
    this.check();
    return this.inner.compact(docId);
  }
  setSnapshotSource(source: SnapshotSource | undefined): void {
    // Compaction from the live (garbage-collected) document, as on a real node: what a forget
    // deleted leaves the store's snapshot too.
    if (!this.closed) this.inner.setSnapshotSource(source);
  }
  docStats(docId: string): DocStorageStats {
    return this.inner.docStats(docId);
  }
  kvGet(key: string): string | undefined {
    return this.inner.kvGet(key);
  }
  kvSet(key: string, value: string): void {
    this.check();
    this.inner.kvSet(key, value);
  }
  kvDelete(key: string): void {
    this.check();
    this.inner.kvDelete(key);
  }
  kvList(prefix: string): Array<[string, string]> {
    return this.inner.kvList(prefix);
  }
  close(): void {
    if (!this.closed) this.inner.setSnapshotSource(undefined); // the next life registers its own
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StorageError('simulated store used after its node stopped or crashed');
  }
}
