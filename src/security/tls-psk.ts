// TLS keyed by the cluster key: external PSK on TLS 1.3.
//
// Node 20 (OpenSSL 3.0) does support external PSKs on TLS 1.3 through its `pskCallback` options
// (verified by a real handshake in test/integration/security-tls.test.ts), with an (EC)DHE share
// (psk_dhe_ke, X25519), so we get forward secrecy and an encrypted handshake, which TLS 1.2's
// PSK-* suites lack. OpenSSL maps these callbacks to a SHA-256 PSK, so only the SHA-256 TLS 1.3
// suites work: TLS_AES_256_GCM_SHA384 fails the binder. Hence the explicit list
// TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256 (128-bit AES is ample; the 256-bit PSK
// and the X25519 share set the key strength). A wrong key fails the PSK binder check before the
// server sends anything encrypted, so it fails on both ends.
//
// Rotation: the client keys with the keyring's primary; its PSK identity carries the key's public
// fingerprint ("NAME@KEYID", kdf.ts keyId) so the server can pick that key among all installed
// ones. Install a new key everywhere, `use` it, then `remove` the old one, and no connection fails.
//
// Revocation: when `remove` takes a key out of the keyring, new handshakes with it fail at once
// (the PSK lookup no longer finds it), live connections keyed with it are closed after a short
// grace (so replies in flight, such as the answer to the `remove` itself, still get out), and all
// session tickets are invalidated so nobody resumes a session that the old key opened.
//
// Identity: the server learns the client's name from the PSK identity; it proves only that the
// client holds a cluster key (any member could claim any name). TLS 1.3 PSK has no server
// identity hint, so on the client side `peerIdentity` is undefined: the client knows whom it dialled.
import tls from 'node:tls';
import { AuthError, ConfigError } from '../errors.js';
import { keyId, pskKey } from './kdf.js';
import type { Keyring } from './keyring.js';
import { tlsSocketLayer, type HandshakeDrop, type TlsLimits, type TlsSocketLayer } from './tls-layer.js';

export const PSK_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256';

/** How long a connection keyed with a removed key may live on (replies in flight get out). */
export const REVOKED_KEY_GRACE_MS = 2000;

/** OpenSSL caps PSK identities at 128 bytes; ours is NAME + "@" + 16 hex chars. */
const MAX_NAME_BYTES = 128 - 17;

export interface PskLayerOptions {
  keyring: Keyring;
  /** Our name, sent as the PSK identity when we connect (e.g. "member:n1"). */
  name: string;
  /** Cluster label; salts the PSK derivation so other clusters cannot connect. */
  label: string;
  onDrop?: (drop: HandshakeDrop) => void;
  /** Per-peer connection cap and other server limits (tls-layer.ts). */
  limits?: TlsLimits;
}

export function tlsPskLayer(opts: PskLayerOptions): TlsSocketLayer {
  if (opts.name.length === 0 || Buffer.byteLength(opts.name) > MAX_NAME_BYTES || opts.name.includes('\0')) {
    throw new ConfigError(`node name "${opts.name}" cannot be a TLS-PSK identity: use 1 to ${MAX_NAME_BYTES} bytes, no NUL`);
  }
  // PSKs by key id; rebuilt when the keyring changes (cheap, and rotation is rare).
  let cache: { generation: number; byId: Map<string, Buffer> } | undefined;
  const byId = (): Map<string, Buffer> => {
    if (cache?.generation !== opts.keyring.generation) {
      const m = new Map<string, Buffer>();
      for (const k of opts.keyring.rawKeys()) m.set(keyId(k), pskKey(k, opts.label));
      cache = { generation: opts.keyring.generation, byId: m };
    }
    return cache.byId;
  };
  const names = new WeakMap<tls.TLSSocket, string>();
  // Which key each live socket was keyed with, so removing a key can cut its connections.
  const serverKeyIds = new WeakMap<tls.TLSSocket, string>();
  const clientKeyIds = new WeakMap<object, string>();
  const live = new Map<string, Set<tls.TLSSocket>>();
  const base = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: PSK_CIPHERS } as const;
  const track = (socket: tls.TLSSocket, id: string | undefined): void => {
    if (id === undefined || socket.destroyed) return;
    let set = live.get(id);
    if (!set) live.set(id, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && live.get(id) === set) live.delete(id);
    });
  };

  const layer = tlsSocketLayer(
    {
      serverOptions: {
        ...base,
        pskCallback(socket: tls.TLSSocket, identity: string): Buffer | null {
          const at = identity.lastIndexOf('@');
          if (at <= 0) return null; // unknown identity: the handshake fails with an alert
          const psk = byId().get(identity.slice(at + 1));
          if (psk) {
            names.set(socket, identity.slice(0, at));
            serverKeyIds.set(socket, identity.slice(at + 1));
          }
          return psk ?? null;
        },
      },
      clientOptions() {
        const primary = opts.keyring.rawKeys()[0]!;
        const identity = `${opts.name}@${keyId(primary)}`;
        const psk = byId().get(keyId(primary))!;
        const options: tls.ConnectionOptions = {
          ...base,
          pskCallback: () => ({ identity, psk }),
          // A PSK handshake presents no certificate. Refuse one if offered: with hostname checks off
          // (there is no hostname to check) any publicly trusted certificate would otherwise pass.
          checkServerIdentity: (_host: string, cert: tls.PeerCertificate) =>
            cert && Object.keys(cert).length > 0 ? new AuthError('server presented a certificate; expected TLS-PSK') : undefined,
        };
        clientKeyIds.set(options, keyId(primary));
        return options;
      },
      track(socket, side, options) {
        track(socket, side === 'server' ? serverKeyIds.get(socket) : options && clientKeyIds.get(options));
      },
      verifyClientSide(socket) {
        const cert = socket.getPeerCertificate();
        if (cert && Object.keys(cert).length > 0) return new AuthError('server authenticated with a certificate, not the cluster key');
        return undefined;
      },
      identity: (socket) => names.get(socket),
    },
    opts.onDrop,
    opts.limits,
  );
  opts.keyring.onChange((change) => {
    if (change.type !== 'remove') return;
    layer.forgetSessions();
    const sockets = live.get(change.keyId);
    live.delete(change.keyId);
    if (!sockets) return;
    const doomed = [...sockets];
    setTimeout(() => {
      for (const s of doomed) s.destroy();
    }, REVOKED_KEY_GRACE_MS).unref();
  });
  return layer;
}
