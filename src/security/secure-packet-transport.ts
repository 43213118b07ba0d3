// A PacketTransport decorator that seals every outgoing gossip packet and opens every incoming
// one (packet-crypto.ts), dropping replays (replay-window.ts). The gossip layer above sees only
// authentic, fresh plaintext; everything else is dropped, counted by reason and reported through
// `onDrop`, and nothing a peer sends can throw out of the receive path.
//
// The inner transport carries sealed packets, which are SEAL_OVERHEAD (45) bytes longer than the
// plaintext, so it must accept up to MAX_PACKET_BYTES + SEAL_OVERHEAD (1,445: still under a
// 1,500-byte MTU minus 28 bytes of IPv4/UDP headers).
import { randomBytes } from 'node:crypto';
import { AuthError, DecodeError, OversizeError } from '../errors.js';
import type { Clock } from '../runtime/types.js';
import { MAX_PACKET_BYTES, type Address, type PacketTransport } from '../transport/types.js';
import type { Keyring } from './keyring.js';
import { PacketCrypto, SEAL_OVERHEAD } from './packet-crypto.js';
import { ReplayWindow, SendSequence } from './replay-window.js';

export type DropReason = 'auth' | 'replay' | 'malformed' | 'oversize';

export interface PacketDrop {
  reason: DropReason;
  from: Address;
  error: AuthError | DecodeError;
}

export interface SecurePacketsOptions {
  keyring: Keyring;
  /** Cluster label bound into every packet's authenticated data. */
  label: string;
  /** Protocol version bound into every packet's authenticated data (0..65535). */
  version: number;
  /** Seeds the send sequence (replay-window.ts SendSequence). */
  clock: Clock;
  onDrop?: (drop: PacketDrop) => void;
  /** Largest plaintext accepted by `send`; default MAX_PACKET_BYTES. */
  maxPacketBytes?: number;
  /** Replay window width in packets (default 1,024) and LRU cap on tracked senders (default 4,096). */
  replayWindow?: number;
  maxSenders?: number;
  /** Fixed 64-bit sender id (tests); default: random per transport. */
  senderId?: bigint;
}

export interface SecurePacketTransport extends PacketTransport {
  /** Drops since creation, by reason. */
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Bytes each sealed packet adds (45). */
  readonly overhead: number;
}

export function securePackets(inner: PacketTransport, opts: SecurePacketsOptions): SecurePacketTransport {
  const crypto = new PacketCrypto({ keyring: opts.keyring, label: opts.label, version: opts.version });
  const maxPlain = opts.maxPacketBytes ?? MAX_PACKET_BYTES;
  const window = new ReplayWindow({ size: opts.replayWindow, maxSenders: opts.maxSenders });
  const sequence = new SendSequence(opts.clock, opts.senderId ?? randomBytes(8).readBigUInt64BE(0));
  const drops: Record<DropReason, number> = { auth: 0, replay: 0, malformed: 0, oversize: 0 };

  const drop = (reason: DropReason, from: Address, error: AuthError | DecodeError): void => {
    drops[reason]++;
    if (!opts.onDrop) return;
    try {
      opts.onDrop({ reason, from, error });
    } catch {
      /* a faulty drop logger must not turn hostile input into a crash */
    }
  };

  /** Returns the plaintext, or undefined after counting the drop. */
  const unseal = (from: Address, data: Uint8Array): Buffer | undefined => {
    if (data.length > maxPlain + SEAL_OVERHEAD) {
      drop('oversize', from, new OversizeError(`gossip packet of ${data.length} bytes exceeds ${maxPlain + SEAL_OVERHEAD}: dropped`));
      return undefined;
    }
    const header = crypto.peekHeader(data);
    if (header instanceof DecodeError) {
      drop('malformed', from, header);
      return undefined;
    }
    // Cheap pre-check so replay floods do not cost a decryption each.
    if (window.check(header.senderId, header.seq) !== 'new') {
      drop('replay', from, replayError(from));
      return undefined;
    }
    const r = crypto.openPeeked(data, header);
    if (!r.ok) {
      drop(r.error instanceof AuthError ? 'auth' : 'malformed', from, r.error);
      return undefined;
    }
    // Record only after authentication, so forged numbers cannot poison the window.
    if (window.accept(r.packet.senderId, r.packet.seq) !== 'new') {
      drop('replay', from, replayError(from));
      return undefined;
    }
    return r.packet.plaintext;
  };

  return {
    get address() {
      return inner.address;
    },
    drops,
    overhead: SEAL_OVERHEAD,
    send(to: Address, data: Uint8Array): void {
      if (data.length > maxPlain) {
        throw new OversizeError(
          `gossip packet of ${data.length} bytes exceeds the ${maxPlain}-byte limit: split the message`,
        );
      }
      inner.send(to, crypto.seal(data, { senderId: sequence.senderId, seq: sequence.next() }));
    },
    onPacket(handler: (from: Address, data: Uint8Array) => void): void {
      inner.onPacket((from, data) => {
        let plain: Buffer | undefined;
        try {
          plain = unseal(from, data);
        } catch (err) {
          drop('malformed', from, new DecodeError('gossip packet could not be processed: dropped', { cause: err }));
          return;
        }
        // The handler runs outside the try: its own bugs are not "malformed input".
        if (plain !== undefined) handler(from, plain);
      });
    },
    close(): Promise<void> {
      return inner.close();
    },
  };
}

function replayError(from: Address): AuthError {
  return new AuthError(`gossip packet from ${from} is a replay or too old: dropped`);
}
