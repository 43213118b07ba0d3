// Incarnation numbers must only grow across restarts: a node that comes back with a lower one
// than the cluster last saw is ignored as stale until it refutes, which delays its rejoin. SWIM
// bumps the incarnation on every refutation and metadata change, far too often to fsync each one,
// so numbers are reserved in blocks: the store records the top of the block in use, and a restart
// starts above it, whatever was used before the crash.
import type { NodeStore } from '../storage/types.js';

const KEY = 'swim/incarnation-reserved';
/** Incarnations reserved per durable write. */
const BLOCK = 1000;

export class IncarnationReservation {
  private reserved: number;

  constructor(private readonly store: NodeStore) {
    const saved = Number(store.kvGet(KEY) ?? 0);
    this.reserved = Math.max(Number.isSafeInteger(saved) ? saved : 0, store.incarnation());
  }

  /** The incarnation to start this run with: above anything a previous run may have used. */
  start(floor = 0): number {
    const start = Math.max(this.reserved, floor) + 1;
    this.reserve(start + BLOCK);
    return start;
  }

  /** Call with the current incarnation after it may have grown; extends the block ahead of use. */
  observe(incarnation: number): void {
    if (incarnation >= this.reserved - BLOCK / 10) this.reserve(incarnation + BLOCK);
  }

  private reserve(upTo: number): void {
    this.reserved = upTo;
    this.store.kvSet(KEY, String(upTo));
  }
}
