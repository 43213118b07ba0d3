// Interned metadata (gossip/intern.ts): one shared copy per distinct byte string, equal to its
// input, never aliasing a packet; and what shares it (decoded alive facts, push-pull states,
// encoded alive facts, decoded node metadata) still reads exactly what was sent.
import { describe, expect, it } from 'vitest';
import { DecodeCache, internBytes, isInterned } from '../../gossip/intern.js';
import { DecodeError } from '../../src/errors.js';
import { decodePacket, encodeAliveShared, encodeClaimShared, encodeCompound, encodeMessage, type Alive } from '../../gossip/messages.js';
import { decodePushPull, encodePushPull, encodeTable, type PushPullMember } from '../../gossip/push-pull.js';
import { decodeMetaShared, encodeMeta, type NodeMeta } from '../../src/node/meta.js';

const meta = (n: number): Uint8Array => Uint8Array.from({ length: 40 }, (_, i) => (i * 7 + n) & 255);

describe('interned bytes', () => {
  it('returns one canonical copy per content, equal to the input and not aliasing it', () => {
    const a = meta(1);
    const first = internBytes(a);
    expect(first).toEqual(a);
    expect(first).not.toBe(a);
    expect(internBytes(meta(1))).toBe(first);
    expect(isInterned(first)).toBe(true);
    expect(isInterned(a)).toBe(false);
    // A subrange interns as its content; changing the source afterwards changes nothing held.
    const packet = new Uint8Array([9, 9, ...a, 9]);
    const fromPacket = internBytes(packet, 2, 2 + a.length);
    expect(fromPacket).toBe(first);
    packet.fill(0);
    expect(first).toEqual(meta(1));
    expect(internBytes(meta(2))).not.toBe(first);
  });

  it('stays bounded: 100,000 distinct inputs keep at most its slot count of copies, each read back correctly', () => {
    const held = new Set<Uint8Array>();
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) {
      const bytes = new Uint8Array([i & 255, (i >> 8) & 255, (i >> 16) & 255, 1, 2, 3]);
      const x = internBytes(bytes);
      if (x.length !== bytes.length || x.some((b, j) => b !== bytes[j])) wrong++;
      held.add(x);
    }
    expect(wrong).toBe(0);
    let live = 0;
    for (const x of held) if (isInterned(x)) live++;
    expect(live).toBeLessThanOrEqual(16384);
    expect(live).toBeGreaterThan(1000);
  });

  it('decoded alive facts and push-pull members share the canonical meta; the packet stays untouched', () => {
    const alive: Alive = { type: 'alive', incarnation: 4, name: 'n1', address: '127.0.0.1:1', meta: meta(3) };
    const packet = encodeCompound([encodeMessage(alive), encodeMessage({ ...alive, name: 'n2' })]);
    const before = packet.slice();
    const [x, y] = decodePacket(packet, 1400) as Alive[];
    expect(x!.meta).toEqual(meta(3));
    expect(x!.meta).toBe(y!.meta);
    expect(packet).toEqual(before);
    const state = decodePushPull(encodePushPull({ join: false, members: [{ name: 'n1', address: 'a:1', meta: meta(3), incarnation: 1, state: 'alive' }] }));
    expect(state.members[0]!.meta).toBe(x!.meta);
  });

  it('an encoded alive fact is shared and equal to its plain encoding', () => {
    const alive: Alive = { type: 'alive', incarnation: 7, name: 'n9', address: 'h:2', meta: meta(5) };
    const shared = encodeAliveShared(alive);
    expect(shared).toEqual(encodeMessage(alive));
    expect(encodeAliveShared({ ...alive, meta: meta(5) })).toBe(shared);
  });

  it('node metadata decodes once per interned copy, frozen; other bytes decode afresh; garbage is undefined', () => {
    const m: NodeMeta = { role: 'hybrid', slots: 4, freeSlots: 2, rpcPort: 7000, httpPort: 0, protocol: 1, lifecycle: 'ACTIVE', nodeId: 'abcdef0123456789', configWord: 12 };
    const bytes = internBytes(encodeMeta(m));
    const d = decodeMetaShared(bytes)!;
    expect(d).toEqual(m);
    expect(Object.isFrozen(d)).toBe(true);
    expect(decodeMetaShared(bytes)).toBe(d);
    const plain = encodeMeta(m);
    expect(decodeMetaShared(plain)).toEqual(m);
    expect(decodeMetaShared(plain)).not.toBe(d);
    expect(decodeMetaShared(internBytes(new Uint8Array([200, 1])))).toBeUndefined();
  });

  it('an alive fact heard again decodes to the same frozen message; a fact with trailing bytes is still refused', () => {
    const alive: Alive = { type: 'alive', incarnation: 11, name: 'n7', address: 'h:7', meta: meta(8) };
    const bytes = encodeMessage(alive);
    const [a] = decodePacket(bytes, 1400);
    const [b] = decodePacket(bytes.slice(), 1400);
    expect(a).toEqual(alive);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => decodePacket(new Uint8Array([...bytes, 0]), 1400)).toThrow(DecodeError);
    // Another incarnation is another fact.
    const [c] = decodePacket(encodeMessage({ ...alive, incarnation: 12 }), 1400);
    expect((c as Alive).incarnation).toBe(12);
  });

  it('a decoded alive fact keeps its encoding (equal to the plain one); an unfrozen claim is encoded each time from its fields', () => {
    const alive: Alive = { type: 'alive', incarnation: 21, name: 'n21', address: 'h:21', meta: meta(21) };
    const [a] = decodePacket(encodeMessage(alive), 1400) as Alive[];
    const once = encodeClaimShared(a!);
    expect(once).toEqual(encodeMessage(alive));
    expect(encodeClaimShared(a!)).toBe(once);
    // A claim that may still change (a push-pull record) is not remembered by identity.
    const claim = { incarnation: 21, name: 'n21', address: 'h:21', meta: meta(21) };
    expect(encodeClaimShared(claim)).toEqual(once);
    claim.incarnation = 22;
    expect(encodeClaimShared(claim)).toEqual(encodeMessage({ ...alive, incarnation: 22 }));
  });

  it('a copy handed out once is its own canonical copy, even after its slot was taken', () => {
    const first = internBytes(meta(30));
    // Fill every slot with other content: `first` is evicted.
    for (let i = 0; i < 200_000 && isInterned(first); i++) internBytes(new Uint8Array([i & 255, (i >> 8) & 255, (i >> 16) & 255, 30]));
    expect(isInterned(first)).toBe(false);
    expect(internBytes(first)).toBe(first);
    // Equal bytes not handed out still come back as a copy, never aliased.
    const plain = meta(30);
    expect(internBytes(plain)).not.toBe(plain);
    expect(internBytes(plain)).toEqual(plain);
  });

  it('a table encoded in place equals encodePushPull of the same records, the first member leading', () => {
    const rec = (i: number): PushPullMember => ({ name: `m${i}`, address: `h:${i}`, meta: meta(i), incarnation: i, state: i % 3 === 0 ? 'suspect' : 'alive' });
    const table = [rec(1), rec(2), rec(3), rec(4)];
    const self = table[2]!;
    const inPlace = encodeTable(true, self, table, table.length);
    expect(inPlace).toEqual(encodePushPull({ join: true, members: [self, table[0]!, table[1]!, table[3]!] }));
    expect(decodePushPull(inPlace).members.map((m) => m.name)).toEqual(['m3', 'm1', 'm2', 'm4']);
  });

  it('DecodeCache returns only what was stored under equal bytes', () => {
    const cache = new DecodeCache<string>(4);
    cache.set(new Uint8Array([1, 2, 3]), 0, 3, 'a');
    expect(cache.get(new Uint8Array([0, 1, 2, 3]), 1, 4)).toBe('a');
    expect(cache.get(new Uint8Array([1, 2]), 0, 2)).toBeUndefined();
    for (let i = 0; i < 64; i++) cache.set(new Uint8Array([i, 9]), 0, 2, `v${i}`);
    for (let i = 0; i < 64; i++) {
      const v = cache.get(new Uint8Array([i, 9]), 0, 2);
      if (v !== undefined) expect(v).toBe(`v${i}`);
    }
    expect(() => new DecodeCache<string>(3)).toThrow(RangeError);
  });
});
