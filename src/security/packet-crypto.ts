// AES-256-GCM sealing of gossip packets (DESIGN.md "Security").
//
// Wire format (45 bytes added per packet; memberlist adds 29):
//   off  len
//    0    1   format version (SEAL_VERSION), so the format can change without guessing
//    1    8   sender id: random per process; keys the receiver's replay window (replay-window.ts)
//    9    8   sequence: strictly increasing per sender (replay protection; memberlist has none)
//   17   12   IV: random, as memberlist does
//   29    n   ciphertext (same length as the plaintext)
//   29+n 16   GCM tag, always 16 bytes (authTagLength: 16; short tags weaken forgery bounds)
// memberlist's 29 = version 1 + nonce 12 + tag 16; our extra 16 are the sender id and sequence
// that make replays detectable.
//
// Why a random IV and not a counter: a counter IV is only safe if (key, IV) never repeats across
// every node and every restart that shares the key; a VM restored from a snapshot or two nodes
// drawing the same id would repeat IVs, and one GCM IV repeat leaks the authentication key. A
// random 96-bit IV needs no state. Its limit is ~2^32 packets per key (NIST SP 800-38D) for a
// 2^-32 collision chance: at 10,000 packets/s cluster-wide that is about 5 days, so rotate keys
// (install -> use -> remove) well within that on big, busy clusters.
//
// The authenticated data is the 29-byte header plus the protocol version and the cluster label,
// so a packet from another cluster or another protocol version fails like a wrong key, and the
// sender id and sequence cannot be altered to dodge the replay window.
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { AuthError, DecodeError } from '../errors.js';
import { packetKey } from './kdf.js';
import type { Keyring } from './keyring.js';

export const SEAL_VERSION = 1;
export const SENDER_ID_BYTES = 8;
export const SEQ_BYTES = 8;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 1 + SENDER_ID_BYTES + SEQ_BYTES + IV_BYTES; // 29
/** Bytes a sealed packet adds to its plaintext: 45. */
export const SEAL_OVERHEAD = HEADER_BYTES + TAG_BYTES;

const OFF_SENDER = 1;
const OFF_SEQ = OFF_SENDER + SENDER_ID_BYTES;
const OFF_IV = OFF_SEQ + SEQ_BYTES;

export interface PacketCryptoOptions {
  keyring: Keyring;
  /** Cluster label (any string; empty is allowed). Bound in the AAD. */
  label: string;
  /** Protocol version, 0..65535. Bound in the AAD. */
  version: number;
}

export interface PacketHeader {
  senderId: bigint;
  seq: bigint;
}

export interface OpenedPacket extends PacketHeader {
  plaintext: Buffer;
  /** Which installed key opened it (0 = primary); lets callers see who still uses an old key. */
  keyIndex: number;
}

export type OpenResult = { ok: true; packet: OpenedPacket } | { ok: false; error: AuthError | DecodeError };

/**
 * IVs come from a CSPRNG pool refilled 128 IVs at a time: one randomBytes(12) call costs about as
 * much as the AES work on a 300-byte packet. Each pooled byte is used once, so IVs stay random.
 */
class IvPool {
  readonly #pool = Buffer.alloc(IV_BYTES * 128);
  #used = this.#pool.length;
  take(into: Buffer, offset: number): void {
    if (this.#used === this.#pool.length) {
      randomFillSync(this.#pool);
      this.#used = 0;
    }
    this.#pool.copy(into, offset, this.#used, this.#used + IV_BYTES);
    this.#used += IV_BYTES;
  }
}

export class PacketCrypto {
  readonly #keyring: Keyring;
  /**
   * The AAD: the packet's 29-byte header, then the protocol version (2 bytes) and the label. One
   * buffer reused for every packet (setAAD copies it synchronously), so sealing and opening
   * allocate no AAD per packet.
   */
  readonly #aad: Buffer;
  #derived: { generation: number; keys: Buffer[] } | undefined;
  readonly #ivs = new IvPool();

  constructor(opts: PacketCryptoOptions) {
    if (!Number.isInteger(opts.version) || opts.version < 0 || opts.version > 0xffff) {
      throw new RangeError(`protocol version must be an integer 0..65535, got ${opts.version}`);
    }
    this.#keyring = opts.keyring;
    const label = Buffer.from(opts.label, 'utf8');
    this.#aad = Buffer.alloc(HEADER_BYTES + 2 + label.length);
    this.#aad.writeUInt16BE(opts.version, HEADER_BYTES);
    label.copy(this.#aad, HEADER_BYTES + 2);
  }

  /** Seals `plaintext` with the primary key. */
  seal(plaintext: Uint8Array, header: PacketHeader): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plaintext.length);
    out[0] = SEAL_VERSION;
    out.writeBigUInt64BE(header.senderId, OFF_SENDER);
    out.writeBigUInt64BE(header.seq, OFF_SEQ);
    this.#ivs.take(out, OFF_IV);
    const cipher = createCipheriv('aes-256-gcm', this.#keys()[0]!, out.subarray(OFF_IV, HEADER_BYTES), {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(this.#aadFor(out));
    const n = cipher.update(plaintext).copy(out, HEADER_BYTES);
    cipher.final(); // GCM is a stream mode: final() emits nothing, it only computes the tag.
    cipher.getAuthTag().copy(out, HEADER_BYTES + n);
    return out;
  }

  /** Reads the sender id and sequence without authenticating them (for a cheap replay pre-check). */
  peekHeader(packet: Uint8Array): PacketHeader | DecodeError {
    if (packet.length < SEAL_OVERHEAD) {
      return new DecodeError(
        `sealed packet too short (${packet.length} bytes, at least ${SEAL_OVERHEAD}): dropped; is the sender running --insecure?`,
      );
    }
    if (packet[0] !== SEAL_VERSION) {
      return new DecodeError(
        `sealed packet has format version ${packet[0]}, this node speaks ${SEAL_VERSION}: dropped; upgrade the older node`,
      );
    }
    const b = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
    return { senderId: b.readBigUInt64BE(OFF_SENDER), seq: b.readBigUInt64BE(OFF_SEQ) };
  }

  /** Opens a sealed packet with whichever installed key fits. Never throws. */
  open(packet: Uint8Array): OpenResult {
    try {
      const header = this.peekHeader(packet);
      if (header instanceof DecodeError) return { ok: false, error: header };
      const b = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
      const iv = b.subarray(OFF_IV, HEADER_BYTES);
      const body = b.subarray(HEADER_BYTES, b.length - TAG_BYTES);
      const tag = b.subarray(b.length - TAG_BYTES);
      const aad = this.#aadFor(b);
      const keys = this.#keys();
      for (let i = 0; i < keys.length; i++) {
        const d = createDecipheriv('aes-256-gcm', keys[i]!, iv, { authTagLength: TAG_BYTES });
        d.setAAD(aad);
        d.setAuthTag(tag);
        const plaintext = d.update(body);
        try {
          d.final(); // throws when the tag does not verify
        } catch {
          continue;
        }
        return { ok: true, packet: { senderId: header.senderId, seq: header.seq, plaintext, keyIndex: i } };
      }
      return {
        ok: false,
        error: new AuthError(
          `gossip packet failed authentication with all ${keys.length} installed key(s): dropped; ` +
            'check every node has the same cluster key, label and protocol version (rotating? install the new key everywhere before `use`)',
        ),
      };
    } catch (err) {
      // Defensive: nothing above should throw, but a crafted packet must never escape as anything else.
      return { ok: false, error: new DecodeError('sealed packet could not be processed: dropped', { cause: err }) };
    }
  }

  /** As `open`, but throws the AuthError or DecodeError. */
  openOrThrow(packet: Uint8Array): OpenedPacket {
    const r = this.open(packet);
    if (!r.ok) throw r.error;
    return r.packet;
  }

  #aadFor(packet: Buffer): Buffer {
    packet.copy(this.#aad, 0, 0, HEADER_BYTES);
    return this.#aad;
  }

  /** Per-purpose subkeys (kdf.ts), primary first; rebuilt only when the keyring changes. */
  #keys(): Buffer[] {
    const gen = this.#keyring.generation;
    if (this.#derived?.generation !== gen) {
      this.#derived = { generation: gen, keys: this.#keyring.rawKeys().map((k) => packetKey(k)) };
    }
    return this.#derived.keys;
  }
}
