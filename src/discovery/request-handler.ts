// The responder's decision, free of sockets: given a datagram and its real source, either a
// reply to send back to that source or a counted reason to drop it. Order matters:
//   1. size first (free), so oversized junk costs nothing;
//   2. authenticate (one AES-GCM open of ~240 bytes), so only key holders reach the rest;
//   3. replay window on the sealed sender id and sequence, so a captured request resent later
//      (from any address) is not answered again;
//   4. rate limits, spent only by authentic fresh requests, so a flood of forged packets cannot
//      use up the tokens that real nodes need;
//   5. the reply, which is checked to be no larger than the request before it is returned.
// The reply goes to the packet's source address: nothing inside a request names a destination.
import { AuthError, DecodeError, OversizeError } from '../errors.js';
import type { Clock } from '../runtime/types.js';
import { ReplayWindow } from '../security/replay-window.js';
import { encodeReply, REQUEST_BODY_BYTES } from './codec.js';
import type { Envelope } from './envelope.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitConfig } from './rate-limit.js';

export type ResponderDropReason =
  | 'oversize'
  | 'malformed'
  | 'auth'
  | 'replay'
  | 'not-request'
  | 'rate-source'
  | 'rate-global'
  | 'reply-too-large';

export const RESPONDER_DROP_REASONS: readonly ResponderDropReason[] = [
  'oversize',
  'malformed',
  'auth',
  'replay',
  'not-request',
  'rate-source',
  'rate-global',
  'reply-too-large',
];

/** What a responder tells the network about its node. */
export interface Advertisement {
  name: string;
  /** Gossip host as peers should reach it. A wildcard (0.0.0.0, ::) is allowed: the discoverer
   * then uses the reply's source address, which is the address this host answered from. */
  host: string;
  port: number;
  /** RPC port, 0 or undefined when not advertised. */
  rpcPort?: number;
}

export type HandleResult =
  | { action: 'reply'; data: Buffer }
  | { action: 'drop'; reason: ResponderDropReason; error: Error };

export interface RequestHandlerOptions {
  envelope: Envelope;
  advertise: Advertisement;
  clock: Clock;
  rateLimit?: RateLimitConfig;
}

export class RequestHandler {
  readonly #envelope: Envelope;
  readonly #advertise: Required<Advertisement>;
  readonly #limiter: RateLimiter;
  // Small: discoverers are short-lived (a fresh sender id per run). Only authenticated packets
  // are recorded, so forged ids cannot churn it.
  readonly #replays = new ReplayWindow({ size: 64, maxSenders: 1024 });
  readonly #expectedBytes: number;

  constructor(opts: RequestHandlerOptions) {
    this.#envelope = opts.envelope;
    this.#advertise = { ...opts.advertise, rpcPort: opts.advertise.rpcPort ?? 0 };
    // Fail at start-up, not on the first request, if the advertisement cannot be encoded.
    encodeReply({ ...this.#advertise, nonce: new Uint8Array(16), insecure: this.#envelope.insecure });
    this.#limiter = new RateLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT, opts.clock);
    this.#expectedBytes = REQUEST_BODY_BYTES + opts.envelope.overhead;
  }

  /** `sourceHost` is the packet's real source IP (rate limits key on it, not on the port). */
  handle(sourceHost: string, data: Uint8Array): HandleResult {
    if (data.length > this.#expectedBytes) {
      return drop('oversize', new OversizeError(`discovery request of ${data.length} bytes from ${sourceHost} exceeds ${this.#expectedBytes}: dropped`));
    }
    if (data.length < this.#expectedBytes) {
      return drop('malformed', new DecodeError(`discovery request of ${data.length} bytes from ${sourceHost}, expected ${this.#expectedBytes}: dropped`));
    }
    const opened = this.#envelope.unwrap(data);
    if (!opened.ok) return drop(opened.reason, opened.error);
    if (opened.body.kind !== 'request') {
      return drop('not-request', new DecodeError(`discovery ${opened.body.kind} sent to the responder port from ${sourceHost}: dropped`));
    }
    if (opened.senderId !== undefined && opened.seq !== undefined && this.#replays.accept(opened.senderId, opened.seq) !== 'new') {
      return drop('replay', new AuthError(`discovery request from ${sourceHost} is a replay: dropped`));
    }
    const verdict = this.#limiter.take(sourceHost);
    if (verdict !== 'ok') {
      return drop(verdict === 'source' ? 'rate-source' : 'rate-global', new Error(`discovery request from ${sourceHost} over the ${verdict} rate limit: dropped`));
    }
    const reply = this.#envelope.wrap(encodeReply({ ...this.#advertise, nonce: opened.body.nonce, insecure: this.#envelope.insecure }));
    if (reply.length > data.length) {
      // Cannot happen with the codec's sizes; kept as the last line of the no-amplification rule.
      return drop('reply-too-large', new Error(`discovery reply of ${reply.length} bytes would exceed the ${data.length}-byte request: not sent`));
    }
    return { action: 'reply', data: reply };
  }
}

function drop(reason: ResponderDropReason, error: Error): HandleResult {
  return { action: 'drop', reason, error };
}
