// Properties of rendezvous placement (src/placement/) over random voter sets, factors and keys:
// deterministic and independent of the order voters are listed in; sets of min(RF, N) distinct
// voters; minimal movement when a voter joins or leaves (only keys whose set gains the joiner, or
// held the leaver, move, and each by one voter); a weight change moves keys only to or from the
// reweighted voter; and, on a join, close to RF/(N+1) of the keys move.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { moveOf, Placement, placementMoves, type PlacementVoter } from '../../src/placement/index.js';

const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
const voterNames = (min: number, max: number) => fc.uniqueArray(name, { minLength: min, maxLength: max });
const rf = fc.constantFrom(1, 3, 5, 7);
const keys = fc.array(fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }), { minLength: 1, maxLength: 40 });
const asVoters = (ns: readonly string[]): PlacementVoter[] => ns.map((n) => ({ name: n }));

describe('rendezvous placement (property)', () => {
  it('is deterministic, order-independent, and picks min(RF, N) distinct voters', () => {
    fc.assert(
      fc.property(voterNames(0, 24), rf, keys, fc.integer(), (ns, f, ks, seed) => {
        const a = new Placement(asVoters(ns), f);
        const shuffled = fc.sample(fc.shuffledSubarray(ns, { minLength: ns.length, maxLength: ns.length }), { seed, numRuns: 1 })[0]!;
        const b = new Placement(asVoters(shuffled), f);
        for (const k of ks) {
          const r = a.replicas(k);
          expect(b.replicas(k)).toEqual(r);
          expect(a.replicas(k)).toEqual(r);
          expect(new Set(r).size).toBe(Math.min(f, ns.length));
          for (const n of r) expect(ns).toContain(n);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a join moves only keys whose new set includes the joiner, each by exactly one voter', () => {
    fc.assert(
      fc.property(voterNames(1, 24), name, rf, keys, (ns, joiner, f, ks) => {
        fc.pre(!ns.includes(joiner));
        const before = new Placement(asVoters(ns), f);
        const after = new Placement(asVoters([...ns, joiner]), f);
        for (const k of ks) {
          const m = moveOf(before, after, k);
          if (!m) {
            expect(after.replicas(k)).not.toContain(joiner);
            continue;
          }
          expect(m.gained).toEqual([joiner]);
          // Below the factor the joiner is only added; at or above it, it displaces one voter.
          expect(m.lost).toHaveLength(ns.length >= f ? 1 : 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a leave moves only keys the leaver held, each to the next voter in rank', () => {
    fc.assert(
      fc.property(voterNames(2, 24), fc.nat(), rf, keys, (ns, pick, f, ks) => {
        const leaver = ns[pick % ns.length]!;
        const before = new Placement(asVoters(ns), f);
        const after = new Placement(asVoters(ns.filter((n) => n !== leaver)), f);
        for (const k of ks) {
          const m = moveOf(before, after, k);
          if (!before.replicas(k).includes(leaver)) {
            expect(m).toBeUndefined();
            continue;
          }
          expect(m!.lost).toEqual([leaver]);
          expect(m!.gained).toHaveLength(ns.length > f ? 1 : 0);
          // The survivors keep their relative order: the set is the old one less the leaver, plus one at the end.
          expect(m!.after.slice(0, f - 1)).toEqual(m!.before.filter((n) => n !== leaver).slice(0, f - 1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('changing one voter\'s weight moves keys only to or from that voter', () => {
    fc.assert(
      fc.property(voterNames(2, 16), fc.nat(), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), rf, keys, (ns, pick, w1, w2, f, ks) => {
        const target = ns[pick % ns.length]!;
        const weighted = (w: number) => ns.map((n, i) => ({ name: n, weight: n === target ? w : 1 + (i % 4) }));
        const moves = placementMoves(new Placement(weighted(w1), f), new Placement(weighted(w2), f), ks);
        for (const m of moves) {
          expect(m.gained.length).toBe(1);
          expect(m.lost.length).toBe(1);
          expect([m.gained[0], m.lost[0]]).toContain(target);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('on a join about RF/(N+1) of the keys move (within 5 standard deviations)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 60 }), fc.constantFrom(1, 3, 5), fc.integer({ min: 0, max: 1e6 }), (n, f, salt) => {
        fc.pre(n >= f);
        const voters = Array.from({ length: n }, (_, i) => ({ name: `v${salt}-${i}` }));
        const before = new Placement(voters, f);
        const after = new Placement([...voters, { name: `joiner-${salt}` }], f);
        const ks = Array.from({ length: 2000 }, (_, k) => `key-${salt}-${k}`);
        const moved = placementMoves(before, after, ks).length;
        const p = f / (n + 1);
        const sd = Math.sqrt(ks.length * p * (1 - p));
        expect(Math.abs(moved - ks.length * p)).toBeLessThan(5 * sd);
      }),
      { numRuns: 40 },
    );
  });
});
