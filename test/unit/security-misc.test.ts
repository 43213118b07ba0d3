import { describe, expect, it } from 'vitest';
import { AuthError, TransportError } from '../../src/errors.js';
import { insecureWarning } from '../../src/security/plaintext-warning.js';
import { classifyHandshakeError } from '../../src/security/tls-errors.js';

describe('insecureWarning', () => {
  it('is loud and says what to do instead', () => {
    const w = insecureWarning('127.0.0.1:9999');
    expect(w.msg).toMatch(/^INSECURE MODE/);
    expect(w.msg).toContain('127.0.0.1:9999');
    expect(w.msg).toContain('--key-file');
    expect(w.fields).toEqual({ insecure: true, security: 'none', listen: '127.0.0.1:9999' });
  });
});

describe('classifyHandshakeError', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('credential failures are AuthError', () => {
    for (const code of ['ERR_SSL_BINDER_DOES_NOT_VERIFY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED']) {
      expect(classifyHandshakeError(err(code), 'client', '127.0.0.1:1', true)).toBeInstanceOf(AuthError);
    }
    expect(classifyHandshakeError(err('ECONNRESET'), 'client', '127.0.0.1:1', true)).toBeInstanceOf(AuthError);
  });
  it('network failures are TransportError', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH']) {
      const e = classifyHandshakeError(err(code), 'client', '127.0.0.1:1', false);
      expect(e).toBeInstanceOf(TransportError);
      expect(e.message).toContain('127.0.0.1:1');
    }
    expect(classifyHandshakeError(err('ECONNRESET'), 'client', '127.0.0.1:1', false)).toBeInstanceOf(TransportError);
  });
});
