// Bounds-checked primitives for the gossip codecs. Every read checks what is left first and throws
// DecodeError, so the codecs built on it can promise exactly one failure mode for hostile input:
// a Uint8Array that is a view into a larger buffer can never let a forged length read past the
// packet, and a bad UTF-8 string is refused rather than decoded to replacement characters.
//
// The byte format is lib0's (varuints of 7 bits per byte, least significant first; byte strings
// with a varuint length prefix), written and read here directly: every gossip packet passes
// through these functions, and lib0's general-purpose encoder (a chain of buffers) and decoder
// (a fresh view per field) were a large part of the simulator's time at 1,000 nodes.

import { DecodeError } from '../errors/index.js';
import { internBytes as internShared, type DecodeCache } from './intern.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Names and addresses are short and nearly always ASCII: those take the fast paths below. */
const ASCII_FAST_MAX = 64;

/**
 * Recently decoded short strings, direct-mapped by a hash of their bytes. A node hears the same
 * few names and addresses over and over (every alive fact about a member carries both), and
 * decoding each afresh cost more than everything else done with the fact; a hit also returns a
 * string whose hash V8 already knows, so the member-table lookup that follows is cheaper too.
 * The cache only ever returns a string equal to what decoding the bytes gives.
 */
// 16,384 slots: at 1,000 members a node hears about 2,000 distinct names and addresses, which in
// 4,096 direct-mapped slots evicted each other about a third of the time.
const INTERN_SLOTS = 16384;
const internBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(INTERN_SLOTS);
const internStrings: string[] = new Array<string>(INTERN_SLOTS);

function decodeShort(bytes: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const known = internBytes[slot];
  if (known !== undefined && known.length === end - start) {
    let same = true;
    for (let i = 0; i < known.length; i++) {
      if (known[i] !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return internStrings[slot]!;
  }
  const s = utf8.decode(bytes.subarray(start, end)); // throws on invalid UTF-8: nothing cached
  internBytes[slot] = bytes.slice(start, end);
  internStrings[slot] = s;
  return s;
}

export class Reader {
  private pos: number;
  /** One past the last byte this reader may read (a compound part ends before its packet does). */
  private readonly limit: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.limit = end;
  }

  remaining(): number {
    return this.limit - this.pos;
  }

  /**
   * Reads a length-prefixed field of at most `maxLen` bytes as a reader of its own, without
   * copying: `what` names it in errors, and the field's bytes are skipped here.
   */
  sub(maxLen: number, what: string): Reader {
    const len = this.uint(maxLen);
    if (len > this.remaining()) this.fail(`length ${len} runs past the end`);
    const start = this.pos;
    this.pos += len;
    return new Reader(this.bytes, what, start, start + len);
  }

  /**
   * Reads everything left with `read`, through `cache`: on a hit the bytes are skipped and the
   * cached value returned. A value is cached only when `read` consumed exactly the rest (so the
   * caller's end() check stays meaningful).
   */
  restThrough<T>(cache: DecodeCache<T>, read: (r: Reader) => T): T {
    const start = this.pos;
    const end = this.limit;
    const hit = cache.get(this.bytes, start, end);
    if (hit !== undefined) {
      this.pos = end;
      return hit;
    }
    const value = read(this);
    if (this.pos === end) cache.set(this.bytes, start, end, value);
    return value;
  }

  fail(reason: string): never {
    throw new DecodeError(`malformed ${this.what}: ${reason}; the input was dropped`);
  }

  u8(): number {
    if (this.pos >= this.limit) this.fail('truncated');
    return this.bytes[this.pos++]!;
  }

  /** A variable-length unsigned integer no larger than `max` (and never above 2^53). */
  uint(max = Number.MAX_SAFE_INTEGER): number {
    const bytes = this.bytes;
    const len = this.limit;
    let value = 0;
    let mult = 1;
    for (;;) {
      if (this.pos >= len) throw new DecodeError(`malformed ${this.what}: bad or truncated integer; the input was dropped`);
      const b = bytes[this.pos++]!;
      value += (b & 127) * mult;
      mult *= 128;
      if (b < 128) break;
      if (value > Number.MAX_SAFE_INTEGER) throw new DecodeError(`malformed ${this.what}: bad or truncated integer; the input was dropped`);
    }
    // A long run of zero continuation bytes makes 0 * Infinity = NaN instead of failing.
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
    const start = this.pos;
    this.pos += len;
    return this.bytes.slice(start, start + len);
  }

  /** Length-prefixed bytes as their process-wide canonical copy (intern.ts): shared, never to be written. */
  internedBytes(maxLen: number): Uint8Array {
    const len = this.uint(maxLen);
    if (len > this.remaining()) this.fail(`length ${len} runs past the end`);
    const start = this.pos;
    this.pos += len;
    return internShared(this.bytes, start, start + len);
  }

  /** Length-prefixed strict UTF-8. */
  string(maxBytes: number): string {
    const len = this.uint(maxBytes);
    if (len > this.remaining()) this.fail(`length ${len} runs past the end`);
    const bytes = this.bytes;
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    try {
      return len <= ASCII_FAST_MAX ? decodeShort(bytes, start, end) : utf8.decode(bytes.subarray(start, end));
    } catch (err) {
      throw new DecodeError(`malformed ${this.what}: invalid UTF-8; the input was dropped`, { cause: err });
    }
  }

  /** Codecs call this last so trailing garbage is refused rather than ignored. */
  end(): void {
    if (this.remaining() !== 0) this.fail(`${this.remaining()} trailing bytes`);
  }
}

/** A growable byte buffer; `finish` returns exactly the bytes written. */
export class Encoder {
  buf: Uint8Array;
  pos = 0;

  /** `initial`: a starting size, or the buffer to write into (it grows into a new one if outgrown). */
  constructor(initial: number | Uint8Array = 128) {
    this.buf = typeof initial === 'number' ? new Uint8Array(initial) : initial;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
}

export function createEncoder(initial?: number): Encoder {
  return new Encoder(initial);
}

/** Packets up to this size are cut from a shared slab (packetBuffer). */
const SLAB_MAX_PACKET = 4096;
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

/**
 * `size` fresh bytes for an outgoing packet: a view into a 64 KiB slab for small ones. Each packet
 * was its own ArrayBuffer (an off-heap allocation the garbage collector tracks one by one): at
 * 1,000 simulated nodes, millions of them. A slab lives while any packet cut from it does, so at
 * most 64 KiB per packet still held; packets are short-lived (sent, or decoded into copies).
 */
export function packetBuffer(size: number): Uint8Array {
  if (size > SLAB_MAX_PACKET) return new Uint8Array(size);
  if (slabUsed + size > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned, as a fresh buffer would be
  return out;
}

const scratch = new Encoder(1024);

/**
 * A shared encoder, emptied, for codecs that `finish` (copy out) before returning: saves a buffer
 * allocation per message. Not for anything that can call back into another codec mid-encoding.
 */
export function scratchEncoder(): Encoder {
  scratch.pos = 0;
  return scratch;
}

export function finish(enc: Encoder): Uint8Array {
  return enc.buf.slice(0, enc.pos);
}

export function writeU8(enc: Encoder, v: number): void {
  enc.reserve(1);
  enc.buf[enc.pos++] = v;
}

export function writeUint(enc: Encoder, v: number): void {
  if (enc.pos + 8 > enc.buf.length) enc.reserve(varUintSize(v));
  const buf = enc.buf;
  let num = v;
  while (num > 127) {
    buf[enc.pos++] = 128 | (127 & num);
    num = Math.floor(num / 128);
  }
  buf[enc.pos++] = 127 & num;
}

export function writeBool(enc: Encoder, v: boolean): void {
  writeU8(enc, v ? 1 : 0);
}

export function writeBytes(enc: Encoder, v: Uint8Array): void {
  writeUint(enc, v.byteLength);
  enc.reserve(v.byteLength);
  enc.buf.set(v, enc.pos);
  enc.pos += v.byteLength;
}

export function writeString(enc: Encoder, v: string): void {
  const n = v.length;
  if (n <= ASCII_FAST_MAX) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (v.charCodeAt(i) >= 128) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      writeUint(enc, n);
      enc.reserve(n);
      const buf = enc.buf;
      let p = enc.pos;
      for (let i = 0; i < n; i++) buf[p++] = v.charCodeAt(i);
      enc.pos = p;
      return;
    }
  }
  writeBytes(enc, utf8Encoder.encode(v));
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
