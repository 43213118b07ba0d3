// A client's update relayed straight to the other members that have clients on the document, so
// those clients see an edit one hop after the writer's node validated it, without waiting for the
// replication push to be built, sent, decoded and applied (the push still carries it to every
// replica; this relay is only what other clients see early, like the writer's own room does).
// Durability is unchanged: the sender's echo still waits for a majority to store the update.
//
// On the receiving node the relayed update is sent to the room's clients at once and remembered
// (RelayedUpdates) until the push brings the same bytes, which then reach nobody twice. Until the
// node has applied what its clients were shown, a client update of that room waits for it (a
// client that builds on a relayed edit would otherwise hand the node an update whose dependencies
// it lacks). Everything here is bounded: entries per room, their age, the wait.
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedBytes, readBoundedString, readBoundedUint } from '../codec.js';

/** Relayed updates remembered per room; beyond it the oldest is forgotten (its push is then delivered again: a duplicate, never a loss). */
export const MAX_RELAYED_PER_ROOM = 256;
/** Bytes of relayed updates remembered per room, at most (the oldest are forgotten first). */
export const MAX_RELAYED_BYTES_PER_ROOM = 8 * 1024 * 1024;
/** A relayed update whose push has not come within this is forgotten (the writer died or its write failed). */
export const RELAY_TTL_MS = 10_000;
/** How long a client's update waits for the relayed updates its node has not applied yet, at most. */
export const RELAY_WAIT_MS = 2_000;

/** Largest update relayed; a larger one reaches other members' clients with its push (a notify is one stream frame, at most 1 MiB). */
export const MAX_RELAYED_UPDATE_BYTES = 256 * 1024;
/** Bytes of updates in one relay message: a turn's relays to one member beyond it leave as several. */
export const MAX_RELAY_MESSAGE_BYTES = 512 * 1024;
/** Updates in one relay message, at most (what a receiver accepts). */
export const MAX_RELAY_ENTRIES = 4096;

/** One member's relays of one turn: several documents' updates, in the order their clients sent them. */
export interface UpdateRelay {
  from: string;
  entries: Array<{ docId: string; update: Uint8Array }>;
}

export function encodeUpdateRelay(m: UpdateRelay): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, m.from);
  encoding.writeVarUint(e, m.entries.length);
  for (const x of m.entries) {
    encoding.writeVarString(e, x.docId);
    encoding.writeVarUint8Array(e, x.update);
  }
  return encoding.toUint8Array(e);
}

/** Throws DecodeError on anything malformed or beyond the bounds (`maxUpdate`: the bytes of one update). */
export function decodeUpdateRelay(payload: Uint8Array, maxUpdate: number): UpdateRelay {
  return decodeWith(payload, 'update relay', (d: decoding.Decoder) => {
    const from = readBoundedString(d, 64, 'sender');
    const n = readBoundedUint(d, MAX_RELAY_ENTRIES, 'relayed update count');
    const entries: UpdateRelay['entries'] = [];
    for (let i = 0; i < n; i++) entries.push({ docId: readBoundedString(d, 256, 'document id'), update: readBoundedBytes(d, maxUpdate, 'update') });
    return { from, entries };
  });
}

interface Entry<M> {
  frame: Uint8Array;
  update: Uint8Array;
  /** The clients that were sent it (a client that joined since gets it with the push). */
  sentTo: Set<M>;
  at: number;
  /** Clock range end per client id of the structs it inserts (parsed on first need); empty: it inserts none. */
  to?: Map<number, number>;
}

/** One room's relayed updates that its node has not yet received through replication. */
export class RelayedUpdates<M> {
  private entries: Entry<M>[] = [];
  private bytes = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.entries.length;
  }

  add(update: Uint8Array, frame: Uint8Array, sentTo: Set<M>, now: number): void {
    this.prune(now);
    while (this.entries.length > 0 && (this.entries.length >= MAX_RELAYED_PER_ROOM || this.bytes + frame.byteLength > MAX_RELAYED_BYTES_PER_ROOM)) this.drop(0);
    this.entries.push({ frame, update, sentTo, at: now });
    this.bytes += frame.byteLength;
  }

  /**
   * A change applied through replication, as the frame its clients would get: returns who already
   * had these exact bytes from a relay (undefined: no relay matched, everyone gets it).
   */
  take(frame: Uint8Array): Set<M> | undefined {
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.frame.byteLength === frame.byteLength && Buffer.compare(e.frame, frame) === 0) {
        this.drop(i);
        return e.sentTo;
      }
    }
    return undefined;
  }

  /** Whether `doc` lacks structs its clients were shown by a relay (a client update must wait). */
  ahead(doc: Y.Doc, now: number): boolean {
    this.prune(now);
    for (const e of this.entries) {
      e.to ??= insertedUpTo(e.update);
      for (const [client, clock] of e.to) if (Y.getState(doc.store, client) < clock) return true;
    }
    return false;
  }

  /**
   * Resolves once the document caught up with what was relayed (settled()), or after
   * `RELAY_WAIT_MS`: then what did not come is given up (its writer died or its write failed), so
   * later writes do not wait for it again.
   */
  wait(schedule: (ms: number, fn: () => void) => () => void): Promise<void> {
    return new Promise((resolve) => {
      let cancel: (() => void) | undefined;
      const done = (): void => {
        cancel?.();
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
      cancel = schedule(RELAY_WAIT_MS, () => {
        cancel = undefined;
        this.entries = [];
        this.bytes = 0;
        for (const w of [...this.waiters]) w();
      });
    });
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** The document changed: wakes the waiting writes if it no longer lacks anything relayed. */
  settled(doc: Y.Doc, now: number): void {
    if (this.waiters.length === 0 || this.ahead(doc, now)) return;
    for (const w of [...this.waiters]) w();
  }

  private prune(now: number): void {
    while (this.entries.length > 0 && now - this.entries[0]!.at > RELAY_TTL_MS) this.drop(0);
  }

  private drop(i: number): void {
    this.bytes -= this.entries[i]!.frame.byteLength;
    this.entries.splice(i, 1);
  }
}

function insertedUpTo(update: Uint8Array): Map<number, number> {
  try {
    return Y.parseUpdateMeta(update).to;
  } catch {
    return new Map(); // the writer's node validated it; if it still does not parse, there is nothing to wait for
  }
}
