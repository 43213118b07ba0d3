// Key fingerprints on the HTTP face only with a token. /status needs no key (scripts, probes, the
// dashboard), but which cluster keys a node holds (and which one is primary, mid-rotation) is for
// operators: the fingerprints are shown to a request carrying a client token (`tri token create`,
// verified against the node's keyring, src/security/client-token.ts) as `?token=` or
// `Authorization: Bearer`; without one the security section comes without them.
import type http from 'node:http';
import { verifyClientToken } from '../security/client-token.js';
import type { Keyring } from '../security/index.js';

export const FINGERPRINTS_HIDDEN = 'key fingerprints are shown with a client token (tri token create): GET /status?token=TOKEN or Authorization: Bearer TOKEN';

/** The token a request carries (`?token=` or an `Authorization: Bearer` header), if any. */
export function requestToken(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const q = new URL(req.url ?? '/', 'http://node').searchParams.get('token');
  return q === null ? undefined : q;
}

/** none: no token given; ok: a token the keyring verifies; else why it was refused. */
export function tokenAccess(req: http.IncomingMessage, keyring: Keyring | undefined, now = Date.now()): { kind: 'none' } | { kind: 'ok' } | { kind: 'refused'; reason: string } {
  const token = requestToken(req);
  if (token === undefined) return { kind: 'none' };
  if (!keyring) return { kind: 'refused', reason: 'this node runs without a cluster key (--insecure) and takes no token' };
  const v = verifyClientToken(token, keyring.rawKeys(), now);
  return v.ok ? { kind: 'ok' } : { kind: 'refused', reason: v.reason };
}

/** A /status document without key fingerprints (the rest of the security section stays). */
export function withoutFingerprints(status: Record<string, unknown>): Record<string, unknown> {
  const security = status.security;
  if (typeof security !== 'object' || security === null || !('keys' in security)) return status;
  const { keys: _keys, ...rest } = security as Record<string, unknown>;
  return { ...status, security: { ...rest, keysHidden: FINGERPRINTS_HIDDEN } };
}
