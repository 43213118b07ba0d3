// Bounded residency: which replicated documents are held as live Y.Docs, and what is known of the
// others without loading them. A document unused for `idleMs` is unloaded once the resident ones
// exceed the memory budget (least recently used first); what the sync engine asks of an unloaded
// document (its state vector and digest) is answered from what was recorded when it was unloaded,
// so an idle, in-sync anti-entropy round loads nothing. That record is also stored (kv
// `docmeta/<id>`, with the document's last sequence number), so a restart adopts it instead of
// loading the document: start-up time does not grow with the documents held. A record whose
// sequence number is behind the store (the document changed after it was written, then the node
// crashed) is ignored and the document loaded.
import type { YDocSet } from '../sync/ydoc-set.js';
import type { NodeStore } from './types.js';

export interface ResidencyOptions {
  /** Bytes of memory the resident documents may take, estimated from their stored size. */
  budgetBytes: number;
  /** A document used more recently than this is unloaded last, and only if small (default 2 s). */
  idleMs?: number;
  /** Milliseconds on the node's clock. */
  now: () => number;
  /** Documents that may be unloaded (the node keeps its task table resident). */
  evictable: (id: string) => boolean;
}

/** Default memory budget of a node's documents (`tri node start --memory-budget`). */
export const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;
/**
 * A resident Y.Doc takes about this many times its stored size, plus a fixed cost per document
 * (its Y.Doc, wrapper and observers). Measured with `node --expose-gc dist/bench/doc-cost.js`
 * (bench/results/doc-cost.json): the soak's small episodes take 22-26x their encoded size in heap
 * (about 5.5 KB per episode), a one-episode document 8-10 KB.
 */
const RESIDENT_FACTOR = 26;
const RESIDENT_BASE_BYTES = 10 * 1024;
/** A document used within idleMs is unloaded under pressure only if it is at most this share of the budget (1/8). */
const HOT_SHARE = 8;
/** Documents unloaded per call at most (each records its state in one small store write). */
const MAX_EVICT_PER_CALL = 256;
const META_PREFIX = 'docmeta/';

interface Stored {
  sv: Uint8Array;
  digest: Uint8Array;
}

export class Residency {
  private readonly evicted = new Map<string, Stored>();
  private readonly lastUsed = new Map<string, number>();
  private readonly idleMs: number;

  constructor(
    private readonly store: NodeStore,
    private readonly o: ResidencyOptions,
  ) {
    this.idleMs = o.idleMs ?? 2_000;
  }

  /** At start: true when the stored record of `id` is current (it then stays unloaded). */
  adoptStored(id: string): boolean {
    if (!this.o.evictable(id)) return false;
    const raw = this.store.kvGet(META_PREFIX + id);
    if (raw === undefined) return false;
    try {
      const m = JSON.parse(raw) as { seq: number; sv: string; digest: string };
      if (m.seq !== this.store.docStats(id).lastSeq) return false;
      this.evicted.set(id, { sv: Buffer.from(m.sv, 'base64'), digest: Buffer.from(m.digest, 'base64') });
      return true;
    } catch {
      return false; // a damaged record: load the document instead
    }
  }

  touch(id: string): void {
    this.lastUsed.set(id, this.o.now());
  }

  isEvicted(id: string): boolean {
    return this.evicted.has(id);
  }

  loaded(id: string): void {
    this.evicted.delete(id);
  }

  stored(id: string): Stored | undefined {
    return this.evicted.get(id);
  }

  /** A document dropped from the node (handoff): nothing of it is kept. */
  forget(id: string): void {
    this.evicted.delete(id);
    this.lastUsed.delete(id);
    this.store.kvDelete(META_PREFIX + id);
  }

  evictedIds(): string[] {
    return [...this.evicted.keys()];
  }

  /** Unloads documents until the estimate fits the budget; `busy` ones (updates held for a commit) stay. */
  evict(inner: YDocSet, onEvicted: (id: string) => void, busy: (id: string) => boolean = () => false): number {
    const resident = inner.ids();
    const size = (id: string): number => {
      const s = this.store.docStats(id);
      return (s.snapshotBytes + s.logBytes) * RESIDENT_FACTOR + RESIDENT_BASE_BYTES;
    };
    let total = 0;
    for (const id of resident) total += size(id);
    if (total <= this.o.budgetBytes) return 0;
    const now = this.o.now();
    // Least recently used first. Documents used within idleMs come last, but small ones go too
    // while the budget is still exceeded: a load touching more documents per idleMs than the
    // budget holds would otherwise keep them all, and their size grows with the data (the soak
    // did). A large one in use stays: reloading it every second would cost more than it frees.
    const candidates = resident
      .filter((id) => this.o.evictable(id) && (now - (this.lastUsed.get(id) ?? 0) >= this.idleMs || size(id) <= this.o.budgetBytes / HOT_SHARE))
      .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    let n = 0;
    for (const id of candidates) {
      if (total <= this.o.budgetBytes || n >= MAX_EVICT_PER_CALL) break;
      const bytes = size(id);
      if (!this.unload(inner, id, onEvicted, busy)) continue;
      total -= bytes;
      n++;
    }
    return n;
  }

  /**
   * Unloads one document whatever the budget (a document loaded only to read it once, by the
   * recall rebuild, need not wait for memory pressure); false when it must stay (see evict).
   */
  unload(inner: YDocSet, id: string, onEvicted: (id: string) => void, busy: (id: string) => boolean = () => false): boolean {
    if (!inner.has(id) || !this.o.evictable(id)) return false;
    const doc = inner.doc(id);
    // Updates waiting for missing dependencies: kept resident until they integrate (or resync).
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null || busy(id)) return false;
    // Folded into its snapshot first (from the live document), so loading it again reads one row.
    if (this.store.docStats(id).logEntries > 0) this.store.compact(id);
    const stored: Stored = { sv: inner.stateVector(id), digest: inner.digest(id).slice() };
    this.store.kvSet(
      META_PREFIX + id,
      JSON.stringify({ seq: this.store.docStats(id).lastSeq, sv: Buffer.from(stored.sv).toString('base64'), digest: Buffer.from(stored.digest).toString('base64') }),
    );
    inner.unload(id);
    this.evicted.set(id, stored);
    this.lastUsed.delete(id);
    onEvicted(id);
    return true;
  }
}
