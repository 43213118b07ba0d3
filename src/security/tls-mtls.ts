// Mutual TLS with operator certificates: both ends present a certificate signed by the cluster's
// CA, and a peer's identity is its certificate's subject CN (e.g. "member:n1").
//
// TLS 1.2 on purpose: in TLS 1.3 the client finishes its handshake before the server has checked
// the client certificate, so a rejected client would see `connect` succeed and fail on first
// read. In TLS 1.2 the server's Finished comes after that check, so a rejection fails `connect`.
// The cipher list keeps ECDHE (forward secrecy) and AEAD only, for EC or RSA certificates.
// Hostname checks are replaced by "signed by our CA and has a CN": peers are dialled by address,
// and membership in the cluster is what the CA vouches for.
import { createSecureContext, type PeerCertificate, type TLSSocket } from 'node:tls';
import { AuthError, ConfigError } from '../errors.js';
import { tlsSocketLayer, type HandshakeDrop, type TlsLimits, type TlsSocketLayer } from './tls-layer.js';

export const MTLS_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

export interface MtlsLayerOptions {
  /** This node's certificate chain (PEM). */
  cert: string | Buffer;
  /** Its private key (PEM). */
  key: string | Buffer;
  /** The CA(s) that sign cluster members (PEM). Node's public CA list is NOT trusted. */
  ca: string | Buffer | Array<string | Buffer>;
  onDrop?: (drop: HandshakeDrop) => void;
  /** Per-peer connection cap and source address (tls-layer.ts). */
  limits?: TlsLimits;
}

function commonName(cert: PeerCertificate | undefined): string | undefined {
  const cn = cert?.subject?.CN as string | string[] | undefined;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

export function mutualTlsLayer(opts: MtlsLayerOptions): TlsSocketLayer {
  // Fail at start-up, not on the first connection, when the PEM files are wrong or do not match.
  try {
    createSecureContext({ cert: opts.cert, key: opts.key, ca: opts.ca });
  } catch (err) {
    throw new ConfigError(
      `the TLS certificate, key or CA is not usable (${(err as Error).message}): give PEM files, a key that matches the certificate, and the CA that signed the cluster's certificates`,
      { cause: err },
    );
  }
  const base = {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: MTLS_CIPHERS,
    cert: opts.cert,
    key: opts.key,
    ca: opts.ca,
  } as const;
  return tlsSocketLayer(
    {
      serverOptions: { ...base, requestCert: true, rejectUnauthorized: true },
      clientOptions: () => ({
        ...base,
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          commonName(cert) ? undefined : new AuthError('server certificate has no subject CN to identify it by'),
      }),
      // A member without a name must not be let in as an anonymous peer.
      verifyServerSide: (socket: TLSSocket) =>
        commonName(socket.getPeerCertificate()) ? undefined : new AuthError('client certificate has no subject CN to identify it by'),
      identity: (socket: TLSSocket) => commonName(socket.getPeerCertificate()),
    },
    opts.onDrop,
    opts.limits,
  );
}
