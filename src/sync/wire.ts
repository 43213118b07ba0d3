// Bounds-checked reading on top of lib0's decoder. lib0's readUint8Array returns a view without
// checking the length against the input, so a lying length prefix would read past the message
// into whatever shares its buffer; every byte read in the sync protocol goes through here.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { DecodeError } from '../errors.js';

export type Decoder = decoding.Decoder;
export type Encoder = encoding.Encoder;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function fail(what: string): never {
  throw new DecodeError(`malformed sync message: ${what}; the message was dropped`);
}

export function readUint(d: Decoder, what: string): number {
  try {
    return decoding.readVarUint(d);
  } catch (err) {
    throw new DecodeError(`malformed sync message: bad ${what}; the message was dropped`, { cause: err });
  }
}

export function readByte(d: Decoder, what: string): number {
  if (d.pos >= d.arr.length) fail(`truncated before ${what}`);
  return d.arr[d.pos++]!;
}

/** Reads exactly `n` bytes, copied so they stay valid after the input buffer is reused. */
export function readFixed(d: Decoder, n: number, what: string): Uint8Array {
  if (n > d.arr.length - d.pos) fail(`truncated ${what}`);
  const out = d.arr.slice(d.pos, d.pos + n);
  d.pos += n;
  return out;
}

/** Everything left (the last field of a message, written without a length). Copied. */
export function readRest(d: Decoder): Uint8Array {
  return readFixed(d, d.arr.length - d.pos, 'rest');
}

export function readBytes(d: Decoder, what: string): Uint8Array {
  return readFixed(d, readUint(d, `${what} length`), what);
}

export function readString(d: Decoder, what: string): string {
  try {
    return strictUtf8.decode(readBytes(d, what));
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed sync message: ${what} is not UTF-8; the message was dropped`, { cause: err });
  }
}

/** A count of items, each at least `minItemBytes` long: bounded by what is left to read. */
export function readCount(d: Decoder, minItemBytes: number, what: string): number {
  const n = readUint(d, `${what} count`);
  if (n * minItemBytes > d.arr.length - d.pos) fail(`${what} count ${n} exceeds the message`);
  return n;
}

export function expectEnd(d: Decoder): void {
  if (d.pos !== d.arr.length) fail(`${d.arr.length - d.pos} trailing bytes`);
}

export const writeUint = encoding.writeVarUint;
export const writeBytes = encoding.writeVarUint8Array;
export const writeString = encoding.writeVarString;
export const writeFixed = encoding.writeUint8Array;
export const writeByte = encoding.writeUint8;
export const createEncoder = encoding.createEncoder;
export const toBytes = encoding.toUint8Array;
export const createDecoder = decoding.createDecoder;
