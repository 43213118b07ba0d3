// One discovery run's bookkeeping, free of sockets: the request to broadcast, and which replies
// count. A reply counts only if it authenticates, is a reply, echoes this run's random nonce (so
// a reply captured in an earlier run, or sent to another discoverer, is rejected) and names a
// gossip address that is not our own.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { DecodeError } from '../errors.js';
import { formatAddress } from '../transport/address.js';
import type { Address } from '../transport/types.js';
import { encodeRequest, NONCE_BYTES, REQUEST_BODY_BYTES } from './codec.js';
import type { Envelope } from './envelope.js';

export interface DiscoveredPeer {
  name: string;
  /** Gossip address to join, host:port. */
  address: Address;
  /** RPC port, or undefined when the peer did not advertise one. */
  rpcPort: number | undefined;
  /** The reply's real source IP. */
  from: string;
}

export type ReplyVerdict =
  | { accepted: true; peer: DiscoveredPeer; isNew: boolean }
  | { accepted: false; reason: 'oversize' | 'auth' | 'malformed' | 'not-reply' | 'nonce' | 'self'; error?: Error };

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export class DiscoverySession {
  readonly nonce: Uint8Array;
  readonly #envelope: Envelope;
  readonly #self: Set<Address>;
  readonly #peers = new Map<Address, DiscoveredPeer>();

  constructor(envelope: Envelope, self: readonly Address[] = [], nonce: Uint8Array = randomBytes(NONCE_BYTES)) {
    if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
    this.#envelope = envelope;
    this.#self = new Set(self);
    this.nonce = nonce;
  }

  /** A freshly sealed request (a new sequence number each time, so each one passes replay checks). */
  request(): Buffer {
    return this.#envelope.wrap(encodeRequest({ nonce: this.nonce, insecure: this.#envelope.insecure }));
  }

  /** Judges one datagram; never throws. */
  receive(sourceHost: string, data: Uint8Array): ReplyVerdict {
    try {
      // A valid reply is never larger than a request; anything larger is not worth decrypting.
      if (data.length > REQUEST_BODY_BYTES + this.#envelope.overhead) {
        return { accepted: false, reason: 'oversize' };
      }
      const opened = this.#envelope.unwrap(data);
      if (!opened.ok) return { accepted: false, reason: opened.reason, error: opened.error };
      const body = opened.body;
      if (body.kind !== 'reply') return { accepted: false, reason: 'not-reply' };
      if (!timingSafeEqual(body.nonce, this.nonce)) return { accepted: false, reason: 'nonce' };
      const host = WILDCARDS.has(body.host) ? sourceHost : body.host;
      const address = formatAddress(host, body.port);
      if (this.#self.has(address)) return { accepted: false, reason: 'self' };
      const peer: DiscoveredPeer = { name: body.name, address, rpcPort: body.rpcPort === 0 ? undefined : body.rpcPort, from: sourceHost };
      const isNew = !this.#peers.has(address);
      if (isNew) this.#peers.set(address, peer);
      return { accepted: true, peer, isNew };
    } catch (err) {
      return { accepted: false, reason: 'malformed', error: new DecodeError('discovery reply could not be processed: dropped', { cause: err }) };
    }
  }

  /** Distinct peers that answered, in the order they first answered. */
  peers(): DiscoveredPeer[] {
    return [...this.#peers.values()];
  }
}
