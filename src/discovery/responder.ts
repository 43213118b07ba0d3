// The socket around RequestHandler: one UDP socket on the wildcard address, so it receives
// broadcasts (Linux delivers a broadcast only to sockets bound to the wildcard or the broadcast
// address, never to one bound to a unicast IP). SO_REUSEADDR lets it share port 9999 with the
// node's gossip socket bound to a specific IP (that socket must set SO_REUSEADDR too, or
// whichever binds second gets EADDRINUSE) and with other nodes' responders on the same host:
// a broadcast reaches every such socket, unicast gossip still goes to the more specific bind.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { TransportError } from '../errors.js';
import type { Clock, Logger } from '../runtime/types.js';
import { insecureWarning } from '../security/plaintext-warning.js';
import { formatAddress } from '../transport/address.js';
import { DISCOVERY_PORT } from './constants.js';
import { createEnvelope, type DiscoverySecurity } from './envelope.js';
import type { RateLimitConfig } from './rate-limit.js';
import {
  RESPONDER_DROP_REASONS,
  RequestHandler,
  type Advertisement,
  type ResponderDropReason,
} from './request-handler.js';

export type DiscoveryResponderOptions = DiscoverySecurity & {
  /** What to answer with: this node's name, gossip host:port and RPC port. */
  advertise: Advertisement;
  /** Default "0.0.0.0" (needed to receive broadcasts); tests may bind 127.0.0.1. */
  host?: string;
  /** Default 9999; 0 picks a free port (tests). */
  port?: number;
  clock?: Clock;
  logger?: Logger;
  rateLimit?: RateLimitConfig;
};

export interface DiscoveryResponderStats {
  requests: number;
  replies: number;
  dropped: Record<ResponderDropReason, number>;
}

const realClock: Clock = { now: () => performance.now() };

export class DiscoveryResponder {
  readonly #socket: dgram.Socket;
  readonly #handler: RequestHandler;
  readonly #logger: Logger | undefined;
  readonly #stats: DiscoveryResponderStats;
  #closed = false;

  private constructor(socket: dgram.Socket, handler: RequestHandler, logger: Logger | undefined) {
    this.#socket = socket;
    this.#handler = handler;
    this.#logger = logger;
    this.#stats = { requests: 0, replies: 0, dropped: Object.fromEntries(RESPONDER_DROP_REASONS.map((r) => [r, 0])) as Record<ResponderDropReason, number> };
    socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo));
    // An unhandled 'error' event would crash the process; a responder must never do that.
    socket.on('error', (err) => this.#logger?.warn({ err }, 'discovery responder socket error'));
  }

  /** Binds and starts answering. Rejects with TransportError if the port cannot be bound. */
  static async start(opts: DiscoveryResponderOptions): Promise<DiscoveryResponder> {
    const clock = opts.clock ?? realClock;
    const envelope = createEnvelope(opts, clock);
    const handler = new RequestHandler({ envelope, advertise: opts.advertise, clock, rateLimit: opts.rateLimit });
    const host = opts.host ?? '0.0.0.0';
    const port = opts.port ?? DISCOVERY_PORT;
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      socket.close();
      throw new TransportError(
        `cannot bind the discovery responder to UDP ${formatAddress(host, port)}: ${(err as Error).message}; ` +
          'every socket on that port (the gossip socket too) must set SO_REUSEADDR, or start without --discover',
        { cause: err },
      );
    });
    const responder = new DiscoveryResponder(socket, handler, opts.logger);
    if (envelope.insecure) {
      const w = insecureWarning(`discovery ${formatAddress(host, responder.port)}`);
      opts.logger?.warn(w.fields, w.msg);
    }
    opts.logger?.info({ listen: formatAddress(host, responder.port), advertise: opts.advertise }, 'discovery responder listening');
    return responder;
  }

  /** The bound port (useful when started with port 0). */
  get port(): number {
    return this.#socket.address().port;
  }

  /** A copy of the counters: requests seen, replies sent, drops by reason. */
  stats(): DiscoveryResponderStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    this.#stats.requests++;
    if (rinfo.port === 0) {
      // No one can receive on port 0: a forged source; answering would only fail.
      this.#stats.dropped.malformed++;
      return;
    }
    try {
      const result = this.#handler.handle(rinfo.address, msg);
      if (result.action === 'drop') {
        this.#stats.dropped[result.reason]++;
        this.#logger?.debug({ from: rinfo.address, reason: result.reason, err: result.error.message }, 'discovery packet dropped');
        return;
      }
      // To the packet's real source address and port, and nowhere else.
      this.#socket.send(result.data, rinfo.port, rinfo.address, (err) => {
        if (err) this.#logger?.debug({ err, to: rinfo.address }, 'discovery reply send failed');
      });
      this.#stats.replies++;
    } catch (err) {
      // Defensive: the handler is written not to throw, but hostile input must never crash us.
      this.#stats.dropped.malformed++;
      this.#logger?.warn({ err, from: rinfo.address }, 'discovery packet could not be processed: dropped');
    }
  }
}
