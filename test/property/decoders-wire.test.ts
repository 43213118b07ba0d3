// Every decoder that reads bytes from the network, fed arbitrary bytes and mutations of genuine
// encodings (truncated, bit-flipped, spliced, with bytes inserted): each returns a value or fails
// with a typed error (DecodeError, its subclass OversizeError, or AuthError), never anything else,
// and never hangs (each call must return within MAX_CALL_MS). Decoders that report failures as
// values (PacketCrypto.open, discovery decodeBody and envelopes) must never throw at all.
//
// Seeded for CI; DECODER_SEED=<n> explores, and fast-check prints the seed and path of a failure.
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { decodeMessage as decodeGossipMessage, decodePacket, encodeCompound, encodeMessage as encodeGossipMessage } from '../../gossip/messages.js';
import { decodePushPull, encodePushPull } from '../../gossip/push-pull.js';
import { decodeUpdateOrThrow } from '../../crdt/updates.js';
import { AuthError, DecodeError, OversizeError } from '../../src/errors.js';
import { decodeRpcFrame, encodeRpcFrame } from '../../src/rpc/frames.js';
import { fromJsonPayload } from '../../src/rpc/json.js';
import { decodeMeta, encodeMeta } from '../../src/node/meta.js';
import { decodeSyncEnvelope, encodeSyncEnvelope } from '../../src/memory/sync-envelope.js';
import { decodeMessage as decodeSyncMessage, encodeMessage as encodeSyncMessage } from '../../src/sync/messages.js';
import { decodeBody, encodeReply, encodeRequest } from '../../src/discovery/codec.js';
import { createDiscoveryCrypto, createEnvelope } from '../../src/discovery/envelope.js';
import { FrameDecoder, encodeFrame } from '../../src/transport/framing.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PacketCrypto } from '../../src/security/packet-crypto.js';

const seed = Number(process.env.DECODER_SEED ?? 20261125);
const RUNS = Number(process.env.DECODER_RUNS ?? 3000);
const MAX_CALL_MS = 250;

/** Genuine bytes, then fast-check mutations of them, plus plain arbitrary bytes. */
function hostile(genuine: Uint8Array[], maxLength = 2048): fc.Arbitrary<Uint8Array> {
  const g = fc.constantFrom(...genuine);
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    g,
    // truncated
    g.chain((b) => fc.nat(b.length).map((n) => b.slice(0, n))),
    // bit flips
    g.chain((b) =>
      fc.array(fc.tuple(fc.nat(Math.max(0, b.length - 1)), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }).map((flips) => {
        const c = Uint8Array.from(b);
        for (const [i, bit] of flips) if (c.length > 0) c[i % c.length]! ^= 1 << bit;
        return c;
      }),
    ),
    // bytes overwritten with extreme values (length fields become huge or zero)
    g.chain((b) =>
      fc.tuple(fc.nat(Math.max(0, b.length - 1)), fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.constantFrom(0x00, 0x7f, 0xff)).map(([at, junk, fill]) => {
        const c = Uint8Array.from(b);
        for (let i = 0; i < junk.length && at + i < c.length; i++) c[at + i] = junk[i]! & 1 ? fill : junk[i]!;
        return c;
      }),
    ),
    // bytes inserted / appended
    g.chain((b) =>
      fc.tuple(fc.nat(b.length), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, ins]) => {
        const c = new Uint8Array(b.length + ins.length);
        c.set(b.subarray(0, at));
        c.set(ins, at);
        c.set(b.subarray(at), at + ins.length);
        return c;
      }),
    ),
  );
}

function typed(err: unknown): boolean {
  return err instanceof DecodeError || err instanceof AuthError || err instanceof OversizeError;
}

/** Runs `decode` on hostile input; only typed errors may escape, and quickly. */
function checkDecoder(name: string, genuine: Uint8Array[], decode: (b: Uint8Array) => unknown, maxLength?: number): void {
  it(`${name}: arbitrary bytes give a value or a typed error, never a throw of anything else, never a hang`, () => {
    fc.assert(
      fc.property(hostile(genuine, maxLength), (bytes) => {
        const t0 = performance.now();
        try {
          decode(bytes);
        } catch (err) {
          if (!typed(err)) throw new Error(`${name} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
        }
        expect(performance.now() - t0).toBeLessThan(MAX_CALL_MS);
      }),
      { seed, numRuns: RUNS },
    );
  });
}

const meta = encodeMeta({ role: 'hybrid', slots: 16, freeSlots: 3, rpcPort: 10000, httpPort: 10080, protocol: 1, lifecycle: 'ACTIVE', nodeId: 'abcdef0123456789' });
const alive = encodeGossipMessage({ type: 'alive', incarnation: 7, name: 'n1', address: '127.0.0.1:9999', meta });
const gossipSamples = [
  alive,
  encodeGossipMessage({ type: 'ping-req', seq: 99, target: 'n2', targetAddress: '127.0.0.2:9999', wantNack: true }),
  encodeGossipMessage({ type: 'suspect', incarnation: 3, name: 'n2', from: 'n1' }),
  encodeCompound([alive, encodeGossipMessage({ type: 'ack', seq: 4 }), encodeGossipMessage({ type: 'dead', incarnation: 2, name: 'n3', from: 'n1' })]),
];

const doc = new Y.Doc();
doc.getMap('m').set('k', 'v');
doc.getText('t').insert(0, 'hello world');
const update = Y.encodeStateAsUpdate(doc);

const hash = new Uint8Array(16).fill(9);
const syncSamples = [
  encodeSyncMessage({ kind: 'ae-root', session: 5, root: hash }),
  encodeSyncMessage({ kind: 'ae-groups', session: 5, hashes: Array.from({ length: 16 }, () => hash) }),
  encodeSyncMessage({ kind: 'ae-buckets', session: 5, groups: [{ group: 1, hashes: Array.from({ length: 16 }, () => hash) }] }),
  encodeSyncMessage({ kind: 'ae-docs', session: 5, all: true, buckets: [1, 2], docs: [{ id: 'agent-1', digest: hash.subarray(0, 8) }] }),
  encodeSyncMessage({ kind: 'doc-states', session: 5, mode: 'delta_only', entries: [{ id: 'agent-1', sv: Y.encodeStateVector(doc) }] }),
  encodeSyncMessage({ kind: 'doc-deltas', session: 5, mode: 'continuous', reply: true, entries: [{ id: 'agent-1', update, sv: Y.encodeStateVector(doc) }] }),
  encodeSyncMessage({ kind: 'update', requestId: 8, docId: 'agent-1', update }),
  encodeSyncMessage({ kind: 'chunk', messageId: 1, index: 0, count: 2, payload: new Uint8Array(100) }),
];

const ring = new Keyring(generateKey(), [generateKey()]);
const crypto = new PacketCrypto({ keyring: ring, label: 'trinity', version: 1 });
const sealed = [crypto.seal(alive, { senderId: 1n, seq: 1n }), crypto.seal(new Uint8Array(0), { senderId: 2n, seq: 9n })];

const nonce = new Uint8Array(16).fill(1);
const discoverySamples = [
  encodeRequest({ nonce, insecure: false }),
  encodeReply({ nonce, insecure: true, name: 'n1', host: '127.0.0.1', port: 9999, rpcPort: 10000 }),
  encodeReply({ nonce, insecure: false, name: 'n2', host: '127.0.0.2', port: 9999, rpcPort: 10000 }),
];
const clock = { now: () => 0 };
const discoveryCrypto = createDiscoveryCrypto({ keyring: ring, label: 'trinity' });
const sealedEnvelope = createEnvelope({ crypto: discoveryCrypto }, clock);
const plainEnvelope = createEnvelope({ insecure: true }, clock);
const discoverySealed = discoverySamples.map((b) => sealedEnvelope.wrap(b));

/** Never-throws decoders: a failure must be a typed value. */
function noThrow<T>(fn: (b: Uint8Array) => T, check: (r: T) => void): (b: Uint8Array) => void {
  return (b) => {
    let r: T;
    try {
      r = fn(b);
    } catch (err) {
      throw new Error(`must not throw, threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    }
    check(r);
  };
}

describe('decoders of untrusted bytes (property)', () => {
  checkDecoder('gossip decodePacket', gossipSamples, (b) => decodePacket(b, 1336));
  checkDecoder('gossip decodeMessage', gossipSamples, (b) => decodeGossipMessage(b));
  checkDecoder('gossip decodePushPull', [encodePushPull({ join: true, members: [{ name: 'n1', address: '127.0.0.1:9999', meta, incarnation: 4, state: 'suspect' }, { name: 'n2', address: '127.0.0.2:9999', meta: new Uint8Array(), incarnation: 1, state: 'alive' }] })], decodePushPull);
  checkDecoder('rpc decodeRpcFrame', [
    encodeRpcFrame({ kind: 'request', id: 1, method: 'swim.push-pull', payload: alive }),
    encodeRpcFrame({ kind: 'response', id: 2 ** 31, payload: meta }),
    encodeRpcFrame({ kind: 'error', id: 3, name: 'QuorumError', message: 'no quorum' }),
    encodeRpcFrame({ kind: 'notify', method: 'sync', payload: update }),
  ], decodeRpcFrame);
  checkDecoder('rpc fromJsonPayload', [new TextEncoder().encode('{"agent":"a","task":"t","tags":["x"]}')], (b) => fromJsonPayload(b, 'args'));
  checkDecoder('node decodeMeta', [meta], decodeMeta);
  checkDecoder('memory decodeSyncEnvelope', [encodeSyncEnvelope('n1', syncSamples[5]!)], decodeSyncEnvelope);
  checkDecoder('sync decodeMessage', syncSamples, decodeSyncMessage);
  checkDecoder('crdt decodeUpdateOrThrow', [update], decodeUpdateOrThrow);

  checkDecoder('transport FrameDecoder (any chunking)', [encodeFrame(alive), Uint8Array.from([...encodeFrame(meta), ...encodeFrame(update)])], (b) => {
    const d = new FrameDecoder(64 * 1024);
    // Feed in three uneven chunks, then end of stream.
    const a = Math.floor(b.length / 3);
    d.push(b.subarray(0, a));
    d.push(b.subarray(a, a * 2 + 1));
    d.push(b.subarray(a * 2 + 1));
    d.end();
  });

  checkDecoder('security PacketCrypto.open / openOrThrow', sealed, (b) => {
    noThrow(
      (x) => crypto.open(x),
      (r) => {
        if (!r.ok) expect(r.error instanceof AuthError || r.error instanceof DecodeError).toBe(true);
      },
    )(b);
    crypto.openOrThrow(b);
  });
  checkDecoder('security PacketCrypto.peekHeader', sealed, noThrow((x) => crypto.peekHeader(x), () => {}));

  checkDecoder('discovery decodeBody', discoverySamples, noThrow(decodeBody, (r) => {
    if (r instanceof Error) expect(r).toBeInstanceOf(DecodeError);
  }));
  checkDecoder('discovery sealed envelope unwrap', discoverySealed, noThrow((x) => sealedEnvelope.unwrap(x), (r) => {
    if (!r.ok) expect(typed(r.error)).toBe(true);
  }));
  checkDecoder('discovery plaintext envelope unwrap', discoverySamples, noThrow((x) => plainEnvelope.unwrap(x), (r) => {
    if (!r.ok) expect(typed(r.error)).toBe(true);
  }));

  it('genuine encodings still decode (the mutations start from valid bytes)', () => {
    for (const g of gossipSamples) expect(() => decodePacket(g, 1336)).not.toThrow();
    for (const s of syncSamples) expect(() => decodeSyncMessage(s)).not.toThrow();
    expect(decodeMeta(meta).nodeId).toBe('abcdef0123456789');
    expect(crypto.open(sealed[0]!).ok).toBe(true);
    expect(sealedEnvelope.unwrap(discoverySealed[2]!).ok).toBe(true);
    expect(plainEnvelope.unwrap(discoverySamples[1]!).ok).toBe(true);
    expect(decodeSyncEnvelope(encodeSyncEnvelope('n1', syncSamples[0]!)).from).toBe('n1');
  });
});
