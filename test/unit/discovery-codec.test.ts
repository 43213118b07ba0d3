import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import {
  decodeBody,
  encodeReply,
  encodeRequest,
  MAX_NAME_BYTES,
  MAX_REPLY_BODY_BYTES,
  NONCE_BYTES,
  REQUEST_BODY_BYTES,
} from '../../src/discovery/codec.js';
import { createDiscoveryCrypto, createEnvelope } from '../../src/discovery/envelope.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';

const nonce = Uint8Array.from({ length: NONCE_BYTES }, (_, i) => i + 1);
const clock = { now: () => 1_000 };

describe('discovery codec', () => {
  it('round trips a request at its fixed size', () => {
    const body = encodeRequest({ nonce, insecure: false });
    expect(body.length).toBe(REQUEST_BODY_BYTES);
    expect(decodeBody(body)).toEqual({ kind: 'request', nonce, insecure: false });
  });

  it('round trips a reply with every field', () => {
    const reply = { nonce, insecure: true, name: 'n1-ümlaut', host: '10.213.1.2', port: 9999, rpcPort: 10000 };
    expect(decodeBody(encodeReply(reply))).toEqual({ kind: 'reply', ...reply });
  });

  it('keeps the largest possible reply within a request', () => {
    const big = encodeReply({ nonce, insecure: false, name: 'x'.repeat(MAX_NAME_BYTES), host: 'h'.repeat(64), port: 65535, rpcPort: 65535 });
    expect(big.length).toBe(MAX_REPLY_BODY_BYTES);
    expect(big.length).toBeLessThanOrEqual(REQUEST_BODY_BYTES);
  });

  it('refuses to encode a name or host that would not fit', () => {
    expect(() => encodeReply({ nonce, insecure: false, name: 'x'.repeat(65), host: 'h', port: 1, rpcPort: 0 })).toThrow(/shorter --name/);
    expect(() => encodeReply({ nonce, insecure: false, name: 'n', host: '', port: 1, rpcPort: 0 })).toThrow(/gossip host/);
    expect(() => encodeReply({ nonce, insecure: false, name: 'n', host: 'h', port: 0, rpcPort: 0 })).toThrow(/port 0/);
  });

  it('rejects bad magic, version, kind, flags, padding and lengths', () => {
    const req = encodeRequest({ nonce, insecure: false });
    const mutate = (off: number, v: number): Buffer => {
      const b = Buffer.from(req);
      b[off] = v;
      return b;
    };
    for (const bad of [mutate(0, 0), mutate(4, 9), mutate(5, 7), mutate(6, 0x80), mutate(100, 1), req.subarray(0, 100), Buffer.concat([req, Buffer.alloc(1)])]) {
      expect(decodeBody(bad)).toBeInstanceOf(DecodeError);
    }
    const reply = encodeReply({ nonce, insecure: false, name: 'n', host: 'h', port: 1, rpcPort: 0 });
    expect(decodeBody(reply.subarray(0, reply.length - 1))).toBeInstanceOf(DecodeError);
  });

  it('never throws on arbitrary bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = decodeBody(bytes);
        expect(r instanceof DecodeError || typeof r.kind === 'string').toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on arbitrary bytes behind a valid header (fast-check)', () => {
    const header = encodeRequest({ nonce, insecure: false }).subarray(0, 5);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        decodeBody(Buffer.concat([header, tail]));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('discovery envelope', () => {
  const keyring = new Keyring(generateKey());
  const sealed = createEnvelope({ crypto: createDiscoveryCrypto({ keyring, label: 'prod' }) }, clock);

  it('seals and opens a request', () => {
    const r = sealed.unwrap(sealed.wrap(encodeRequest({ nonce, insecure: false })));
    expect(r.ok && r.body.kind).toBe('request');
  });

  it('drops a packet sealed with another key or another cluster label as auth', () => {
    const other = createEnvelope({ crypto: createDiscoveryCrypto({ keyring: new Keyring(generateKey()), label: 'prod' }) }, clock);
    const otherLabel = createEnvelope({ crypto: createDiscoveryCrypto({ keyring, label: 'staging' }) }, clock);
    for (const env of [other, otherLabel]) {
      const r = sealed.unwrap(env.wrap(encodeRequest({ nonce, insecure: false })));
      expect(r.ok ? 'opened' : r.reason).toBe('auth');
    }
  });

  it('keeps insecure and sealed modes apart', () => {
    const plain = createEnvelope({ insecure: true }, clock);
    expect(sealed.unwrap(plain.wrap(encodeRequest({ nonce, insecure: true }))).ok).toBe(false);
    expect(plain.unwrap(sealed.wrap(encodeRequest({ nonce, insecure: false }))).ok).toBe(false);
    // A plaintext packet must carry the INSECURE flag.
    expect(plain.unwrap(encodeRequest({ nonce, insecure: false })).ok).toBe(false);
    expect(plain.unwrap(plain.wrap(encodeRequest({ nonce, insecure: true }))).ok).toBe(true);
  });

  it('demands exactly one of a key or insecure mode', () => {
    expect(() => createEnvelope({} as never, clock)).toThrow(/--key-file/);
    expect(() => createEnvelope({ crypto: createDiscoveryCrypto({ keyring, label: '' }), insecure: true } as never, clock)).toThrow(/one/);
  });

  it('never throws when unwrapping arbitrary bytes (fast-check)', () => {
    const plain = createEnvelope({ insecure: true }, clock);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(sealed.unwrap(bytes).ok).toBe(false);
        plain.unwrap(bytes);
      }),
      { numRuns: 1_000 },
    );
  });
});
