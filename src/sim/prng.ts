// A small, fast, seeded PRNG for the simulator and for seeded tests (DESIGN.md "Seeded randomness
// everywhere in tests"). sfc32 passes PractRand to 2^56+ bytes, runs on 32-bit integer maths
// only (fast in V8) and has a 128-bit state, which is plenty for fault injection.
//
// Streams are derived by *name*, not by drawing from a parent: `fork(label)` hashes the parent's
// seed path with the label. So adding a draw in one subsystem never shifts the numbers another
// subsystem sees, and a replay from the same seed stays identical while code evolves elsewhere.

import type { Rng } from '../runtime/types.js';

/** A seeded Rng with helpers; every method advances only this stream. */
export interface Prng extends Rng {
  /** The seed path this stream was derived from, e.g. "42/network/10.0.0.3". */
  readonly seedPath: string;
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n); n must be a positive integer below 2^32. */
  int(n: number): number;
  /** True with probability p (p <= 0 never draws true, p >= 1 always does). */
  chance(p: number): boolean;
  /** An independent stream determined only by this stream's seed path and `label`. */
  fork(label: string): Prng;
}

/**
 * cyrb128: hashes a string into four 32-bit words, used to seed sfc32. Different strings give
 * unrelated states, which is what `fork` needs.
 */
function hash128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

class Sfc32 implements Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seedPath: string) {
    [this.a, this.b, this.c, this.d] = hash128(seedPath);
    // The first outputs of sfc32 correlate with the seed; discarding a few decorrelates them.
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(n: number): number {
    // Multiply-shift is unbiased enough for simulation purposes and avoids a rejection loop.
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  fork(label: string): Prng {
    return new Sfc32(`${this.seedPath}/${label}`);
  }
}

/** A stream seeded from a number or string; the same seed always gives the same numbers. */
export function createPrng(seed: number | string): Prng {
  return new Sfc32(String(seed));
}

/** `length` random hex digits from `rng` (simulated node ids: seeded, so a run replays). */
export function hexString(rng: Prng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += rng.int(16).toString(16);
  return s;
}
