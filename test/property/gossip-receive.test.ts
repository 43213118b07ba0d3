// Arbitrary bytes from the network must never throw out of Swim.receive, never change the member
// table, and must be counted as dropped. fast-check prints the seed and path of any failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { decodePacket, encodeCompound, encodeMessage } from '../../gossip/messages.js';
import { decodePushPull } from '../../gossip/push-pull.js';
import { Swim } from '../../gossip/swim.js';
import { DecodeError } from '../../src/errors.js';
import { seeded } from '../lib/seeded.js';

function fixture(): Swim {
  const random = seeded(99);
  const s = new Swim({ name: 'me', address: 'me:1', meta: new Uint8Array([1]), config: profile('lan'), random, now: 0 });
  s.receive('a:1', encodeMessage({ type: 'alive', incarnation: 1, name: 'a', address: 'a:1', meta: new Uint8Array() }), 1);
  return s;
}
const snapshot = (s: Swim): string => JSON.stringify(s.members(), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));

describe('hostile input (property)', () => {
  // Fixed by default so CI is reproducible; GOSSIP_SEED=<n> explores. fast-check prints the seed on failure.
  const seed = Number(process.env.GOSSIP_SEED ?? 20261125);

  it('decodePacket and decodePushPull throw only DecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        for (const decode of [() => decodePacket(bytes, 1336), () => decodePushPull(bytes)]) {
          try {
            decode();
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { seed, numRuns: 2000, verbose: true },
    );
  });

  it('receive() never throws on garbage; malformed packets are counted and change nothing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => {
        const s = fixture();
        const before = snapshot(s);
        const dropped = s.stats().droppedMalformed!;
        let malformed = false;
        try {
          decodePacket(bytes, 1336);
        } catch {
          malformed = true;
        }
        const effects = s.receive('x:1', bytes, 5);
        expect(s.stats().handlerErrors).toBe(0);
        if (malformed) {
          expect(effects).toEqual([]);
          expect(snapshot(s)).toBe(before);
          expect(s.stats().droppedMalformed).toBe(dropped + 1);
        }
      }),
      { seed, numRuns: 2000, verbose: true },
    );
  });

  it('mutated valid packets (bit flips, cuts) never throw out of receive()', () => {
    const valid = encodeCompound([
      encodeMessage({ type: 'ping', seq: 3, target: 'me' }),
      encodeMessage({ type: 'suspect', incarnation: 1, name: 'a', from: 'b' }),
      encodeMessage({ type: 'alive', incarnation: 2, name: 'c', address: 'c:1', meta: new Uint8Array([5, 6]) }),
    ]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(valid.length), (flips, cut) => {
        const bytes = valid.slice(0, cut);
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        const s = fixture();
        expect(() => s.receive('x:1', bytes, 5)).not.toThrow();
        expect(s.stats().handlerErrors).toBe(0);
      }),
      { seed, numRuns: 1000, verbose: true },
    );
  });
});
