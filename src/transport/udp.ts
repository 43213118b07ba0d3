// The real PacketTransport: one UDP socket (node:dgram) per node for gossip. UDP is
// fire-and-forget, so nothing here may throw at the caller or crash the process because of the
// network: send errors and socket errors are counted and logged, and the node carries on (SWIM
// treats a lost packet like any other loss).

import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import { OversizeError, TransportError } from '../errors.js';
import type { Logger } from '../runtime/types.js';
import { formatAddress, parseAddress } from './address.js';
import { MAX_PACKET_BYTES, type Address, type PacketTransport } from './types.js';

export interface UdpTransportOptions {
  /** Address to bind, e.g. "127.0.0.2"; peers must be able to reach it. */
  host: string;
  /** Port to bind; 0 lets the OS choose (read it back from `address`). */
  port: number;
  logger?: Logger;
  /**
   * Share the port with a wildcard-bound discovery responder (UDP broadcast discovery on the
   * gossip port). Off by default: on Linux it would also let a second node bind the very same
   * address silently, so only nodes started with discovery turn it on.
   */
  reuseAddr?: boolean;
}

export interface UdpStats {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Sends that failed (bad address, socket error) and socket-level errors. */
  errors: number;
}

export interface UdpTransport extends PacketTransport {
  stats(): UdpStats;
}

/** Binds a UDP socket; rejects with TransportError if the address is unusable or taken. */
export async function createUdpTransport(options: UdpTransportOptions): Promise<UdpTransport> {
  const type = options.host.includes(':') ? 'udp6' : 'udp4';
  const socket = DgramAsPromised.createSocket({ type, reuseAddr: options.reuseAddr === true });
  try {
    const bound = await socket.bind(options.port, options.host);
    return new DgramTransport(socket, formatAddress(options.host, bound.port), options.logger);
  } catch (err) {
    socket.destroy();
    throw new TransportError(
      `cannot bind UDP ${formatAddress(options.host, options.port)}: ${(err as Error).message}; pick a free port or an address of this machine`,
      { cause: err },
    );
  }
}

class DgramTransport implements UdpTransport {
  private handler: ((from: Address, data: Uint8Array) => void) | undefined;
  private closed = false;
  private readonly counters: UdpStats = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, errors: 0 };

  constructor(
    private readonly socket: SocketAsPromised,
    readonly address: Address,
    private readonly logger: Logger | undefined,
  ) {
    socket.socket.on('message', (msg, rinfo) => this.receive(msg, formatAddress(rinfo.address, rinfo.port)));
    // Without an 'error' listener an EventEmitter error would crash the process.
    socket.socket.on('error', (err) => this.noteError('UDP socket error', err));
  }

  send(to: Address, data: Uint8Array): void {
    if (data.byteLength > MAX_PACKET_BYTES) {
      throw new OversizeError(
        `packet of ${data.byteLength} bytes exceeds the ${MAX_PACKET_BYTES}-byte limit: split the message or send it over a stream`,
      );
    }
    if (this.closed) return;
    let host: string;
    let port: number;
    try {
      ({ host, port } = parseAddress(to));
    } catch (err) {
      this.noteError(`UDP send to a malformed address "${to}" dropped`, err);
      return;
    }
    this.counters.packetsSent++;
    this.counters.bytesSent += data.byteLength;
    try {
      this.socket.socket.send(data, port, host, (err) => {
        if (err) this.noteError(`UDP send to ${to} failed`, err);
      });
    } catch (err) {
      this.noteError(`UDP send to ${to} failed`, err);
    }
  }

  onPacket(handler: (from: Address, data: Uint8Array) => void): void {
    this.handler = handler;
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    try {
      await this.socket.close();
    } catch (err) {
      this.noteError('UDP close failed', err);
    }
  }

  private receive(msg: Buffer, from: Address): void {
    if (this.closed || this.handler === undefined) return;
    this.counters.packetsReceived++;
    this.counters.bytesReceived += msg.byteLength;
    try {
      this.handler(from, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    } catch (err) {
      // A handler bug must not take the socket (or the process) down with it.
      this.noteError(`packet handler threw on a packet from ${from}`, err);
    }
  }

  private noteError(what: string, err: unknown): void {
    this.counters.errors++;
    this.logger?.warn({ err, address: this.address }, what);
  }
}
