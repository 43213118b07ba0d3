// The y-websocket v3 wire (y-protocols sync, awareness and auth): one message per WebSocket
// frame, `varUint(type)` then its payload. Decoding is bounded and strict (decodeWith): a frame
// that does not decode is a DecodeError, never a crash, and the session closes the socket.
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedBytes, readBoundedString, readBoundedUint } from '../codec.js';
import { DecodeError } from '../errors.js';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_AUTH = 2;
export const MSG_QUERY_AWARENESS = 3;

export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

/** A state vector is a few bytes per client that ever wrote: 1 MiB is far beyond any real one. */
const MAX_STATE_VECTOR = 1024 * 1024;
/** One awareness entry's JSON state (a cursor, a name, a colour): generous, and a bound on relay cost. */
export const MAX_AWARENESS_STATE = 64 * 1024;
/** Entries in one awareness message: a client sends its own; a relay sends what it knows. */
export const MAX_AWARENESS_ENTRIES = 1024;

export type ClientMessage =
  | { type: 'sync-step1'; stateVector: Uint8Array }
  | { type: 'sync-step2'; update: Uint8Array }
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'auth' }
  | { type: 'query-awareness' };

/** One frame from a client. `maxUpdate` bounds an update's bytes (the document size limit). */
export function decodeClientFrame(frame: Uint8Array, maxUpdate: number): ClientMessage {
  return decodeWith(frame, 'y-websocket frame', (d) => {
    const type = readBoundedUint(d, 255, 'message type');
    switch (type) {
      case MSG_SYNC: {
        const sub = readBoundedUint(d, 2, 'sync message type');
        if (sub === SYNC_STEP1) return { type: 'sync-step1', stateVector: readBoundedBytes(d, MAX_STATE_VECTOR, 'state vector') };
        const update = readBoundedBytes(d, maxUpdate, 'update');
        return sub === SYNC_STEP2 ? { type: 'sync-step2', update } : { type: 'update', update };
      }
      case MSG_AWARENESS:
        return { type: 'awareness', update: readBoundedBytes(d, MAX_AWARENESS_ENTRIES * (MAX_AWARENESS_STATE + 32), 'awareness update') };
      case MSG_AUTH:
        // Only servers send auth (permission denied); a client's is read past and ignored.
        d.pos = d.arr.length;
        return { type: 'auth' };
      case MSG_QUERY_AWARENESS:
        return { type: 'query-awareness' };
      default:
        throw new DecodeError(`unknown y-websocket message type ${type}`);
    }
  });
}

function frame(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}

export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MSG_SYNC);
    encoding.writeVarUint(e, SYNC_STEP1);
    encoding.writeVarUint8Array(e, stateVector);
  });
}

export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return syncFrame(SYNC_STEP2, update);
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  return syncFrame(SYNC_UPDATE, update);
}

/**
 * A sync message carrying an update, built with one allocation and one copy of the update. A
 * lib0 encoder grows by doubling and copies again when it is read out: for a 10 MB initial sync
 * that was three fresh 10 MB buffers and as many copies on the node, per new client.
 */
function syncFrame(sub: number, update: Uint8Array): Uint8Array {
  const n = update.byteLength;
  let lenBytes = 1;
  for (let v = n; v > 0x7f; v = Math.floor(v / 128)) lenBytes++;
  const buf = Buffer.allocUnsafe(2 + lenBytes + n); // every byte is written below
  const out = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  out[0] = MSG_SYNC;
  out[1] = sub;
  let pos = 2;
  let v = n;
  while (v > 0x7f) {
    out[pos++] = 0x80 | v % 128;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  out.set(update, pos);
  return out;
}

/** The awareness message as the stock client and server write it: the update inside a varUint8Array. */
export function encodeAwareness(update: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MSG_AWARENESS);
    encoding.writeVarUint8Array(e, update);
  });
}

/** y-protocols auth "permission denied": the stock client logs the reason and keeps the socket. */
export function encodePermissionDenied(reason: string): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MSG_AUTH);
    encoding.writeVarUint(e, 0);
    encoding.writeVarString(e, reason);
  });
}

/** An awareness message with no entries: changes nothing on the client, but resets its 30 s liveness check. */
export const KEEPALIVE_FRAME = encodeAwareness(new Uint8Array([0]));

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The JSON text of the state; 'null' removes the client. */
  state: string;
}

/** An awareness update's entries; each state must be JSON (a relay must not pass on what clients would choke on). */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  return decodeWith(update, 'awareness update', (d) => {
    const n = readBoundedUint(d, MAX_AWARENESS_ENTRIES, 'awareness entry count');
    const out: AwarenessEntry[] = [];
    for (let i = 0; i < n; i++) {
      const clientId = readBoundedUint(d, 2 ** 53 - 1, 'awareness client id');
      const clock = readBoundedUint(d, 2 ** 53 - 1, 'awareness clock');
      const state = readBoundedString(d, MAX_AWARENESS_STATE, 'awareness state');
      try {
        JSON.parse(state);
      } catch {
        throw new DecodeError('awareness state is not JSON');
      }
      out.push({ clientId, clock, state });
    }
    return out;
  });
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, entries.length);
    for (const x of entries) {
      encoding.writeVarUint(e, x.clientId);
      encoding.writeVarUint(e, x.clock);
      encoding.writeVarString(e, x.state);
    }
  });
}
