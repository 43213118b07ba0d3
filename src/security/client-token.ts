// Client tokens (`tri token create`): what a Yjs client shows a node to attach to a document.
// A token is signed (HMAC-SHA256) with a subkey of a cluster key and names that key by its
// fingerprint, so every node verifies it alone, with no shared state: it holds while the key
// is installed on the node (across a rotation: `tri keys use` a new key leaves old tokens valid)
// and stops when `tri keys remove` takes the key away, or when it expires.
//
//   tri1.<base64url(JSON claims)>.<base64url(HMAC)>
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { keyId } from './kdf.js';

const INFO_TOKEN = 'trinity-cluster/v1/client-token';
const PREFIX = 'tri1';
/** A token is short text; anything far longer is not one (and is not worth hashing). */
const MAX_TOKEN_CHARS = 4096;

export interface ClientTokenClaims {
  /** Fingerprint of the cluster key that signed it. */
  kid: string;
  /** Updates from its holder are not applied. */
  ro: boolean;
  /** Which documents it opens: comma-separated globs over document ids ("agent/*", "doc/notes-?"). */
  docs: string;
  /** Issued and expires, Unix milliseconds. */
  iat: number;
  exp: number;
}

function tokenKey(key: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', key, '', INFO_TOKEN, 32));
}

export function createClientToken(key: Uint8Array, opts: { readOnly?: boolean; docs?: string; ttlMs: number; now: number }): string {
  if (!(opts.ttlMs > 0)) throw new RangeError('a token needs a positive lifetime');
  const claims: ClientTokenClaims = { kid: keyId(key), ro: opts.readOnly === true, docs: opts.docs ?? '*', iat: opts.now, exp: opts.now + opts.ttlMs };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', tokenKey(key)).update(`${PREFIX}.${body}`).digest('base64url');
  return `${PREFIX}.${body}.${mac}`;
}

export type TokenVerdict = { ok: true; claims: ClientTokenClaims } | { ok: false; reason: string };

/** Checks a token against the keys a node holds now (a Keyring's rawKeys()). */
export function verifyClientToken(token: string, keys: readonly Uint8Array[], now: number): TokenVerdict {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'no token' };
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'token too long' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'not a trinity client token' };
  let claims: ClientTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as ClientTokenClaims;
  } catch {
    return { ok: false, reason: 'token does not decode' };
  }
  if (typeof claims !== 'object' || claims === null || typeof claims.kid !== 'string' || typeof claims.exp !== 'number' || typeof claims.docs !== 'string' || typeof claims.ro !== 'boolean') {
    return { ok: false, reason: 'token does not decode' };
  }
  const key = keys.find((k) => keyId(k) === claims.kid);
  if (!key) return { ok: false, reason: `token signed by key ${claims.kid}, which this node does not hold (removed?)` };
  const want = createHmac('sha256', tokenKey(key)).update(`${PREFIX}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'token signature does not verify' };
  if (now >= claims.exp) return { ok: false, reason: `token expired at ${new Date(claims.exp).toISOString()}` };
  return { ok: true, claims };
}

/** Whether a token's `docs` patterns cover a document id (`*` any run of characters, `?` one). */
export function tokenCoversDoc(docs: string, docId: string): boolean {
  return docs.split(',').some((p) => {
    const pattern = p.trim();
    if (pattern.length === 0) return false;
    const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    return re.test(docId);
  });
}

/** "24h", "30m", "90s", "7d" -> milliseconds. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a duration: use a number and s, m, h or d (24h, 30m)`);
  const n = Number(m[1]);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (n === 0) throw new RangeError('a token needs a positive lifetime');
  return n * unit;
}
