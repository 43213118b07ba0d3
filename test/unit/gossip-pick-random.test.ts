// pickRandom keeps its partial Fisher-Yates swaps in a map instead of copying the input; it must
// pick exactly what the copying version picked, with the same random draws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickRandom } from '../../gossip/probe-order.js';

function pickByCopy<T>(items: readonly T[], k: number, random: () => number): T[] {
  const pool = [...items];
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

describe('pickRandom', () => {
  it('picks what a copy-and-shuffle picks, drawing the same numbers (property)', () => {
    const seed = Number(process.env.GOSSIP_SEED ?? 20261125);
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 0, max: 70 }), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 70, maxLength: 70 }), (items, k, draws) => {
        const stream = () => {
          let i = 0;
          return { next: () => draws[i++ % draws.length]!, used: () => i };
        };
        const a = stream();
        const b = stream();
        expect(pickRandom(items, k, a.next)).toEqual(pickByCopy(items, k, b.next));
        expect(a.used()).toBe(b.used());
      }),
      { seed, numRuns: 500 },
    );
  });

  it('leaves its input alone', () => {
    const items = [1, 2, 3, 4, 5];
    pickRandom(items, 3, () => 0.99);
    expect(items).toEqual([1, 2, 3, 4, 5]);
  });
});
