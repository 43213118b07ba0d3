// Codec round trips, and the promise that hostile bytes only ever produce DecodeError.
import { describe, expect, it } from 'vitest';
import { MAX_META_BYTES, decodeMessage, decodePacket, encodeCompound, encodeMessage, type GossipMessage } from '../../gossip/messages.js';
import { decodePushPull, encodePushPull, type PushPullState } from '../../gossip/push-pull.js';
import { DecodeError, OversizeError } from '../../src/errors.js';

const samples: GossipMessage[] = [
  { type: 'ping', seq: 1, target: 'node-a' },
  { type: 'ping', seq: Number.MAX_SAFE_INTEGER, target: 'ünïcødé-✓' },
  { type: 'ping-req', seq: 42, target: 'b', targetAddress: '10.0.0.2:7946', wantNack: true },
  { type: 'ping-req', seq: 0, target: 'b', targetAddress: '[::1]:7946', wantNack: false },
  { type: 'ack', seq: 7 },
  { type: 'nack', seq: 300 },
  { type: 'suspect', incarnation: 3, name: 'c', from: 'd' },
  { type: 'alive', incarnation: 9, name: 'e', address: '10.0.0.5:7946', meta: new Uint8Array(MAX_META_BYTES).fill(7) },
  { type: 'alive', incarnation: 0, name: 'e', address: 'h:1', meta: new Uint8Array() },
  { type: 'dead', incarnation: 2, name: 'f', from: 'f' },
];

describe('gossip message codecs', () => {
  it.each(samples.map((m) => [m.type, m] as const))('%s round-trips', (_t, m) => {
    const bytes = encodeMessage(m);
    expect(decodeMessage(bytes)).toEqual(m);
    expect(decodePacket(bytes, 1336)).toEqual([m]);
  });

  it('compound packets round-trip in order', () => {
    const bytes = encodeCompound(samples.slice(0, 7).map(encodeMessage));
    expect(decodePacket(bytes, 1336)).toEqual(samples.slice(0, 7));
  });

  it('every truncation of every message is a DecodeError', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m);
      for (let len = 0; len < bytes.length; len++) {
        expect(() => decodePacket(bytes.subarray(0, len), 1336), `${m.type} cut at ${len}`).toThrow(DecodeError);
      }
    }
    const compound = encodeCompound(samples.slice(0, 4).map(encodeMessage));
    for (let len = 0; len < compound.length; len++) expect(() => decodePacket(compound.subarray(0, len), 1336)).toThrow(DecodeError);
  });

  it('a length prefix that points past the packet is refused even inside a larger buffer', () => {
    // A view into a bigger buffer: lib0 alone would happily read the bytes beyond the view.
    const backing = new Uint8Array(64).fill(0x61);
    backing.set([1, 5, 40], 0); // ping, seq 5, name length 40 but the view is 3 bytes
    expect(() => decodePacket(backing.subarray(0, 3), 1336)).toThrow(DecodeError);
  });

  it('refuses oversized packets, oversized fields, trailing bytes, bad UTF-8, nested compounds and unknown types', () => {
    expect(() => decodePacket(new Uint8Array(1337), 1336)).toThrow(OversizeError);
    const bigMeta = encodeMessage({ type: 'alive', incarnation: 1, name: 'a', address: 'b', meta: new Uint8Array(MAX_META_BYTES + 1) });
    expect(() => decodePacket(bigMeta, 4096)).toThrow(DecodeError);
    const ack = encodeMessage({ type: 'ack', seq: 1 });
    expect(() => decodePacket(new Uint8Array([...ack, 0]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([1, 1, 2, 0xc3, 0x28]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(encodeCompound([encodeCompound([ack])]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([8, 0]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([99]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([5, 1, 1, 0x61, 1]), 1336)).toThrow(DecodeError); // truncated accuser name
    // An ack whose seq is 200 zero continuation bytes: lib0 alone decodes it to NaN, silently.
    const nanSeq = new Uint8Array(202).fill(0x80);
    nanSeq[0] = 3;
    nanSeq[201] = 0;
    expect(() => decodePacket(nanSeq, 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([2, 1, 1, 0x61, 1, 0x62, 2]), 1336)).toThrow(DecodeError); // wantNack byte 2
  });
});

describe('push-pull codec', () => {
  const state: PushPullState = {
    join: true,
    members: [
      { name: 'a', address: 'a:1', meta: new Uint8Array([1]), incarnation: 0, state: 'alive' },
      { name: 'b', address: 'b:1', meta: new Uint8Array(), incarnation: 5, state: 'suspect' },
      { name: 'c', address: 'c:1', meta: new Uint8Array(512), incarnation: 2 ** 40, state: 'dead' },
      { name: 'd', address: 'd:1', meta: new Uint8Array([4]), incarnation: 1, state: 'left' },
    ],
  };

  it('round-trips', () => {
    expect(decodePushPull(encodePushPull(state))).toEqual(state);
    expect(decodePushPull(encodePushPull({ join: false, members: [] }))).toEqual({ join: false, members: [] });
  });

  it('every truncation, a bad version, a bad state code and trailing bytes are DecodeErrors', () => {
    const bytes = encodePushPull(state);
    for (let len = 0; len < bytes.length; len++) expect(() => decodePushPull(bytes.subarray(0, len)), `cut at ${len}`).toThrow(DecodeError);
    expect(() => decodePushPull(new Uint8Array([2, ...bytes.subarray(1)]))).toThrow(/version/);
    const badState = encodePushPull({ join: false, members: [state.members[0]!] });
    badState[badState.length - 1] = 4;
    expect(() => decodePushPull(badState)).toThrow(/state/);
    expect(() => decodePushPull(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
    expect(() => decodePushPull(new Uint8Array([1, 0, 0xff, 0xff, 0xff, 0x7f]))).toThrow(DecodeError); // forged huge count
  });
});

describe('gossip wire fast paths', () => {
  it('the decoded-string cache never returns another string, whatever collides in it', () => {
    // Thousands of distinct short names and addresses (more than the cache holds), decoded twice
    // in different orders: every decode must give back exactly the encoded string.
    const names = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? `n${i}` : i % 3 === 1 ? `10.${i >> 8}.${i & 255}.1:9999` : `nœud-${i}-✓`));
    for (const order of [names, [...names].reverse()]) {
      for (const name of order) {
        const m: GossipMessage = { type: 'suspect', incarnation: 1, name, from: name.slice(0, 3) };
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }
    }
  });

  it('bad UTF-8 is refused even when a valid string of the same length was decoded just before', () => {
    expect(decodePacket(new Uint8Array([1, 1, 2, 0xc3, 0xa9]), 1336)).toEqual([{ type: 'ping', seq: 1, target: 'é' }]);
    expect(() => decodePacket(new Uint8Array([1, 1, 2, 0xc3, 0x28]), 1336)).toThrow(DecodeError);
    expect(() => decodePacket(new Uint8Array([1, 1, 2, 0xc3, 0x28]), 1336)).toThrow(DecodeError);
  });

  it('encodes exactly as lib0 did: varuints up to 2^53 and messages larger than the initial buffer', () => {
    // Byte-for-byte: an ack with seq 300 is [3, 0xac, 0x02]; MAX_SAFE_INTEGER takes 8 varuint bytes.
    expect([...encodeMessage({ type: 'ack', seq: 300 })]).toEqual([3, 0xac, 0x02]);
    expect([...encodeMessage({ type: 'ack', seq: Number.MAX_SAFE_INTEGER })]).toEqual([3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const big: GossipMessage = { type: 'alive', incarnation: 2 ** 40, name: 'x'.repeat(200), address: 'é'.repeat(100), meta: new Uint8Array(MAX_META_BYTES).fill(9) };
    expect(decodeMessage(encodeMessage(big))).toEqual(big);
    const state: PushPullState = { join: false, members: Array.from({ length: 300 }, (_, i) => ({ name: `n${i}`, address: `10.0.${i >> 8}.${i & 255}:9999`, meta: new Uint8Array(60).fill(i & 255), incarnation: i, state: 'alive' as const })) };
    expect(decodePushPull(encodePushPull(state))).toEqual(state);
    // Encoded messages do not share the (reused) encoder's buffer.
    const a = encodeMessage({ type: 'ack', seq: 1 });
    encodeMessage({ type: 'ack', seq: 2 });
    expect([...a]).toEqual([3, 1]);
  });
});
