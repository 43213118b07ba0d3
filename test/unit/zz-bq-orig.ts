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
}

export class BroadcastQueue {
  private entries: Entry[] = [];
  private nextId = 0;

  /**
   * Queues a fact the caller has just accepted as current. An alive or dead fact supersedes
   * everything queued about the subject. A suspect fact supersedes the subject's alive fact and the
   * same accuser's older suspect, but keeps other accusers' suspects: those are the independent
   * confirmations Lifeguard needs, and dropping them would slow detection down.
   */
  enqueue(fact: Fact): void {
    this.entries = this.entries.filter((e) => !supersedes(fact, e));
    this.entries.push({ ...fact, transmits: 0, id: this.nextId++ });
  }

  /**
   * Picks facts for one packet within `budget` bytes, where `cost(bytes)` is what one fact adds to
   * the packet, taking at most `maxItems`. Every picked fact counts one transmit; facts reaching
   * `limit` leave the queue.
   */
  take(budget: number, limit: number, cost: (bytes: Uint8Array) => number, maxItems = Infinity): Uint8Array[] {
    if (this.entries.length === 0) return [];
    const ordered = [...this.entries].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const picked: Uint8Array[] = [];
    let left = budget;
    for (const entry of ordered) {
      const c = cost(entry.bytes);
      if (picked.length >= maxItems) break;
      if (c > left) continue; // a smaller fact further down may still fit
      left -= c;
      picked.push(entry.bytes);
      entry.transmits++;
    }
    this.entries = this.entries.filter((e) => e.transmits < limit);
    return picked;
  }

  /** Drops everything about a member (it was reaped). */
  forget(subject: string): void {
    this.entries = this.entries.filter((e) => e.subject !== subject);
  }

  size(): number {
    return this.entries.length;
  }

  /** Transmit counts by subject, for tests and diagnostics. */
  snapshot(): { kind: FactKind; subject: string; from?: string; transmits: number }[] {
    return this.entries.map(({ kind, subject, from, transmits }) => ({ kind, subject, from, transmits }));
  }
}

function supersedes(incoming: Fact, queued: Fact): boolean {
  if (queued.subject !== incoming.subject) return false;
  if (incoming.kind !== 'suspect') return true;
  return queued.kind === 'alive' || (queued.kind === 'suspect' && queued.from === incoming.from);
}
