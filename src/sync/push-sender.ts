// continuous-mode pushes: one update sent to many peers with at most two encodings (by document
// number to peers that know it, with the id spelled out to the others), and the recent numbered
// pushes kept so one a peer could not place (`unknown-ref`) is resent instead of waiting for
// anti-entropy.
import type { NameDictionary } from './doc-names.js';
import { encodeMessage, type SyncMessage } from './messages.js';
import type { Outbox } from './outbox.js';
import type { PeerId, SyncEffect } from './types.js';

/** Pushes kept for a resend when a peer could not resolve their document number (the rest are repaired by anti-entropy). */
const RESEND_KEEP = 256;
const RESEND_MAX_UPDATE_BYTES = 16 * 1024;

export class PushSender {
  /** requestId -> a push sent with a numbered document id, kept for a resend on `unknown-ref`. */
  private readonly resendable = new Map<number, { docId: string; update: Uint8Array; at: number }>();

  constructor(
    private readonly names: NameDictionary,
    private readonly outbox: Outbox,
  ) {}

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

  /** Resends push `requestId` to `peer` (which could not place it); false when it is no longer kept. */
  resend(out: SyncEffect[], peer: PeerId, requestId: number, now: number): boolean {
    const r = requestId !== 0 ? this.resendable.get(requestId) : undefined;
    if (!r) return false;
    this.push(out, [peer], requestId, r.docId, r.update, now);
    return true;
  }

  /** Drops kept pushes older than `maxAgeMs`. */
  expire(now: number, maxAgeMs: number): void {
    for (const [id, r] of this.resendable) {
      if (now - r.at < maxAgeMs) break; // insertion order is time order
      this.resendable.delete(id);
    }
  }

  /** Drops kept pushes of a document the node no longer holds. */
  forgetDoc(docId: string): void {
    for (const [id, r] of this.resendable) if (r.docId === docId) this.resendable.delete(id);
  }
}
