// continuous-mode pushes: one update sent to many peers with at most two encodings (by document
// number to peers that know it, with the id spelled out to the others), and the recent numbered
// pushes kept so one a peer could not place (`unknown-ref`) is resent instead of waiting for
// anti-entropy. Staged pushes (coalescing on) wait for flush(), which sends each peer the turn's
// pushes as one `updates` message (one decode, one store pass and one `acks` on the receiver)
// instead of one `update` per document.
import { batchBySize, entrySize } from './batch.js';
import type { NameDictionary } from './doc-names.js';
import { encodeMessage, type PushEntry, type SyncMessage } from './messages.js';
import type { Outbox } from './outbox.js';
import type { PeerId, SyncEffect } from './types.js';

/** Pushes kept for a resend when a peer could not resolve their document number (the rest are repaired by anti-entropy). */
const RESEND_KEEP = 256;
const RESEND_MAX_UPDATE_BYTES = 16 * 1024;
/** Room left in an `updates` message for its header around the pushes. */
const HEADER_ROOM = 64;

export class PushSender {
  /** requestId -> a push sent with a numbered document id, kept for a resend on `unknown-ref`. */
  private readonly resendable = new Map<number, { docId: string; update: Uint8Array; at: number }>();
  /** First request id of an `updates` message -> all of its request ids (an unknown-ref names the first). */
  private readonly messageOf = new Map<number, number[]>();
  /** Pushes staged for flush(), per peer, in push order. */
  private staged = new Map<PeerId, PushEntry[]>();

  constructor(
    private readonly names: NameDictionary,
    private readonly outbox: Outbox,
    private readonly maxMessageBytes: number = Infinity,
  ) {}

  /** Stages one update for `targets`; flush() sends it. */
  stage(targets: readonly PeerId[], requestId: number, docId: string, update: Uint8Array): void {
    const entry: PushEntry = { requestId, docId, update };
    for (const peer of targets) {
      const list = this.staged.get(peer);
      if (list) list.push(entry);
      else this.staged.set(peer, [entry]);
    }
  }

  /** Whether pushes wait for flush(). */
  hasStaged(): boolean {
    return this.staged.size > 0;
  }

  /**
   * Sends the staged pushes: a peer with one gets an `update` as unstaged pushes do, a peer with
   * several one `updates` message (more where they exceed the frame limit). Peers that get the
   * same pushes and know the same document numbers share one encoding.
   */
  flush(out: SyncEffect[], now: number): void {
    const staged = this.staged;
    this.staged = new Map();
    const encoded = new Map<string, Uint8Array[]>();
    for (const [peer, entries] of staged) {
      if (entries.length === 1) {
        const e = entries[0]!;
        this.push(out, [peer], e.requestId, e.docId, e.update, now);
        continue;
      }
      const known = entries.map((e) => this.names.knows(peer, e.docId));
      const key = entries.map((e, i) => `${e.requestId}${known[i] ? 'k' : 'd'}`).join(',');
      let messages = encoded.get(key);
      if (!messages) {
        const groups = batchBySize(entries, (e) => entrySize(e.docId, e.update) + 5, this.maxMessageBytes - HEADER_ROOM);
        messages = groups.map((g) => encodeMessage({ kind: 'updates', entries: g }, this.names.writerFor(peer)));
        encoded.set(key, messages);
        for (const g of groups) this.keep(g, now);
      }
      entries.forEach((e, i) => {
        if (!known[i]) this.names.sentDefinitions(peer, e.requestId, [this.names.refOf(e.docId)]);
      });
      for (const bytes of messages) this.outbox.sendEncoded(out, peer, 'updates', bytes);
    }
  }

  /** Keeps the pushes of one `updates` message for a resend, under its first request id. */
  private keep(group: readonly PushEntry[], now: number): void {
    if (group.length === 0) return;
    for (const e of group) if (e.update.byteLength <= RESEND_MAX_UPDATE_BYTES) this.resendable.set(e.requestId, { docId: e.docId, update: e.update, at: now });
    this.messageOf.set(group[0]!.requestId, group.map((e) => e.requestId));
    while (this.resendable.size > RESEND_KEEP) this.resendable.delete(this.resendable.keys().next().value!);
    while (this.messageOf.size > RESEND_KEEP) this.messageOf.delete(this.messageOf.keys().next().value!);
  }

  /** Sends one update to `targets` at time `now`. */
  push(out: SyncEffect[], targets: readonly PeerId[], requestId: number, docId: string, update: Uint8Array, now: number): void {
    const m: SyncMessage = { kind: 'update', requestId, docId, update };
    let byRef: Uint8Array | undefined;
    let byName: Uint8Array | undefined;
    for (const peer of targets) {
      if (this.names.knows(peer, docId)) {
        byRef ??= encodeMessage(m, this.names.writerFor(peer));
        this.outbox.sendEncoded(out, peer, 'update', byRef);
      } else {
        byName ??= encodeMessage(m, this.names.writerFor(peer));
        this.names.sentDefinitions(peer, requestId, [this.names.refOf(docId)]);
        this.outbox.sendEncoded(out, peer, 'update', byName);
      }
    }
    if (byRef && update.byteLength <= RESEND_MAX_UPDATE_BYTES) {
      this.resendable.set(requestId, { docId, update, at: now });
      if (this.resendable.size > RESEND_KEEP) this.resendable.delete(this.resendable.keys().next().value!);
    }
  }

  /**
   * Resends push `requestId` to `peer` (which could not place it), or every push of the `updates`
   * message it opened; false when any of them is no longer kept (anti-entropy repairs those).
   */
  resend(out: SyncEffect[], peer: PeerId, requestId: number, now: number): boolean {
    if (requestId === 0) return false;
    const ids = this.messageOf.get(requestId) ?? [requestId];
    let all = true;
    for (const id of ids) {
      const r = this.resendable.get(id);
      if (r) this.push(out, [peer], id, r.docId, r.update, now);
      else all = false;
    }
    return all;
  }

  /** Drops kept pushes older than `maxAgeMs`. */
  expire(now: number, maxAgeMs: number): void {
    for (const [id, r] of this.resendable) {
      if (now - r.at < maxAgeMs) break; // insertion order is time order
      this.resendable.delete(id);
    }
    for (const [first, ids] of this.messageOf) {
      if (ids.some((id) => this.resendable.has(id))) break;
      this.messageOf.delete(first);
    }
  }

  /** Drops kept pushes of a document the node no longer holds. */
  forgetDoc(docId: string): void {
    for (const [id, r] of this.resendable) if (r.docId === docId) this.resendable.delete(id);
    // Staged pushes stay: they were made while the document was held, and a write waits for their acks.
  }
}
