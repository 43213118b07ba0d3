// Maps what node:tls reports during a handshake onto the project's error classes. A handshake
// that fails on credentials (wrong cluster key, unknown key, certificate from another CA) is an
// AuthError: retrying will not help, the operator must fix keys or certificates. Anything else
// (refused, unreachable, timed out) is a TransportError.
import { AuthError, TimeoutError, TransportError } from '../errors.js';

/** X.509 verification codes Node puts in `err.code` / `socket.authorizationError`. */
const CERT_CODES =
  /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE|HOSTNAME_MISMATCH|ERR_TLS_CERT)/;

export type HandshakeSide = 'client' | 'server';

const ADVICE =
  'check both nodes use the same cluster key file (rotating? install the new key on every node before `tri keys use`), ' +
  'or certificates signed by the same CA';

/**
 * @param afterTcp true once the TCP connection was up, so a reset means the peer rejected us
 *   mid-handshake (Node servers drop the socket without an alert when a client certificate fails).
 */
export function classifyHandshakeError(
  err: unknown,
  side: HandshakeSide,
  remote: string,
  afterTcp: boolean,
): AuthError | TransportError {
  if (err instanceof AuthError || err instanceof TransportError) return err;
  const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
  const detail = (err as Error | undefined)?.message ?? String(err);
  const who = side === 'client' ? `TLS handshake with ${remote}` : `TLS handshake from ${remote}`;
  if (code.startsWith('ERR_SSL_') || CERT_CODES.test(code)) {
    return new AuthError(`${who} failed authentication (${code}): ${ADVICE}`, { cause: err });
  }
  if (afterTcp && (code === 'ECONNRESET' || code === 'EPIPE')) {
    return new AuthError(`${who} was closed by the peer during the handshake, most likely rejecting our credentials: ${ADVICE}`, {
      cause: err,
    });
  }
  return new TransportError(`${who} failed: ${detail}; check the address and that the node is running`, { cause: err });
}

export function handshakeTimeout(remote: string, ms: number): TimeoutError {
  return new TimeoutError(`TLS connection to ${remote} did not complete within ${ms} ms: check the address and that the node is running`);
}
