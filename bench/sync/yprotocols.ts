// The comparison peer: the same Yjs documents synced by plain y-protocols messages (the sync
// protocol y-websocket and friends speak). Sizes are of the messages y-protocols itself encodes,
// per document: y-protocols has no document id, no multi-document digest and no acknowledgement.
// `onStream` adds the same per-message transport cost our stack pays below its own framing
// (4-byte length prefix + one TLS 1.3 record), so both sides can be compared on the wire.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';

/** A continuous update as y-protocols sends it (messageYjsUpdate). */
export function updateMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  syncProtocol.writeUpdate(e, update);
  return encoding.toUint8Array(e);
}

/** SyncStep1: "here is my state vector". */
export function step1(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder();
  syncProtocol.writeSyncStep1(e, doc);
  return encoding.toUint8Array(e);
}

/** SyncStep2 answering a SyncStep1: everything the asker lacks, always with the whole delete set. */
export function step2For(doc: Y.Doc, step1Message: Uint8Array): Uint8Array {
  const d = decoding.createDecoder(step1Message);
  const e = encoding.createEncoder();
  syncProtocol.readSyncMessage(d, e, doc, null);
  return encoding.toUint8Array(e);
}

/**
 * One y-protocols sync of `local` from `remote` (local pulls): step1 from local, step2 from remote.
 * `bothWays` adds the mirror exchange, as y-websocket does on every (re)connect.
 */
export function pullRound(local: Y.Doc, remote: Y.Doc, bothWays: boolean): { messages: number; bytes: number } {
  const s1 = step1(local);
  const s2 = step2For(remote, s1);
  let bytes = s1.byteLength + s2.byteLength;
  let messages = 2;
  if (bothWays) {
    const r1 = step1(remote);
    const r2 = step2For(local, r1);
    bytes += r1.byteLength + r2.byteLength;
    messages += 2;
  }
  return { messages, bytes };
}

/** Applies a y-protocols message to `doc` (the receiving half of the throughput comparison). */
export function applyMessage(doc: Y.Doc, message: Uint8Array): void {
  const d = decoding.createDecoder(message);
  const e = encoding.createEncoder();
  syncProtocol.readSyncMessage(d, e, doc, 'remote');
}

/** Bytes of `messages` y-protocols messages totalling `bytes`, sent each as one frame on our TLS stream. */
export function onStream(bytes: number, messages: number, tlsPerRecord: number): number {
  return bytes + messages * (4 + tlsPerRecord);
}
