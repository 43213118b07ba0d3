// The segment of an episode is a pure function of its id (docs/segmented-memory.md): every
// replica agrees, every id lands in range, segment names round-trip and never read as an agent id.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSegmentDocName, segmentDocName, segmentOf, SEGMENT_BITS } from '../../crdt/segments.js';

const hexId = fc.stringMatching(/^[0-9a-f]{16}$/);
const agentId = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,40}$/);

describe('episode segments', () => {
  it('puts every id in range, from its top bits, and an unsplit agent in segment 0', () => {
    fc.assert(
      fc.property(hexId, fc.integer({ min: 1, max: 16 }), (id, bits) => {
        const k = segmentOf(id, bits);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(k).toBeLessThan(2 ** bits);
        expect(k).toBe(Number(BigInt(`0x${id}`) >> BigInt(64 - bits)));
        expect(segmentOf(id, 0)).toBe(0);
      }),
    );
    expect(segmentOf('ffff000000000000', SEGMENT_BITS)).toBe(63);
    expect(segmentOf('03ff000000000000', SEGMENT_BITS)).toBe(0);
    expect(segmentOf('0400000000000000', SEGMENT_BITS)).toBe(1);
  });

  it('spreads random ids evenly enough over the 64 segments', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const counts = new Array<number>(2 ** SEGMENT_BITS).fill(0);
    for (let i = 0; i < 64_000; i++) {
      let id = '';
      for (let c = 0; c < 16; c++) id += Math.floor(random() * 16).toString(16);
      counts[segmentOf(id, SEGMENT_BITS)]! += 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('names segments so the name round-trips and is never a root or an agent id', () => {
    fc.assert(
      fc.property(agentId, fc.integer({ min: 1, max: 16 }), fc.nat(), (agent, bits, n) => {
        const segment = n % 2 ** bits;
        const root = `agent/${agent}`;
        const name = segmentDocName(root, segment, bits);
        expect(parseSegmentDocName(name)).toEqual({ root, segment });
        expect(parseSegmentDocName(root)).toBeUndefined();
        expect(/^[A-Za-z0-9._:@-]{1,128}$/.test(name.slice('agent/'.length))).toBe(false);
      }),
    );
  });

  it('refuses bad input with a clear error', () => {
    expect(() => segmentOf('XYZ', 6)).toThrow(/16 lowercase hex/);
    expect(() => segmentOf('0123456789abcdef', 17)).toThrow(/outside 0..16/);
    expect(() => segmentDocName('agent/a', 64, 6)).toThrow(/outside 0..63/);
    expect(() => segmentDocName('agent/a/01', 1, 6)).toThrow(/not a root/);
  });
});
