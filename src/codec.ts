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

/** Strings up to this many bytes are read without a view of the buffer when they are ASCII. */
const ASCII_FAST_MAX = 64;

/** Reads a length-prefixed string no longer than `maxBytes`. */
export function readBoundedString(d: decoding.Decoder, maxBytes: number, what: string): string {
  const len = decoding.peekVarUint(d);
  if (!Number.isSafeInteger(len) || len > maxBytes) throw new DecodeError(`${what} longer than ${maxBytes} bytes`);
  if (d.pos + len > d.arr.length) throw new DecodeError(`${what} truncated`);
  if (len <= ASCII_FAST_MAX) {
    // lib0 decodes through a view of the array's buffer, and asking a small (on-heap) Uint8Array
    // for its buffer moves it off the heap: at 1,000 simulated nodes, decoding member metadata
    // that way was 13% of all CPU. ASCII decodes the same by hand; anything else goes to lib0.
    const start = d.pos;
    decoding.readVarUint(d);
    const arr = d.arr;
    const from = d.pos;
    let out = '';
    let i = from;
    for (; i < from + len; i++) {
      const b = arr[i]!;
      if (b >= 0x80) break;
      out += String.fromCharCode(b);
    }
    if (i === from + len) {
      d.pos = i;
      return out;
    }
    d.pos = start;
  }
  return decoding.readVarString(d);
}

/** Reads length-prefixed bytes no longer than `maxBytes` (copied, so the frame can be reused). */
export function readBoundedBytes(d: decoding.Decoder, maxBytes: number, what: string): Uint8Array {
  const len = readBoundedUint(d, maxBytes, `${what} length`);
  if (d.pos + len > d.arr.length) throw new DecodeError(`${what} truncated`);
  const start = d.pos;
  d.pos += len;
  return d.arr.slice(start, start + len); // a copy, without a view of the buffer (see readBoundedString)
}
