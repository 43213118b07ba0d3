// Sync messages travel as RPC notifications on the member's stream; the envelope adds the
// sender's member name, which is the sync engine's peer id (notifications carry no identity of
// their own on a plaintext cluster, and on TLS-PSK any key holder can claim a name anyway).
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedString, readBoundedUint } from '../codec.js';
import { DecodeError } from '../errors.js';

const MAX_NAME = 64;
const MAX_MESSAGE = 2 * 1024 * 1024;

export function encodeSyncEnvelope(from: string, bytes: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, from);
  encoding.writeVarUint8Array(e, bytes);
  return encoding.toUint8Array(e);
}

/** `bytes` is a view into `payload` (not copied: the sync engine copies whatever it keeps). */
export function decodeSyncEnvelope(payload: Uint8Array): { from: string; bytes: Uint8Array } {
  return decodeWith(payload, 'sync envelope', (d) => {
    const from = readBoundedString(d, MAX_NAME, 'sender');
    const n = readBoundedUint(d, MAX_MESSAGE, 'sync message length');
    if (d.pos + n > d.arr.length) throw new DecodeError('sync message truncated');
    return { from, bytes: decoding.readUint8Array(d, n) };
  });
}
