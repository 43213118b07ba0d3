// Hostile input: arbitrary bytes into PacketCrypto.open and into the secure transport's receive
// path must never throw anything but AuthError/DecodeError, and must return promptly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, DecodeError } from '../../src/errors.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PacketCrypto, SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';
import { securePackets } from '../../src/security/secure-packet-transport.js';
import type { Address, PacketTransport } from '../../src/transport/types.js';

const ring = new Keyring(generateKey(), [generateKey(), generateKey()]);
const crypto = new PacketCrypto({ keyring: ring, label: 'prop', version: 3 });
const valid = crypto.seal(new TextEncoder().encode('a genuine gossip packet'), { senderId: 1n, seq: 1n });

// Random bytes, plus mutations of a genuine packet (more likely to reach deep code paths).
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 1600 }),
  fc.uint8Array({ minLength: SEAL_OVERHEAD, maxLength: 200 }).map((b) => {
    b[0] = 1; // valid format version, so decryption is attempted
    return b;
  }),
  fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
    const b = Buffer.from(valid);
    b[i]! ^= x;
    return b;
  }),
  fc.nat(valid.length).map((n) => valid.subarray(0, n)),
);

describe('open() on hostile input', () => {
  it('returns a typed failure and never throws', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const t0 = performance.now();
        const r = crypto.open(bytes);
        expect(performance.now() - t0).toBeLessThan(200);
        if (!r.ok) expect(r.error instanceof AuthError || r.error instanceof DecodeError).toBe(true);
        else expect(Buffer.from(bytes).equals(valid)).toBe(true);
        try {
          crypto.openOrThrow(bytes);
        } catch (e) {
          expect(e instanceof AuthError || e instanceof DecodeError).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('secure transport receive path on hostile input', () => {
  it('never throws, counts every drop, delivers nothing forged', () => {
    let handler: ((from: Address, data: Uint8Array) => void) | undefined;
    const inner: PacketTransport = {
      address: '127.0.0.1:7946',
      send: () => {},
      onPacket: (h) => (handler = h),
      close: async () => {},
    };
    const t = securePackets(inner, { keyring: ring, label: 'prop', version: 3, clock: { now: () => 0 } });
    let delivered = 0;
    t.onPacket(() => delivered++);
    let fed = 0;
    fc.assert(
      fc.property(hostile, fc.constantFrom('127.0.0.1:1', '127.0.0.2:2'), (bytes, from) => {
        const isGenuine = Buffer.from(bytes).equals(valid);
        expect(() => handler!(from, bytes)).not.toThrow();
        if (!isGenuine) fed++;
      }),
      { numRuns: 2000 },
    );
    const drops = t.drops.auth + t.drops.replay + t.drops.malformed + t.drops.oversize;
    // The genuine packet is delivered at most once; everything else is dropped and counted.
    expect(delivered).toBeLessThanOrEqual(1);
    expect(drops).toBeGreaterThanOrEqual(fed);
  });
});

describe('openPeeked() on hostile input', () => {
  it('agrees with open() whenever peekHeader accepts the bytes', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const header = crypto.peekHeader(bytes);
        if (header instanceof DecodeError) return;
        const a = crypto.open(bytes);
        const b = crypto.openPeeked(bytes, header);
        expect(b.ok).toBe(a.ok);
        if (!b.ok) expect(b.error instanceof AuthError || b.error instanceof DecodeError).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
