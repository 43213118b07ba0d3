// Shared guard for every binary reader in the project. lib0's decoders do not bounds-check
// (reading past the end yields undefined or a RangeError), so every read of untrusted bytes runs
// through `decodeWith`, which turns any failure into a DecodeError and rejects trailing or
// missing bytes. A node must never crash on what the network sends it.
import * as decoding from 'lib0/decoding';
import { DecodeError } from './errors.js';

export function decodeWith<T>(bytes: Uint8Array, what: string, read: (d: decoding.Decoder) => T): T {
  const decoder = decoding.createDecoder(bytes);
  let value: T;
  try {
    value = read(decoder);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (decoder.pos !== bytes.length) {
    throw new DecodeError(`malformed ${what}: ${decoder.pos > bytes.length ? 'truncated' : 'trailing bytes'}`);
  }
  return value;
}

/** Reads a varuint and checks it is within [0, max]; lib0 returns garbage rather than failing. */
export function readBoundedUint(d: decoding.Decoder, max: number, what: string): number {
  const v = decoding.readVarUint(d);
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new DecodeError(`${what} out of range: ${v}`);
  return v;
}

/** Reads a length-prefixed string no longer than `maxBytes`. */
export function readBoundedString(d: decoding.Decoder, maxBytes: number, what: string): string {
  const len = decoding.peekVarUint(d);
  if (!Number.isSafeInteger(len) || len > maxBytes) throw new DecodeError(`${what} longer than ${maxBytes} bytes`);
  if (d.pos + len > d.arr.length) throw new DecodeError(`${what} truncated`);
  return decoding.readVarString(d);
}

/** Reads length-prefixed bytes no longer than `maxBytes` (copied, so the frame can be reused). */
export function readBoundedBytes(d: decoding.Decoder, maxBytes: number, what: string): Uint8Array {
  const len = readBoundedUint(d, maxBytes, `${what} length`);
  if (d.pos + len > d.arr.length) throw new DecodeError(`${what} truncated`);
  return decoding.readUint8Array(d, len).slice();
}
