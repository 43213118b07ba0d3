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
  /** Superseded, forgotten or sent `limit` times: skipped, and dropped at the next compaction. */
  gone: boolean;
}

/** Send order: fewest transmits first, newest (highest id) first among equals. */
function sendOrder(a: Entry, b: Entry): number {
  return a.transmits - b.transmits || b.id - a.id;
}

export class BroadcastQueue {
  /**
   * Entries kept in send order (gone ones included until compaction), so a packet needs one scan
   * instead of a copy and a sort of the whole queue: while 1,000 members join, each node's queue
   * holds about 1,000 facts and every packet it sends takes from it.
   */
  private entries: Entry[] = [];
  /** Live entries by subject, so a new fact finds what it supersedes without a scan. */
  private readonly bySubject = new Map<string, Entry[]>();
  private live = 0;
  private nextId = 0;

  /**
   * Queues a fact the caller has just accepted as current. An alive or dead fact supersedes
   * everything queued about the subject. A suspect fact supersedes the subject's alive fact and the
   * same accuser's older suspect, but keeps other accusers' suspects: those are the independent
   * confirmations Lifeguard needs, and dropping them would slow detection down.
   */
  enqueue(fact: Fact): void {
    const entry: Entry = { ...fact, transmits: 0, id: this.nextId++, gone: false };
    const same = this.bySubject.get(fact.subject);
    const kept: Entry[] = [];
    if (same) {
      for (const e of same) {
        if (supersedes(fact, e)) this.drop(e);
        else kept.push(e);
      }
    }
    kept.push(entry);
    this.bySubject.set(fact.subject, kept);
    // Zero transmits and the highest id: it goes first.
    this.entries.unshift(entry);
    this.live++;
    this.maybeCompact();
  }

  /**
   * Picks facts for one packet within `budget` bytes, where `cost(bytes)` is what one fact adds to
   * the packet, taking at most `maxItems`. Every picked fact counts one transmit; facts reaching
   * `limit` leave the queue.
   */
  take(budget: number, limit: number, cost: (bytes: Uint8Array) => number, maxItems = Infinity): Uint8Array[] {
    if (this.live === 0) return [];
    const picked: Uint8Array[] = [];
    let left = budget;
    for (const entry of this.entries) {
      if (picked.length >= maxItems) break;
      if (entry.gone) continue;
      const c = cost(entry.bytes);
      if (c > left) continue; // a smaller fact further down may still fit
      left -= c;
      picked.push(entry.bytes);
      entry.transmits++;
    }
    // Drop what reached the limit (the limit shrinks with the cluster, so check every entry) and
    // restore the send order; only picked entries moved, so the sort sees long sorted runs.
    const next: Entry[] = [];
    for (const e of this.entries) {
      if (e.gone) continue;
      if (e.transmits >= limit) this.drop(e);
      else next.push(e);
    }
    if (picked.length > 0) next.sort(sendOrder);
    this.entries = next;
    return picked;
  }

  /** Drops everything about a member (it was reaped). */
  forget(subject: string): void {
    for (const e of this.bySubject.get(subject) ?? []) this.drop(e);
    this.maybeCompact();
  }

  size(): number {
    return this.live;
  }

  /** Transmit counts by subject in the order the facts were queued, for tests and diagnostics. */
  snapshot(): { kind: FactKind; subject: string; from?: string; transmits: number }[] {
    return this.entries
      .filter((e) => !e.gone)
      .sort((a, b) => a.id - b.id)
      .map(({ kind, subject, from, transmits }) => (from === undefined ? { kind, subject, transmits } : { kind, subject, from, transmits }));
  }

  private drop(e: Entry): void {
    if (e.gone) return;
    e.gone = true;
    this.live--;
    const same = this.bySubject.get(e.subject);
    if (!same) return;
    const rest = same.filter((x) => x !== e);
    if (rest.length === 0) this.bySubject.delete(e.subject);
    else this.bySubject.set(e.subject, rest);
  }

  /** Keeps gone entries from piling up between packets. */
  private maybeCompact(): void {
    if (this.entries.length > 32 && this.entries.length > 2 * this.live) this.entries = this.entries.filter((e) => !e.gone);
  }
}

function supersedes(incoming: Fact, queued: Fact): boolean {
  if (queued.subject !== incoming.subject) return false;
  if (incoming.kind !== 'suspect') return true;
  return queued.kind === 'alive' || (queued.kind === 'suspect' && queued.from === incoming.from);
}
