// Sync messages travel as RPC notifications on the member's stream; the envelope adds the
// sender's member name, which is the sync engine's peer id (notifications carry no identity of
// their own on a plaintext cluster, and on TLS-PSK any key holder can claim a name anyway).
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedBytes, readBoundedString } from '../codec.js';

const MAX_NAME = 64;
const MAX_MESSAGE = 2 * 1024 * 1024;

export function encodeSyncEnvelope(from: string, bytes: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, from);
  encoding.writeVarUint8Array(e, bytes);
  return encoding.toUint8Array(e);
}

export function decodeSyncEnvelope(payload: Uint8Array): { from: string; bytes: Uint8Array } {
  return decodeWith(payload, 'sync envelope', (d) => ({ from: readBoundedString(d, MAX_NAME, 'sender'), bytes: readBoundedBytes(d, MAX_MESSAGE, 'sync message') }));
}
