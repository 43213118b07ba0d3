// Replay protection for sealed gossip packets, as IPsec does it (RFC 4303 section 3.4.3, with
// the ring-buffer bitmap of RFC 6479): per sender we keep the highest sequence number seen and a
// bitmap of which of the last `size` numbers arrived. A number above the highest is new; one
// inside the window is new unless its bit is set (a duplicate); one below the window is too old
// to tell apart from a replay, so it is dropped. UDP reorders a little, never by 1,024 packets
// from one sender, so honest traffic is not dropped.
//
// Senders are keyed by the 8-byte random id each sealed packet carries (chosen per process, see
// SendSequence), not by source address: a replay sent from a different address would otherwise
// find a fresh window and pass. Memory is bounded by an LRU cap on senders. Only packets that
// authenticated reach `accept`, so an attacker without the key cannot fill or evict the table.
import type { Clock } from '../runtime/types.js';

export type ReplayVerdict = 'new' | 'duplicate' | 'stale';

/** Default window width (bits). A multiple of 32. */
export const DEFAULT_WINDOW = 1024;
/** Default LRU cap on senders: 4,096 windows of 1,024 bits are about 0.6 MB. */
export const DEFAULT_MAX_SENDERS = 4096;

const MAX_SEQ = (1n << 64n) - 1n;

class Window {
  highest: bigint;
  readonly bits: Uint32Array;
  /** `size` as a bigint, made once: converting it on every packet showed up in profiles. */
  readonly #sizeBig: bigint;
  constructor(
    readonly size: number,
    first: bigint,
  ) {
    this.bits = new Uint32Array(size / 32);
    this.#sizeBig = BigInt(size);
    this.highest = first;
    this.set(first);
  }

  check(seq: bigint): ReplayVerdict {
    if (seq > this.highest) return 'new';
    if (this.highest - seq >= this.#sizeBig) return 'stale';
    return this.get(seq) ? 'duplicate' : 'new';
  }

  /** Records `seq`, which `check` said was new. */
  mark(seq: bigint): void {
    if (seq > this.highest) {
      const ahead = seq - this.highest;
      if (ahead >= this.#sizeBig) {
        this.bits.fill(0);
      } else {
        // Clear the slots of the numbers we skipped over: they now stand for new numbers.
        for (let s = this.highest + 1n; s < seq; s++) this.clear(s);
      }
      this.highest = seq;
    }
    this.set(seq);
  }

  private slot(seq: bigint): number {
    return Number(seq % this.#sizeBig);
  }
  private get(seq: bigint): boolean {
    const i = this.slot(seq);
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  private set(seq: bigint): void {
    const i = this.slot(seq);
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
  private clear(seq: bigint): void {
    const i = this.slot(seq);
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }
}

export class ReplayWindow {
  readonly #senders = new Map<bigint, Window>();
  /** The most recently used sender (last in the map's order), so its packets skip the LRU refresh. */
  #mru: bigint | undefined;
  readonly #size: number;
  readonly #maxSenders: number;

  constructor(opts: { size?: number; maxSenders?: number } = {}) {
    this.#size = opts.size ?? DEFAULT_WINDOW;
    this.#maxSenders = opts.maxSenders ?? DEFAULT_MAX_SENDERS;
    if (!Number.isInteger(this.#size) || this.#size < 32 || this.#size % 32 !== 0) {
      throw new RangeError(`replay window size must be a positive multiple of 32, got ${this.#size}`);
    }
    if (!Number.isInteger(this.#maxSenders) || this.#maxSenders < 1) {
      throw new RangeError(`replay window maxSenders must be >= 1, got ${this.#maxSenders}`);
    }
  }

  /** Number of senders tracked (bounded by maxSenders). */
  get senders(): number {
    return this.#senders.size;
  }

  /** Would `seq` from `sender` be accepted? Does not record it (call before the costly decrypt). */
  check(sender: bigint, seq: bigint): ReplayVerdict {
    const w = this.#senders.get(sender);
    return w ? w.check(seq) : 'new';
  }

  /** Checks and, if new, records `seq`. Call only for packets that authenticated. */
  accept(sender: bigint, seq: bigint): ReplayVerdict {
    const w = this.#senders.get(sender);
    if (!w) {
      this.#senders.set(sender, new Window(this.#size, seq));
      this.#mru = sender;
      if (this.#senders.size > this.#maxSenders) {
        // Map iterates in insertion order, so the first key is the least recently used.
        const oldest = this.#senders.keys().next().value as bigint;
        this.#senders.delete(oldest);
      }
      return 'new';
    }
    const verdict = w.check(seq);
    if (verdict === 'new') w.mark(seq);
    // Refresh LRU position (already last when the same sender sent the previous packet too).
    if (this.#mru !== sender) {
      this.#senders.delete(sender);
      this.#senders.set(sender, w);
      this.#mru = sender;
    }
    return verdict;
  }
}

/**
 * The sending side: a random 64-bit sender id per process and a strictly increasing 64-bit
 * sequence, seeded once from the clock (ms << 20) and then counting by one. Seeding once (not
 * re-flooring on every packet) keeps consecutive packets adjacent, so reordering across a
 * millisecond boundary stays inside the receiver's window. If a sender id were ever reused after a
 * restart, the new run starts above the old one's numbers as long as the clock is a wall clock and
 * the old run averaged under 2^20 packets per millisecond; with a fresh random id per process (the
 * default) restarts are safe whatever the clock.
 */
export class SendSequence {
  readonly senderId: bigint;
  #next: bigint;

  constructor(clock: Clock, senderId: bigint) {
    this.senderId = senderId & MAX_SEQ;
    this.#next = BigInt(Math.max(0, Math.floor(clock.now()))) << 20n;
  }

  next(): bigint {
    const n = this.#next;
    // 2^64 is ~500 years of wall-clock milliseconds away; wrapping would reopen old numbers.
    if (n > MAX_SEQ) throw new RangeError('sequence number space exhausted; restart with a new sender id');
    this.#next = n + 1n;
    return n;
  }
}
