// How a discovery body travels: sealed with the cluster key (PacketCrypto, AES-256-GCM with the
// cluster label bound in the authenticated data) or, only in --insecure mode, as plaintext whose
// INSECURE flag is set. A responder or discoverer speaks exactly one of the two; the other kind
// of packet is dropped, so an --insecure node cannot discover (or be discovered by) a keyed one.
import { randomBytes } from 'node:crypto';
import { AuthError, ConfigError, DecodeError } from '../errors.js';
import type { Clock } from '../runtime/types.js';
import type { Keyring } from '../security/keyring.js';
import { PacketCrypto, SEAL_OVERHEAD } from '../security/packet-crypto.js';
import { SendSequence } from '../security/replay-window.js';
import { decodeBody, type DecodedBody } from './codec.js';

/**
 * Prefix for the label bound into discovery packets. Gossip packets bind the bare cluster label,
 * so a sealed discovery packet can never be opened as a gossip packet or the other way round,
 * even though both are sealed with the same derived key.
 */
export const DISCOVERY_LABEL_PREFIX = 'trinity-discovery/v1\u0000';
/** Protocol version bound into discovery packets' authenticated data. */
export const DISCOVERY_PROTOCOL_VERSION = 1;

/** The PacketCrypto discovery must use: same keyring as gossip, its own label domain. */
export function createDiscoveryCrypto(opts: { keyring: Keyring; label: string }): PacketCrypto {
  return new PacketCrypto({
    keyring: opts.keyring,
    label: DISCOVERY_LABEL_PREFIX + opts.label,
    version: DISCOVERY_PROTOCOL_VERSION,
  });
}

/** Exactly one of the two: a cluster key (via createDiscoveryCrypto) or an explicit --insecure. */
export type DiscoverySecurity = { crypto: PacketCrypto; insecure?: false } | { crypto?: undefined; insecure: true };

export type UnwrapResult =
  | { ok: true; body: DecodedBody; senderId?: bigint; seq?: bigint }
  | { ok: false; reason: 'auth' | 'malformed'; error: AuthError | DecodeError };

export interface Envelope {
  readonly insecure: boolean;
  /** Bytes the envelope adds to a body (45 sealed, 0 plaintext). */
  readonly overhead: number;
  wrap(body: Uint8Array): Buffer;
  /** Never throws: anything that is not an authentic body of our mode is a failure result. */
  unwrap(packet: Uint8Array): UnwrapResult;
}

/** Validates the security choice once, so the rest of the module sees a single Envelope. */
export function createEnvelope(security: DiscoverySecurity, clock: Clock): Envelope {
  const s = security as { crypto?: PacketCrypto; insecure?: boolean };
  if (s.crypto !== undefined && s.insecure === true) {
    throw new ConfigError('discovery was given both a cluster key and insecure mode: pass one (--key-file FILE or --insecure)');
  }
  if (s.crypto !== undefined) return sealedEnvelope(s.crypto, clock);
  if (s.insecure === true) return plaintextEnvelope();
  throw new ConfigError('discovery needs a cluster key or insecure mode: start with --key-file FILE (or --insecure for a test cluster)');
}

function sealedEnvelope(crypto: PacketCrypto, clock: Clock): Envelope {
  // A fresh random sender id per envelope: responders track it in a replay window.
  const sequence = new SendSequence(clock, randomBytes(8).readBigUInt64BE(0));
  return {
    insecure: false,
    overhead: SEAL_OVERHEAD,
    wrap: (body) => crypto.seal(body, { senderId: sequence.senderId, seq: sequence.next() }),
    unwrap(packet) {
      const r = crypto.open(packet);
      if (!r.ok) return { ok: false, reason: r.error instanceof AuthError ? 'auth' : 'malformed', error: r.error };
      const body = decodeBody(r.packet.plaintext);
      if (body instanceof DecodeError) return { ok: false, reason: 'malformed', error: body };
      if (body.insecure) {
        // Only a key holder could have sealed this, but the flag contradicts the envelope.
        return { ok: false, reason: 'malformed', error: new DecodeError('sealed discovery packet claims to be insecure: dropped') };
      }
      return { ok: true, body, senderId: r.packet.senderId, seq: r.packet.seq };
    },
  };
}

function plaintextEnvelope(): Envelope {
  return {
    insecure: true,
    overhead: 0,
    wrap: (body) => Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    unwrap(packet) {
      const body = decodeBody(packet);
      if (body instanceof DecodeError) return { ok: false, reason: 'malformed', error: body };
      if (!body.insecure) {
        return {
          ok: false,
          reason: 'auth',
          error: new AuthError('plaintext discovery packet without the INSECURE flag: dropped; is the sender running --insecure?'),
        };
      }
      return { ok: true, body };
    },
  };
}
