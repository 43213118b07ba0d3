// The one seeded PRNG of the tests (mulberry32): small, fast and reproducible, so a failing run
// replays from its seed. (The simulator's own streams are src/sim/prng.ts.)
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
