// SocketLayer implementations over node:tls (DESIGN.md "Security": streams are TLS keyed by the
// cluster key, or mutual TLS with operator certificates). The two flavours differ only in their
// tls options and in how a peer's identity is read, so this file holds the shared machinery
// (connect with a deadline, error mapping, counted handshake failures) and tls-psk.ts /
// tls-mtls.ts supply the flavours.
import { randomBytes } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import tls from 'node:tls';
import type { AuthError, TransportError } from '../errors.js';
import type { SocketLayer } from '../transport/types.js';
import { formatAddress } from '../transport/address.js';
import { classifyHandshakeError, handshakeTimeout, type HandshakeSide } from './tls-errors.js';

export interface HandshakeDrop {
  side: HandshakeSide;
  reason: 'auth' | 'transport';
  remote: string;
  error: AuthError | TransportError;
}

export interface TlsStats {
  /** Handshakes that failed on credentials (both sides). */
  auth: number;
  /** Handshakes that failed otherwise (timeouts, resets before TCP was up, refused). */
  transport: number;
  /** Inbound connections refused because their peer address already had the most allowed. */
  overPeerLimit: number;
}

export interface TlsLimits {
  /**
   * Most TCP connections one peer address may hold open at a server at once, handshaking or
   * established (default 256). Stops one host from exhausting the transport's global cap (1,024) with
   * half-open handshakes. Members need a few each (several nodes may share one address on a test
   * machine); client tools one per command.
   */
  maxConnectionsPerPeer?: number;
  /**
   * Source address for outgoing connections (a node's bind address), so peers, logs and
   * per-address firewall rules see the node's own address rather than the host's default.
   */
  localAddress?: string;
}

export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 256;

export interface TlsSocketLayer extends SocketLayer {
  readonly stats: Readonly<TlsStats>;
  /**
   * Invalidates every TLS session ticket our servers issued, so no peer can resume a session
   * established under credentials that were since revoked (e.g. a removed cluster key).
   */
  forgetSessions(): void;
}

/** What a flavour supplies. */
export interface TlsFlavour {
  serverOptions: tls.TlsOptions;
  /** Fresh per connection, so a key rotation takes effect on the next connect. */
  clientOptions(host: string): tls.ConnectionOptions;
  /** Identity of a handshaken socket's peer, if the flavour can tell. */
  identity(socket: tls.TLSSocket): string | undefined;
  /** Extra check once the client handshake is done; an error rejects the connection. */
  verifyClientSide?(socket: tls.TLSSocket): Error | undefined;
  /** Extra check once a server handshake is done; an error drops the connection (counted). */
  verifyServerSide?(socket: tls.TLSSocket): Error | undefined;
  /**
   * Called with every socket that completed its handshake and was let in; `options` is the object
   * `clientOptions` returned for it (client side). Lets a flavour revoke live connections later.
   */
  track?(socket: tls.TLSSocket, side: HandshakeSide, options?: tls.ConnectionOptions): void;
}

/** Bounds how long a half-open handshake may hold a server socket (Node's default is 120 s). */
const SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

export function tlsSocketLayer(flavour: TlsFlavour, onDrop?: (drop: HandshakeDrop) => void, limits: TlsLimits = {}): TlsSocketLayer {
  const stats: TlsStats = { auth: 0, transport: 0, overPeerLimit: 0 };
  const perPeerMax = limits.maxConnectionsPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER;
  const perPeer = new Map<string, number>();
  const count = (side: HandshakeSide, remote: string, error: AuthError | TransportError): void => {
    const reason = error.name === 'AuthError' ? 'auth' : 'transport';
    stats[reason]++;
    try {
      onDrop?.({ side, reason, remote, error });
    } catch {
      /* a faulty drop logger must not break the listener */
    }
  };

  const servers = new Set<tls.Server>();
  return {
    stats,

    forgetSessions(): void {
      for (const server of servers) server.setTicketKeys(randomBytes(48));
    },

    createServer(onSocket: (socket: Socket) => void): Server {
      const server = tls.createServer(
        { handshakeTimeout: SERVER_HANDSHAKE_TIMEOUT_MS, ...flavour.serverOptions },
        (socket) => {
          const bad = flavour.verifyServerSide?.(socket);
          if (bad) {
            const remote = formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
            count('server', remote, classifyHandshakeError(bad, 'server', remote, true));
            socket.destroy();
            return;
          }
          flavour.track?.(socket, 'server');
          onSocket(socket);
        },
      );
      servers.add(server);
      server.once('close', () => servers.delete(server));
      // Raw TCP, before any TLS byte: count connections per peer address and refuse the excess.
      server.on('connection', (raw: Socket) => {
        const ip = raw.remoteAddress ?? '?';
        const n = perPeer.get(ip) ?? 0;
        if (n >= perPeerMax) {
          stats.overPeerLimit++;
          raw.on('error', () => {});
          raw.destroy();
          return;
        }
        perPeer.set(ip, n + 1);
        raw.once('close', () => {
          const left = (perPeer.get(ip) ?? 1) - 1;
          if (left <= 0) perPeer.delete(ip);
          else perPeer.set(ip, left);
        });
      });
      server.on('tlsClientError', (err, socket) => {
        const remote = formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
        // Node drops a rejected client certificate without an error code; the reason is here.
        const authz = (socket as tls.TLSSocket & { authorizationError?: string }).authorizationError;
        const cause = authz ? Object.assign(new Error(`client certificate rejected: ${authz}`), { code: authz }) : err;
        count('server', remote, classifyHandshakeError(cause, 'server', remote, true));
        // Node reports a failed or timed-out handshake here but leaves the socket open: a client
        // that connects and never finishes (half-open, or stalled mid-record) would hold it forever.
        socket.destroy();
      });
      return server;
    },

    connect(host: string, port: number, timeoutMs: number): Promise<Socket> {
      const remote = formatAddress(host, port);
      return new Promise<Socket>((resolve, reject) => {
        let settled = false;
        let tcpUp = false;
        let socket: tls.TLSSocket;
        let options: tls.ConnectionOptions;
        try {
          options = flavour.clientOptions(host);
          socket = tls.connect({ host, port, ...options, ...(limits.localAddress ? { localAddress: limits.localAddress } : {}) });
        } catch (err) {
          // Bad options (e.g. an invalid host) throw synchronously; keep the promise's contract.
          const e = classifyHandshakeError(err, 'client', remote, false);
          count('client', remote, e);
          reject(e);
          return;
        }
        const fail = (err: unknown): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          const e = classifyHandshakeError(err, 'client', remote, tcpUp);
          count('client', remote, e);
          reject(e);
        };
        const timer = setTimeout(() => fail(handshakeTimeout(remote, timeoutMs)), Math.max(0, timeoutMs));
        socket.once('connect', () => (tcpUp = true));
        socket.once('error', fail);
        socket.once('close', () => fail(Object.assign(new Error('connection closed during handshake'), { code: 'ECONNRESET' })));
        socket.once('secureConnect', () => {
          const bad = flavour.verifyClientSide?.(socket);
          if (bad) return fail(bad);
          settled = true;
          clearTimeout(timer);
          socket.removeListener('error', fail);
          flavour.track?.(socket, 'client', options);
          resolve(socket);
        });
      });
    },

    peerIdentity(socket: Socket): string | undefined {
      return socket instanceof tls.TLSSocket ? flavour.identity(socket) : undefined;
    },
  };
}
