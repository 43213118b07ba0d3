// Bounds-checked primitives on top of lib0 encoding. lib0's own readers trust length prefixes:
// a Uint8Array that is a view into a larger buffer would let a forged length read past the
// packet, and a bad UTF-8 string decodes to replacement characters. Every read here checks what
// is left first and throws DecodeError, so the codecs built on it can promise exactly one failure
// mode for hostile input.

import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { DecodeError } from '../src/errors.js';

export type Encoder = encoding.Encoder;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class Reader {
  private readonly dec: decoding.Decoder;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.dec = decoding.createDecoder(bytes);
  }

  remaining(): number {
    return this.bytes.length - this.dec.pos;
  }

  fail(reason: string): never {
    throw new DecodeError(`malformed ${this.what}: ${reason}; the input was dropped`);
  }

  u8(): number {
    if (this.remaining() < 1) this.fail('truncated');
    return decoding.readUint8(this.dec);
  }

  /** A variable-length unsigned integer no larger than `max` (and never above 2^53). */
  uint(max = Number.MAX_SAFE_INTEGER): number {
    let value: number;
    try {
      value = decoding.readVarUint(this.dec);
    } catch (err) {
      throw new DecodeError(`malformed ${this.what}: bad or truncated integer; the input was dropped`, { cause: err });
    }
    // lib0 turns a long run of zero continuation bytes into NaN (0 * Infinity) instead of failing.
    if (!Number.isSafeInteger(value)) this.fail('integer is not a safe integer');
    if (value > max) this.fail(`integer ${value} above limit ${max}`);
    return value;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail(`boolean byte ${b}`);
    return b === 1;
  }

  /** Length-prefixed bytes, copied so the result never aliases the packet buffer. */
  bytesField(maxLen: number): Uint8Array {
    const len = this.uint(maxLen);
    if (len > this.remaining()) this.fail(`length ${len} runs past the end`);
    return decoding.readUint8Array(this.dec, len).slice();
  }

  /** Length-prefixed strict UTF-8. */
  string(maxBytes: number): string {
    const raw = this.bytesField(maxBytes);
    try {
      return utf8.decode(raw);
    } catch (err) {
      throw new DecodeError(`malformed ${this.what}: invalid UTF-8; the input was dropped`, { cause: err });
    }
  }

  /** Codecs call this last so trailing garbage is refused rather than ignored. */
  end(): void {
    if (this.remaining() !== 0) this.fail(`${this.remaining()} trailing bytes`);
  }
}

export function createEncoder(): Encoder {
  return encoding.createEncoder();
}

export function finish(enc: Encoder): Uint8Array {
  return encoding.toUint8Array(enc);
}

export function writeU8(enc: Encoder, v: number): void {
  encoding.writeUint8(enc, v);
}

export function writeUint(enc: Encoder, v: number): void {
  encoding.writeVarUint(enc, v);
}

export function writeBool(enc: Encoder, v: boolean): void {
  encoding.writeUint8(enc, v ? 1 : 0);
}

export function writeBytes(enc: Encoder, v: Uint8Array): void {
  encoding.writeVarUint8Array(enc, v);
}

export function writeString(enc: Encoder, v: string): void {
  encoding.writeVarUint8Array(enc, utf8Encoder.encode(v));
}

/** Bytes a varuint prefix takes, for exact packet budgeting. */
export function varUintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** UTF-8 byte length of a string (names and addresses are limited in bytes, not characters). */
export function utf8Length(s: string): number {
  return utf8Encoder.encode(s).length;
}
