// readBoundedString reads short ASCII by hand (no view of the buffer) and everything else through
// lib0: whatever the string, it must read exactly what lib0 wrote and what lib0 alone would read,
// leave the decoder at the same position, and refuse over-long or truncated input.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBoundedBytes, readBoundedString } from '../../src/codec.js';
import { DecodeError } from '../../src/errors.js';

function written(parts: string[]): Uint8Array {
  const e = encoding.createEncoder();
  for (const p of parts) encoding.writeVarString(e, p);
  encoding.writeVarUint(e, 7); // a trailing field the reader must land on
  return encoding.toUint8Array(e);
}

describe('readBoundedString', () => {
  it('reads what lib0 wrote, ASCII or not, short or long, and stops where lib0 stops', () => {
    const str = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 70 }));
    fc.assert(
      fc.property(fc.array(str, { minLength: 1, maxLength: 4 }), (parts) => {
        const bytes = written(parts);
        const ours = decoding.createDecoder(bytes);
        const theirs = decoding.createDecoder(bytes);
        for (const p of parts) {
          const a = readBoundedString(ours, 1024, 'field');
          expect(a).toBe(decoding.readVarString(theirs));
          expect(a).toBe(p);
          expect(ours.pos).toBe(theirs.pos);
        }
        expect(decoding.readVarUint(ours)).toBe(7);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a string over the limit and one that runs past the end, without moving', () => {
    const long = written(['abcdef']);
    const d = decoding.createDecoder(long);
    expect(() => readBoundedString(d, 5, 'name')).toThrow(DecodeError);
    expect(d.pos).toBe(0);
    const cut = long.slice(0, 4);
    expect(() => readBoundedString(decoding.createDecoder(cut), 64, 'name')).toThrow(/truncated/);
  });
});

describe('readBoundedBytes', () => {
  it('returns a copy of the bytes and moves past them', () => {
    const e = encoding.createEncoder();
    encoding.writeVarUint8Array(e, new Uint8Array([1, 2, 3]));
    encoding.writeVarUint(e, 9);
    const bytes = encoding.toUint8Array(e);
    const d = decoding.createDecoder(bytes);
    const got = readBoundedBytes(d, 16, 'blob');
    expect([...got]).toEqual([1, 2, 3]);
    got[0] = 99;
    expect(bytes[1]).toBe(1); // a copy, not a view
    expect(decoding.readVarUint(d)).toBe(9);
    expect(() => readBoundedBytes(decoding.createDecoder(bytes.slice(0, 2)), 16, 'blob')).toThrow(/truncated/);
  });
});
