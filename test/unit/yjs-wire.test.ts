// The y-websocket frames the node writes (src/yjs/wire.ts) are byte for byte what lib0's encoder,
// as the stock server uses it, writes, at every length-prefix width.
import * as encoding from 'lib0/encoding';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, encodeSyncStep2, encodeUpdate, MSG_SYNC, SYNC_STEP2, SYNC_UPDATE } from '../../src/yjs/wire.js';

function lib0Frame(sub: number, update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_SYNC);
  encoding.writeVarUint(e, sub);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('y-websocket sync frames', () => {
  it('match lib0 at the varint boundaries of the length prefix', () => {
    for (const n of [0, 1, 2, 127, 128, 129, 16_383, 16_384, 16_385, 2_097_151, 2_097_152]) {
      const u = bytes(n, n);
      expect(Buffer.from(encodeUpdate(u)).equals(Buffer.from(lib0Frame(SYNC_UPDATE, u)))).toBe(true);
      expect(Buffer.from(encodeSyncStep2(u)).equals(Buffer.from(lib0Frame(SYNC_STEP2, u)))).toBe(true);
    }
  });

  it('match lib0 and decode back to the same update for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (u, step2) => {
        const f = step2 ? encodeSyncStep2(u) : encodeUpdate(u);
        expect(Buffer.from(f).equals(Buffer.from(lib0Frame(step2 ? SYNC_STEP2 : SYNC_UPDATE, u)))).toBe(true);
        const m = decodeClientFrame(f, 1 << 20);
        expect(m.type).toBe(step2 ? 'sync-step2' : 'update');
        if (m.type === 'sync-step2' || m.type === 'update') expect(Buffer.from(m.update).equals(Buffer.from(u))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is a plain Uint8Array holding exactly the frame (no pool bytes around it visible through length)', () => {
    const f = encodeUpdate(bytes(10, 1));
    expect(f).toBeInstanceOf(Uint8Array);
    expect(f.byteLength).toBe(13);
  });
});
