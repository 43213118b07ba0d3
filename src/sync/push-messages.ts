// Bodies of the continuous-push messages (update, updates, ack, acks, unknown-ref): the per-write
// replication traffic, kept apart from the anti-entropy codecs in messages.ts, which owns the
// header byte and document names and calls in here for these kinds.
import { fail, readCount, readRest, readBytes, readUint, writeBytes, writeFixed, writeUint, type Decoder, type Encoder } from './wire.js';

/** One push inside an `updates` message. */
export interface PushEntry { requestId: number; docId: string; update: Uint8Array }

export type PushMessage =
  /** Continuous push; the receiver answers `ack` with the same id once the update is durable. */
  | { kind: 'update'; requestId: number; docId: string; update: Uint8Array }
  /**
   * Several continuous pushes to one peer in one message (a turn's writes, any documents); the
   * receiver stores each and answers with one `acks` for those it stored, durably.
   */
  | { kind: 'updates'; entries: PushEntry[] }
  /**
   * `word`: the acknowledging node's voter-configuration word (src/quorum/voter-config.ts), so a
   * writer counts only acknowledgements from members on its own configuration. Absent when 0.
   */
  | { kind: 'ack'; requestId: number; word?: number }
  /** Acknowledges several pushes at once (an `updates` message); `word` as for `ack`. */
  | { kind: 'acks'; requestIds: number[]; word?: number }
  /** A message named a document by a number the receiver cannot resolve; `requestId` of the push, 0 if none. */
  | { kind: 'unknown-ref'; requestId: number };

/** What reading a push body needs from the name reader in messages.ts. */
export interface PushNameContext {
  /** The push an UnknownRefError names (set before a name is read). */
  requestId: number;
}

/** Writes the body of `m` after its header; `writeName` writes a document id as messages.ts plans it. */
export function writePushBody(e: Encoder, m: PushMessage, writeName: (id: string) => void): void {
  switch (m.kind) {
    case 'update':
      writeUint(e, m.requestId);
      writeName(m.docId);
      // Last field: no length prefix, the message ends where the update does.
      writeFixed(e, m.update);
      break;
    case 'updates':
      if (m.entries.length === 0) throw new RangeError('an updates message carries at least one push');
      writeUint(e, m.entries.length);
      for (const p of m.entries) {
        writeUint(e, p.requestId);
        writeName(p.docId);
        writeBytes(e, p.update);
      }
      break;
    case 'ack':
      writeUint(e, m.requestId);
      if (m.word) writeUint(e, m.word);
      break;
    case 'acks':
      if (m.requestIds.length === 0) throw new RangeError('an acks message carries at least one request id');
      writeUint(e, m.word ?? 0);
      writeUint(e, m.requestIds.length);
      for (const id of m.requestIds) writeUint(e, id);
      break;
    case 'unknown-ref':
      writeUint(e, m.requestId);
      break;
  }
}

/** Reads the body of a push message of `kind`; throws DecodeError on malformed input. */
export function readPushBody(d: Decoder, kind: PushMessage['kind'], ctx: PushNameContext, readName: () => string): PushMessage {
  switch (kind) {
    case 'update': {
      const requestId = readUint(d, 'request id');
      ctx.requestId = requestId;
      const docId = readName();
      return { kind, requestId, docId, update: readRest(d) };
    }
    case 'ack': {
      const requestId = readUint(d, 'request id');
      if (d.pos === d.arr.length) return { kind, requestId };
      const word = readUint(d, 'config word');
      if (word === 0) fail('config word 0 is never written (trailing bytes?)');
      return { kind, requestId, word };
    }
    case 'updates': {
      // Each push: a request id, a name and a length-prefixed update (at least 3 bytes).
      const n = readCount(d, 3, 'push');
      if (n === 0) fail('an updates message with no push');
      const entries: PushEntry[] = [];
      for (let i = 0; i < n; i++) {
        const requestId = readUint(d, 'request id');
        // A name the receiver cannot resolve names the message by its first push (the sender resends them all).
        if (i === 0) ctx.requestId = requestId;
        entries.push({ requestId, docId: readName(), update: readBytes(d, 'update') });
      }
      return { kind, entries };
    }
    case 'acks': {
      const word = readUint(d, 'config word');
      const n = readCount(d, 1, 'request id');
      if (n === 0) fail('an acks message with no request id');
      const requestIds: number[] = [];
      for (let i = 0; i < n; i++) requestIds.push(readUint(d, 'request id'));
      return word === 0 ? { kind, requestIds } : { kind, requestIds, word };
    }
    case 'unknown-ref':
      return { kind, requestId: readUint(d, 'request id') };
  }
}

/** Below 2^31: a varuint of at most 5 bytes, built with 32-bit shifts. */
export function isSmallUint(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < 0x80000000;
}

/**
 * The ack encoding of the general path (`header`, varuint id, varuint word unless 0), without an
 * encoder: one is sent per received push. Both numbers must pass isSmallUint.
 */
export function encodeAckBytes(header: number, requestId: number, word: number | undefined): Uint8Array {
  const out = new Uint8Array(11);
  out[0] = header;
  let n = putVarUint(out, 1, requestId);
  if (word) n = putVarUint(out, n, word);
  return out.subarray(0, n);
}

function putVarUint(out: Uint8Array, at: number, x: number): number {
  while (x > 0x7f) {
    out[at++] = 0x80 | (x & 0x7f);
    x >>>= 7;
  }
  out[at++] = x;
  return at;
}
