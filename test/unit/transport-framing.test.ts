// Framing must survive whatever a socket delivers: any chunking of valid frames decodes to the
// same frames, and arbitrary bytes give frames or a typed DecodeError, never another exception
// and never a hang. fast-check prints the seed of a failing case; replay it with
// `fc.assert(..., { seed, path })`.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, OversizeError } from '../../src/errors.js';
import { FrameDecoder, encodeFrame } from '../../src/transport/framing.js';

/** Splits `bytes` at the given cut points (any values; they are folded into range). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe('framing', () => {
  it('round-trips any frames through any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const wire = concat(frames.map((f) => encodeFrame(f)));
          const decoder = new FrameDecoder();
          const got = chunk(wire, cuts).flatMap((c) => decoder.push(c));
          expect(got.map((f) => Array.from(f))).toEqual(frames.map((f) => Array.from(f)));
          expect(decoder.buffered).toBe(0);
          decoder.end();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes give frames or a typed error, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 0, max: 4096 }), (bytes, cuts, max) => {
        const decoder = new FrameDecoder(max);
        let total = 0;
        try {
          for (const c of chunk(bytes, cuts)) for (const f of decoder.push(c)) total += 4 + f.byteLength;
          decoder.end();
          expect(total).toBe(bytes.byteLength); // no error means every byte was a whole frame
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          // Once failed, the decoder stays failed with the same error.
          expect(() => decoder.push(Uint8Array.of(0))).toThrow(err as Error);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects an announced length above the limit at the header, before buffering it', () => {
    const decoder = new FrameDecoder(1024);
    expect(() => decoder.push(Uint8Array.of(0, 0, 4, 1))).toThrow(OversizeError);
    const huge = new FrameDecoder();
    expect(() => huge.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow(OversizeError);
  });

  it('reports a stream that ends inside a frame', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(encodeFrame(Uint8Array.of(1, 2, 3)).subarray(0, 5))).toEqual([]);
    expect(() => decoder.end()).toThrow(DecodeError);
  });

  it('encodeFrame refuses oversize payloads', () => {
    expect(() => encodeFrame(new Uint8Array(11), 10)).toThrow(OversizeError);
  });

  it('decodes a 1 MiB frame delivered one byte-run at a time in linear time', () => {
    const frame = new Uint8Array(1024 * 1024).map((_, i) => i & 255);
    const wire = encodeFrame(frame);
    const decoder = new FrameDecoder();
    const out: Uint8Array[] = [];
    const start = performance.now();
    for (let i = 0; i < wire.byteLength; i += 1000) out.push(...decoder.push(wire.subarray(i, i + 1000)));
    expect(performance.now() - start).toBeLessThan(2000);
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(Buffer.from(frame))).toBe(true);
  });
});
