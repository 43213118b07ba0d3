// One transport interface, two implementations (DESIGN.md "Principles"): real UDP/TCP sockets
// (src/transport/udp.ts, src/transport/tcp.ts) and the simulated network (src/sim/network.ts).
// A conformance suite (test/suites/) runs against both.
//
// Addresses are "host:port" strings everywhere (see address.ts), so they can key maps and travel
// in gossip unchanged.

export type Address = string;

/** Unreliable datagrams (gossip). Sizes above `maxPacketSize` are refused by `send`. */
export interface PacketTransport {
  /** The address this transport is bound to, as peers should reach it. */
  readonly address: Address;
  /**
   * Fire-and-forget; a send to an unreachable peer is silently lost, as with UDP. `data` may be
   * kept until sent and may be shared (gossip's interned facts): neither side writes to it.
   */
  send(to: Address, data: Uint8Array): void;
  /** One handler; a later call replaces it. `from` is the packet's real source address. */
  onPacket(handler: (from: Address, data: Uint8Array) => void): void;
  close(): Promise<void>;
}

/** A reliable, ordered, message-framed connection (TCP with length-prefixed frames, or TLS). */
export interface StreamConnection {
  /** The peer's address as seen by this side (for an accepted connection: its ephemeral port). */
  readonly remote: Address;
  /** Who the peer proved to be (TLS-PSK identity or certificate CN); undefined on plaintext. */
  readonly peerIdentity?: string;
  /** Queues one frame. Throws OversizeError above the frame limit (1 MiB by default). */
  send(frame: Uint8Array): void;
  /** Writes the frames queued this tick now rather than at its end (latency-critical sends); optional. */
  flush?(): void;
  onFrame(handler: (frame: Uint8Array) => void): void;
  /** Called once, when either side closes or the connection fails. */
  onClose(handler: (err?: Error) => void): void;
  close(): void;
}

export interface StreamTransport {
  readonly address: Address;
  /** Rejects with TransportError when the peer is unreachable or refuses. */
  connect(to: Address, timeoutMs?: number): Promise<StreamConnection>;
  /** One handler; a later call replaces it. */
  onConnection(handler: (conn: StreamConnection) => void): void;
  close(): Promise<void>;
}

/** Largest frame a stream accepts; larger payloads are chunked by their senders. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Largest gossip packet we send, so it fits a 1,500-byte Ethernet MTU with IP/UDP headers and crypto. */
export const MAX_PACKET_BYTES = 1400;

/**
 * How the TCP stream transport gets its sockets: plain `net` (insecure) or TLS (src/security/).
 * Keeping this the only seam lets encryption slot in without reshaping the stream path.
 */
export interface SocketLayer {
  /** A server whose listener receives each connection once it is ready (after the TLS handshake). */
  createServer(onSocket: (socket: import('node:net').Socket) => void): import('node:net').Server;
  /** Resolves with a connected (and, for TLS, handshaken) socket; rejects with TransportError. */
  connect(host: string, port: number, timeoutMs: number): Promise<import('node:net').Socket>;
  /** The authenticated identity of a ready socket's peer, if the layer has one. */
  peerIdentity(socket: import('node:net').Socket): string | undefined;
}
