// The transmit-limited piggyback queue (memberlist's TransmitLimitedQueue). Facts about members
// wait here and ride along on pings, acks and gossip packets until each has been sent about
// retransmitLimit times, which is enough for epidemic spread to reach everyone with high
// probability. Least-sent facts go first (they have reached the fewest members), newest first
// among equals; a newer fact about a member replaces the older one so stale news stops spreading.

export type FactKind = 'alive' | 'suspect' | 'dead';

export interface Fact {
  kind: FactKind;
  /** The member the fact is about. */
  subject: string;
  /** Who accused, for suspect facts: distinct accusers are distinct confirmations, so they coexist. */
  from?: string;
  /** The encoded message, ready to pack. */
  bytes: Uint8Array;
}

interface Entry extends Fact {
  transmits: number;
  id: number;
  /** Superseded, forgotten or sent `limit` times. */
  gone: boolean;
}

/**
 * Facts are kept in buckets by transmit count, each bucket in id order (oldest first), so a packet
 * walks buckets from the fewest transmits and each bucket from its end (newest first): the send
 * order, without copying or sorting the queue. A sent fact moves one bucket up; the slot it leaves
 * (like the slot of a dropped fact) is stale until its bucket is compacted. While 1,000 members
 * join, each node's queue holds about 1,000 facts and every packet it sends takes from it, so
 * this is what keeps gossip O(packet) rather than O(queue) per send.
 */
export class BroadcastQueue {
  private buckets: Entry[][] = [];
  /**
   * Each bucket's entry ids, slot for slot: insertById binary-searches these (a packed array of
   * small integers) instead of reading the id of every entry it passes, which at 1,000 members
   * was a cache miss per step and most of the cost of moving a sent fact up a bucket.
   */
  private bucketIds: number[][] = [];
  /** Stale slots per bucket (moved up or dropped), for compaction. */
  private stale: number[] = [];
  /** Live entries by subject, so a new fact finds what it supersedes without a scan. */
  private readonly bySubject = new Map<string, Entry[]>();
  /** Live entries per message length, so a packet stops scanning once nothing left could fit. */
  private readonly byLength = new Map<number, { count: number; sample: Uint8Array }>();
  private live = 0;
  private nextId = 0;

  /**
   * Queues a fact the caller has just accepted as current. An alive or dead fact supersedes
   * everything queued about the subject. A suspect fact supersedes the subject's alive fact and the
   * same accuser's older suspect, but keeps other accusers' suspects: those are the independent
   * confirmations Lifeguard needs, and dropping them would slow detection down.
   */
  enqueue(fact: Fact): void {
    // One object shape for every entry (a spread of facts with and without `from` made several).
    const entry: Entry = { kind: fact.kind, subject: fact.subject, from: fact.from, bytes: fact.bytes, transmits: 0, id: this.nextId++, gone: false };
    const same = this.bySubject.get(fact.subject);
    if (same) {
      // Superseded entries leave `same` in place, the rest keep their order (no array per fact).
      let kept = 0;
      for (let i = 0; i < same.length; i++) {
        const e = same[i]!;
        if (supersedes(fact, e)) this.retire(e, true);
        else same[kept++] = e;
      }
      same.length = kept;
      same.push(entry);
    } else {
      this.bySubject.set(fact.subject, [entry]);
    }
    // Zero transmits and the highest id: the end of bucket 0, sent first.
    this.bucket(0).push(entry);
    this.bucketIds[0]!.push(entry.id);
    this.live++;
    const len = this.byLength.get(fact.bytes.length);
    if (len) len.count++;
    else this.byLength.set(fact.bytes.length, { count: 1, sample: fact.bytes });
  }

  /**
   * Picks facts for one packet within `budget` bytes, where `cost(bytes)` is what one fact adds to
   * the packet (it must not shrink as the bytes grow), taking at most `maxItems`. Every picked
   * fact counts one transmit; facts reaching `limit` leave the queue.
   */
  take(budget: number, limit: number, cost: (bytes: Uint8Array) => number, maxItems = Infinity): Uint8Array[] {
    if (this.live === 0) return [];
    const minCost = this.minCost(cost);
    const picked: Uint8Array[] = [];
    const moved: Entry[] = [];
    let left = budget;
    scan: for (let t = 0; t < this.buckets.length; t++) {
      const b = this.buckets[t]!;
      for (let j = b.length - 1; j >= 0; j--) {
        if (picked.length >= maxItems || left < minCost) break scan;
        const entry = b[j]!;
        if (entry.gone || entry.transmits !== t) continue; // stale slot
        const c = cost(entry.bytes);
        if (c > left) continue; // a smaller fact further down may still fit
        left -= c;
        picked.push(entry.bytes);
        entry.transmits++;
        this.stale[t]!++;
        moved.push(entry);
      }
    }
    // The facts moved out of one bucket are a run of `moved` (buckets were walked in order), newest
    // first: each run is merged into its new bucket in one pass. (Inserting them one by one moved
    // the tail of a bucket of ~1,000 facts once per fact: most of a 1,000-node join storm's time.)
    let end = moved.length;
    while (end > 0) {
      const t = moved[end - 1]!.transmits;
      let start = end - 1;
      while (start > 0 && moved[start - 1]!.transmits === t) start--;
      const run: Entry[] = [];
      for (let i = end - 1; i >= start; i--) {
        const e = moved[i]!;
        if (e.transmits >= limit) this.drop(e, false);
        else run.push(e);
      }
      if (run.length > 0) mergeById(this.bucket(t), this.bucketIds[t]!, run);
      end = start;
    }
    this.dropFrom(limit); // the limit shrinks when members leave: facts at or over it go
    for (let t = 0; t < this.buckets.length; t++) {
      this.trimTail(t);
      this.maybeCompact(t);
    }
    return picked;
  }

  /** Drops everything about a member (it was reaped). */
  forget(subject: string): void {
    const same = this.bySubject.get(subject);
    if (!same) return;
    this.bySubject.delete(subject);
    for (const e of same) this.retire(e, true);
  }

  size(): number {
    return this.live;
  }

  /** Transmit counts by subject in the order the facts were queued, for tests and diagnostics. */
  snapshot(): { kind: FactKind; subject: string; from?: string; transmits: number }[] {
    const all: Entry[] = [];
    this.buckets.forEach((b, t) => {
      for (const e of b) if (!e.gone && e.transmits === t) all.push(e);
    });
    return all
      .sort((a, b) => a.id - b.id)
      .map(({ kind, subject, from, transmits }) => (from === undefined ? { kind, subject, transmits } : { kind, subject, from, transmits }));
  }

  private bucket(t: number): Entry[] {
    while (this.buckets.length <= t) {
      this.buckets.push([]);
      this.bucketIds.push([]);
      this.stale.push(0);
    }
    return this.buckets[t]!;
  }

  /** The cost of the shortest queued fact: with less budget left than that, nothing else fits. */
  private minCost(cost: (bytes: Uint8Array) => number): number {
    let min: Uint8Array | undefined;
    for (const { sample } of this.byLength.values()) if (min === undefined || sample.length < min.length) min = sample;
    return min === undefined ? 0 : cost(min);
  }

  /** `inBucket`: the entry still holds a live slot in the bucket of its transmit count. */
  private drop(e: Entry, inBucket: boolean): void {
    if (!this.retire(e, inBucket)) return;
    const same = this.bySubject.get(e.subject);
    if (!same) return;
    const i = same.indexOf(e);
    if (i >= 0) same.splice(i, 1);
    if (same.length === 0) this.bySubject.delete(e.subject);
  }

  /** drop() but for the subject's list (the caller takes `e` out of it); false when already gone. */
  private retire(e: Entry, inBucket: boolean): boolean {
    if (e.gone) return false;
    e.gone = true;
    this.live--;
    if (inBucket) this.stale[e.transmits]!++;
    const len = this.byLength.get(e.bytes.length);
    if (len && --len.count === 0) this.byLength.delete(e.bytes.length);
    return true;
  }

  private dropFrom(limit: number): void {
    if (this.buckets.length <= limit) return;
    for (let t = Math.max(0, limit); t < this.buckets.length; t++) {
      for (const e of this.buckets[t]!) if (!e.gone && e.transmits === t) this.drop(e, true);
    }
    this.buckets.length = Math.max(0, limit);
    this.bucketIds.length = this.buckets.length;
    this.stale.length = this.buckets.length;
  }

  /**
   * Pops the stale slots at the end of bucket t. A packet takes the newest facts of a bucket (its
   * end) and moves them up, so without this every later packet would walk past them again: with a
   * thousand facts queued, that walk was most of the cost of sending a packet.
   */
  private trimTail(t: number): void {
    const b = this.buckets[t]!;
    let n = b.length;
    while (n > 0) {
      const e = b[n - 1]!;
      if (!e.gone && e.transmits === t) break;
      n--;
    }
    if (n === b.length) return;
    this.stale[t]! -= b.length - n;
    b.length = n;
    this.bucketIds[t]!.length = n;
  }

  private maybeCompact(t: number): void {
    const b = this.buckets[t]!;
    const stale = this.stale[t]!;
    if (stale > 16 && 2 * stale > b.length) {
      const kept: Entry[] = [];
      const ids: number[] = [];
      for (const e of b) {
        if (e.gone || e.transmits !== t) continue;
        kept.push(e);
        ids.push(e.id);
      }
      this.buckets[t] = kept;
      this.bucketIds[t] = ids;
      this.stale[t] = 0;
    }
  }
}

/**
 * Merges `run` (ids ascending) into an id-ascending bucket and its parallel id array (stale slots
 * keep their ids, so the order holds), moving the bucket's tail once for the whole run.
 */
function mergeById(b: Entry[], ids: number[], run: Entry[]): void {
  const n = ids.length;
  const k = run.length;
  if (n === 0 || ids[n - 1]! < run[0]!.id) {
    for (const e of run) {
      b.push(e);
      ids.push(e.id);
    }
    return;
  }
  // Grow both arrays by k (pushes keep them packed), then merge from the back.
  for (let x = 0; x < k; x++) {
    b.push(run[0]!);
    ids.push(0);
  }
  let i = n - 1;
  let j = k - 1;
  for (let w = n + k - 1; j >= 0; w--) {
    const e = run[j]!;
    if (i >= 0 && ids[i]! > e.id) {
      b[w] = b[i]!;
      ids[w] = ids[i]!;
      i--;
    } else {
      b[w] = e;
      ids[w] = e.id;
      j--;
    }
  }
}

function supersedes(incoming: Fact, queued: Fact): boolean {
  if (queued.subject !== incoming.subject) return false;
  if (incoming.kind !== 'suspect') return true;
  return queued.kind === 'alive' || (queued.kind === 'suspect' && queued.from === incoming.from);
}
