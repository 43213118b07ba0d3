import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/sim/prng.js';

const draw = (seed: number | string, n: number): number[] => {
  const rng = createPrng(seed);
  return Array.from({ length: n }, () => rng.next());
};

describe('sim prng', () => {
  it('replays the same numbers from the same seed, different ones from another', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
    expect(draw(42, 100)).not.toEqual(draw(43, 100));
    expect(draw('42', 5)).toEqual(draw(42, 5));
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const rng = createPrng(7);
    const buckets = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(600); // > 6 sigma
  });

  it('forks by label, independent of how much the parent has drawn', () => {
    const a = createPrng(1);
    const b = createPrng(1);
    for (let i = 0; i < 17; i++) b.next();
    expect(draw(0, 0)).toEqual([]);
    const fa = a.fork('network');
    const fb = b.fork('network');
    expect([fa.next(), fa.next()]).toEqual([fb.next(), fb.next()]);
    expect(a.fork('x').next()).not.toBe(a.fork('y').next());
    expect(a.fork('x').seedPath).toBe('1/x');
  });

  it('int and chance respect their ranges', () => {
    const rng = createPrng('r');
    for (let i = 0; i < 1000; i++) {
      const k = rng.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
    expect(rng.chance(0)).toBe(false);
    expect(rng.chance(1)).toBe(true);
  });
});
