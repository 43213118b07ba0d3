// Client tokens (src/security/client-token.ts): signed with a cluster key, verified against the
// keys a node holds, scoped to documents, expiring.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientToken, parseTtl, tokenCoversDoc, verifyClientToken } from '../../src/security/client-token.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('client tokens', () => {
  it('verify under any installed key that signed them, until expiry', () => {
    const t = createClientToken(k1, { ttlMs: 1000, now: 0, docs: 'doc/*', readOnly: true });
    const v = verifyClientToken(t, [k2, k1], 999);
    expect(v).toMatchObject({ ok: true, claims: { ro: true, docs: 'doc/*' } });
    expect(verifyClientToken(t, [k2, k1], 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) as unknown });
    expect(verifyClientToken(t, [k2], 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not hold/) as unknown });
  });

  it('refuse tampering: changed claims, another key\'s signature, garbage', () => {
    const t = createClientToken(k1, { ttlMs: 1000, now: 0 });
    const [p, body, mac] = t.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, exp: 1e15 })).toString('base64url');
    expect(verifyClientToken(`${p}.${forged}.${mac}`, [k1], 0).ok).toBe(false);
    const other = createClientToken(k2, { ttlMs: 1000, now: 0 });
    expect(verifyClientToken(`${p}.${body}.${other.split('.')[2]}`, [k1, k2], 0).ok).toBe(false);
    for (const junk of ['', 'tri1', 'tri1.x.y', 'a.b.c', 'tri1.e30.AAAA', 'x'.repeat(10_000)]) expect(verifyClientToken(junk, [k1], 0).ok).toBe(false);
  });

  it('cover documents by comma-separated globs', () => {
    expect(tokenCoversDoc('*', 'agent/a')).toBe(true);
    expect(tokenCoversDoc('doc/notes-*', 'doc/notes-1')).toBe(true);
    expect(tokenCoversDoc('doc/notes-*', 'doc/other')).toBe(false);
    expect(tokenCoversDoc('agent/a?,doc/x', 'agent/ab')).toBe(true);
    expect(tokenCoversDoc('agent/a?,doc/x', 'doc/x')).toBe(true);
    expect(tokenCoversDoc('agent/a.b', 'agent/aXb')).toBe(false);
  });

  it('lifetimes parse as number + unit', () => {
    expect(parseTtl('24h')).toBe(86_400_000);
    expect(parseTtl('90s')).toBe(90_000);
    for (const bad of ['0s', '5', 'h', '1y', '-1h']) expect(() => parseTtl(bad)).toThrow();
  });
});
