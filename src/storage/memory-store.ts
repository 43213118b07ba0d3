// NodeStore in memory, for the simulator and unit tests: same semantics as SqliteStore (sequence
// numbers, compaction policy, identity, incarnation) without a disk, so a simulated node that
// "restarts" with the same MemoryStore sees what a real node would see after a clean restart.
import { StorageError } from '../errors.js';
import { mergeForSnapshot } from './merge.js';
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

interface MemDoc {
  snapshot: Uint8Array | undefined;
  log: Array<{ seq: number; update: Uint8Array }>;
  logBytes: number;
  lastSeq: number;
}

export interface MemoryStoreOptions {
  /** Deterministic id for simulated nodes (the simulator derives it from its seed). */
  nodeId: string;
  name: string;
  compaction?: CompactionPolicy;
}

export class MemoryStore implements NodeStore {
  private readonly docs = new Map<string, MemDoc>();
  private readonly kv = new Map<string, string>();
  private readonly ident: NodeIdentity;
  private inc = 0;
  private closed = false;
  private readonly policy: CompactionPolicy;
  private snapshotSource: SnapshotSource | undefined;

  constructor(opts: MemoryStoreOptions) {
    this.ident = { nodeId: opts.nodeId, name: opts.name };
    this.policy = opts.compaction ?? DEFAULT_COMPACTION;
  }

  identity(): NodeIdentity {
    return { ...this.ident };
  }
  setName(name: string): void {
    this.ident.name = name;
  }
  incarnation(): number {
    return this.inc;
  }
  bumpIncarnation(): number {
    return ++this.inc;
  }

  append(docId: string, update: Uint8Array): number {
    // appendMany for one entry, without its arrays and set (one call per replicated update).
    this.checkOpen();
    const seq = this.push(docId, update);
    if (shouldCompact(this.docStats(docId), this.policy)) this.compact(docId);
    return seq;
  }

  appendMany(entries: readonly AppendEntry[]): number[] {
    this.checkOpen();
    const seqs = entries.map(({ docId, update }) => this.push(docId, update));
    for (const docId of new Set(entries.map((e) => e.docId))) {
      if (shouldCompact(this.docStats(docId), this.policy)) this.compact(docId);
    }
    return seqs;
  }

  private push(docId: string, update: Uint8Array): number {
    const doc = this.doc(docId, true)!;
    const seq = ++doc.lastSeq;
    // Copy: the caller may reuse its buffer, and a store must not change under it.
    doc.log.push({ seq, update: update.slice() });
    doc.logBytes += update.byteLength;
    return seq;
  }

  loadDoc(docId: string): Uint8Array[] {
    const doc = this.doc(docId, false);
    if (!doc) return [];
    const out = doc.snapshot ? [doc.snapshot] : [];
    for (const e of doc.log) out.push(e.update);
    return out;
  }

  docIds(): string[] {
    return [...this.docs.keys()].sort();
  }

  setSnapshotSource(source: SnapshotSource | undefined): void {
    this.snapshotSource = source;
  }

  compact(docId: string): boolean {
    const doc = this.doc(docId, false);
    if (!doc || doc.log.length === 0) return false;
    // The live document's encoding is much cheaper than merging the log (Y.mergeUpdates), and
    // garbage-collected, so smaller.
    doc.snapshot = this.snapshotSource?.(docId) ?? mergeForSnapshot(docId, this.loadDoc(docId));
    doc.log = [];
    doc.logBytes = 0;
    return true;
  }

  dropDoc(docId: string): void {
    this.checkOpen();
    this.docs.delete(docId);
  }

  docStats(docId: string): DocStorageStats {
    const doc = this.doc(docId, false);
    return {
      snapshotBytes: doc?.snapshot?.byteLength ?? 0,
      logBytes: doc?.logBytes ?? 0,
      logEntries: doc?.log.length ?? 0,
      lastSeq: doc?.lastSeq ?? 0,
    };
  }

  kvGet(key: string): string | undefined {
    return this.kv.get(key);
  }
  kvSet(key: string, value: string): void {
    this.checkOpen();
    this.kv.set(key, value);
  }
  kvDelete(key: string): void {
    this.kv.delete(key);
  }
  kvList(prefix: string): Array<[string, string]> {
    return [...this.kv.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  close(): void {
    this.closed = true;
  }

  private doc(docId: string, create: boolean): MemDoc | undefined {
    let doc = this.docs.get(docId);
    if (!doc && create) {
      doc = { snapshot: undefined, log: [], logBytes: 0, lastSeq: 0 };
      this.docs.set(docId, doc);
    }
    return doc;
  }

  private checkOpen(): void {
    // A simulated crash closes the store; writes after that would be a bug in the simulator.
    if (this.closed) throw new StorageError('MemoryStore used after close(): reopen the node with a fresh store');
  }
}
