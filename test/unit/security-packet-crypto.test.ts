import { describe, expect, it } from 'vitest';
import { AuthError, DecodeError } from '../../src/errors.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PacketCrypto, SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';

const msg = new TextEncoder().encode('ping from n1: incarnation 7');
const hdr = { senderId: 0x0102030405060708n, seq: 42n };
const make = (ring: Keyring, label = 'prod', version = 1): PacketCrypto => new PacketCrypto({ keyring: ring, label, version });

describe('PacketCrypto', () => {
  it('round trips and adds exactly SEAL_OVERHEAD (45) bytes', () => {
    const c = make(new Keyring(generateKey()));
    const sealed = c.seal(msg, hdr);
    expect(SEAL_OVERHEAD).toBe(45);
    expect(sealed.length).toBe(msg.length + SEAL_OVERHEAD);
    const opened = c.openOrThrow(sealed);
    expect(Buffer.from(opened.plaintext).equals(Buffer.from(msg))).toBe(true);
    expect(opened.senderId).toBe(hdr.senderId);
    expect(opened.seq).toBe(hdr.seq);
    expect(opened.keyIndex).toBe(0);
  });

  it('uses a fresh IV per packet', () => {
    const c = make(new Keyring(generateKey()));
    expect(c.seal(msg, hdr).equals(c.seal(msg, hdr))).toBe(false);
  });

  it('seals an empty packet', () => {
    const c = make(new Keyring(generateKey()));
    expect(c.openOrThrow(c.seal(new Uint8Array(0), hdr)).plaintext.length).toBe(0);
  });

  it('fails with a wrong key', () => {
    const sealed = make(new Keyring(generateKey())).seal(msg, hdr);
    const r = make(new Keyring(generateKey())).open(sealed);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBeInstanceOf(AuthError);
  });

  it('fails when any single byte is flipped', () => {
    const c = make(new Keyring(generateKey()));
    const sealed = c.seal(msg, hdr);
    for (let i = 0; i < sealed.length; i++) {
      const t = Buffer.from(sealed);
      t[i]! ^= 0x01;
      const r = c.open(t);
      expect(r.ok, `byte ${i}`).toBe(false);
      // Byte 0 is the format version: a DecodeError; everything else fails authentication.
      expect(!r.ok && r.error).toBeInstanceOf(i === 0 ? DecodeError : AuthError);
    }
  });

  it('binds label and protocol version (AAD)', () => {
    const ring = new Keyring(generateKey());
    const sealed = make(ring, 'prod', 1).seal(msg, hdr);
    expect(make(ring, 'staging', 1).open(sealed).ok).toBe(false);
    expect(make(ring, 'prod', 2).open(sealed).ok).toBe(false);
    expect(make(ring, 'prod', 1).open(sealed).ok).toBe(true);
  });

  it('rejects short packets and unknown versions as DecodeError', () => {
    const c = make(new Keyring(generateKey()));
    expect(() => c.openOrThrow(new Uint8Array(10))).toThrow(DecodeError);
    const sealed = c.seal(msg, hdr);
    sealed[0] = 9;
    expect(() => c.openOrThrow(sealed)).toThrow(/format version 9/);
  });

  it('rotation: old-primary packets open after use(new) and stop after remove(old)', () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const sender = new Keyring(oldKey);
    const receiver = new Keyring(oldKey);
    const s = make(sender);
    const r = make(receiver);
    const before = s.seal(msg, hdr);
    // Step 1: install the new key everywhere.
    sender.install(newKey);
    receiver.install(newKey);
    // Step 2: use it. The receiver still opens packets sealed with the old primary.
    receiver.use(newKey);
    expect(r.openOrThrow(before).keyIndex).toBe(1);
    // A sender that has not switched yet is still understood, and one that has is too.
    expect(r.open(s.seal(msg, hdr)).ok).toBe(true);
    sender.use(newKey);
    const after = s.seal(msg, hdr);
    expect(r.openOrThrow(after).keyIndex).toBe(0);
    // Step 3: remove the old key: old packets no longer open.
    receiver.remove(oldKey);
    expect(r.open(before).ok).toBe(false);
    expect(r.open(after).ok).toBe(true);
  });

  it('opens a packet that is a view at an offset into a larger buffer (as UDP delivers it)', () => {
    const c = make(new Keyring(generateKey()));
    const sealed = c.seal(msg, hdr);
    const big = new Uint8Array(sealed.length + 100);
    big.set(sealed, 37);
    const view = new Uint8Array(big.buffer, 37, sealed.length);
    const opened = c.openOrThrow(view);
    expect(Buffer.from(opened.plaintext).equals(Buffer.from(msg))).toBe(true);
    expect(opened.seq).toBe(hdr.seq);
    // The view is not modified, and the bytes around it do not leak into the result.
    expect(Buffer.from(view).equals(sealed)).toBe(true);
  });

  it('openPeeked agrees with open, and reports a malformed packet it was handed', () => {
    const c = make(new Keyring(generateKey()));
    const sealed = c.seal(msg, hdr);
    const header = c.peekHeader(sealed);
    expect(header).toEqual(hdr);
    const r = c.openPeeked(sealed, header as typeof hdr);
    expect(r.ok && r.packet.seq).toBe(42n);
    const short = c.openPeeked(sealed.subarray(0, 20), hdr);
    expect(!short.ok && short.error).toBeInstanceOf(DecodeError);
  });

  it('tries the key that opened the last packet first, but always reports its keyring index', () => {
    const k0 = generateKey();
    const k1 = generateKey();
    const k2 = generateKey();
    const receiver = new Keyring(k0, [k1, k2]);
    const r = make(receiver);
    const with0 = make(new Keyring(k0)).seal(msg, hdr);
    const with1 = make(new Keyring(k1)).seal(msg, hdr);
    const with2 = make(new Keyring(k2)).seal(msg, hdr);
    const stranger = make(new Keyring(generateKey())).seal(msg, hdr);
    for (const [packet, index] of [[with1, 1], [with1, 1], [with0, 0], [with2, 2], [with0, 0], [with2, 2], [with1, 1]] as const) {
      expect(r.openOrThrow(packet).keyIndex).toBe(index);
    }
    const bad = r.open(stranger);
    expect(!bad.ok && bad.error).toBeInstanceOf(AuthError);
    // After a keyring change the remembered index may be gone: still every key is tried.
    expect(r.openOrThrow(with2).keyIndex).toBe(2);
    receiver.remove(k2);
    expect(r.open(with2).ok).toBe(false);
    expect(r.openOrThrow(with1).keyIndex).toBe(1);
    expect(r.openOrThrow(with0).keyIndex).toBe(0);
  });

  it('seals with the new primary right after use(), and the IVs of many packets do not repeat', () => {
    const a = generateKey();
    const b = generateKey();
    const ring = new Keyring(a, [b]);
    const c = make(ring);
    const onlyA = make(new Keyring(a));
    const onlyB = make(new Keyring(b));
    const ivs = new Set<string>();
    // 1,000 packets cross several refills of the 128-IV pool.
    for (let i = 0; i < 1000; i++) {
      if (i === 500) ring.use(b);
      const sealed = c.seal(msg, { senderId: 1n, seq: BigInt(i) });
      ivs.add(sealed.subarray(17, 29).toString('hex'));
      expect((i < 500 ? onlyA : onlyB).open(sealed).ok).toBe(true);
    }
    expect(ivs.size).toBe(1000);
  });
});
