// Keeps a real node's JavaScript heap near what it holds live. Unloading idle documents
// (storage/residency.ts) leaves their Y.Docs as garbage, and so does reloading them: under a
// load that touches more documents than the budget holds, V8 lets that garbage pile up (it
// raises its own collection threshold as the heap grows), so RSS climbed by hundreds of MB in
// minutes although the live heap stayed near 50 MB (heap snapshots, docs/retention.md). When the
// heap in use passes the memory budget plus an allowance for everything that is not a document,
// the guard asks V8 for a full collection, at most every `minGapMs`, and only once at least half
// the allowance has piled up since the last one (so a live heap above the line, which collecting
// cannot shrink, costs one collection per half-allowance of garbage, not one per gap). Real nodes
// only: the simulator runs many nodes in one process and must not depend on the heap.
import v8 from 'node:v8';
import vm from 'node:vm';

export interface HeapGuardOptions {
  /** The node's memory budget for documents (`--memory-budget`). */
  budgetBytes: number;
  /** Heap allowed beyond the budget before a collection is asked for (default 64 MiB). */
  allowanceBytes?: number;
  /** How often the heap is looked at (default 1 s). */
  everyMs?: number;
  /** Least time between two collections (default 4 s). */
  minGapMs?: number;
  /** Injected for tests. */
  heapUsed?: () => number;
  collect?: () => void;
  now?: () => number;
}

export interface HeapGuardStats {
  /** Full collections the guard asked for, and the milliseconds they took in all. */
  collections: number;
  collectMs: number;
  /** Heap in use after the last one (bytes). */
  heapAfterBytes: number | null;
}

export const DEFAULT_HEAP_ALLOWANCE_BYTES = 64 * 1024 * 1024;

export class HeapGuard {
  readonly stats: HeapGuardStats = { collections: 0, collectMs: 0, heapAfterBytes: null };
  private timer: NodeJS.Timeout | undefined;
  private lastAt = -Infinity;
  private readonly gapMs: number;
  private readonly line: number;
  private readonly slack: number;
  /** Heap in use right after the last collection (what was live then). */
  private live = 0;
  private readonly heapUsed: () => number;
  private readonly collect: (() => void) | undefined;
  private readonly now: () => number;

  constructor(private readonly o: HeapGuardOptions) {
    const allowance = o.allowanceBytes ?? DEFAULT_HEAP_ALLOWANCE_BYTES;
    this.line = o.budgetBytes + allowance;
    this.slack = allowance / 2;
    this.gapMs = o.minGapMs ?? 4_000;
    this.heapUsed = o.heapUsed ?? (() => process.memoryUsage().heapUsed);
    this.collect = o.collect ?? exposedGc();
    this.now = o.now ?? (() => performance.now());
  }

  /** Looks at the heap every `everyMs` until stop(); a no-op where V8 gives no collection hook. */
  start(): this {
    if (!this.collect || this.timer) return this;
    this.timer = setInterval(() => this.check(), this.o.everyMs ?? 1_000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: collects when the heap is over the line, enough garbage piled up and the gap has passed. */
  check(): boolean {
    if (!this.collect) return false;
    const used = this.heapUsed();
    if (used <= this.line || used - this.live < this.slack || this.now() - this.lastAt < this.gapMs) return false;
    const t = this.now();
    this.collect();
    this.live = this.heapUsed();
    this.lastAt = this.now();
    this.stats.collections++;
    this.stats.collectMs += this.lastAt - t;
    this.stats.heapAfterBytes = this.live;
    return true;
  }
}

/** V8's full-collection hook, made reachable without starting Node with --expose-gc. */
function exposedGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}
