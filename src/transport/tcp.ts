// The real StreamTransport: length-prefixed frames (framing.ts) over sockets from a SocketLayer
// (plain TCP now, TLS from src/security/ later). Socket events are the network talking, so no
// handler here may throw: decode errors, socket errors and bugs in user handlers all end in the
// connection closing with a typed error, counted and logged, never in an uncaught exception.

import type { Server, Socket } from 'node:net';
import { OversizeError, TimeoutError, TransportError } from '../errors.js';
import type { Logger } from '../runtime/types.js';
import { formatAddress, parseAddress } from './address.js';
import { FrameDecoder, encodeFrame } from './framing.js';
import { MAX_FRAME_BYTES, type Address, type SocketLayer, type StreamConnection, type StreamTransport } from './types.js';

export interface TcpTransportOptions {
  host: string;
  /** 0 lets the OS choose (read it back from `address`). */
  port: number;
  layer: SocketLayer;
  /** Inbound connections beyond this many are closed at once (default 1,024). */
  maxConnections?: number;
  /** A connection with no traffic either way for this long is closed with TimeoutError (default 60,000; 0 = never). */
  idleTimeoutMs?: number;
  /** Default for connect() without a timeout (default 5,000 ms). */
  connectTimeoutMs?: number;
  /**
   * A connection whose unsent bytes exceed this is failed with TransportError (default 64 MiB):
   * a peer that stops reading must not make us buffer without bound.
   */
  maxBufferedBytes?: number;
  logger?: Logger;
  /** False for a client that only dials out (the CLI): no server socket is opened. */
  listen?: boolean;
}

export interface TcpStats {
  connectionsAccepted: number;
  /** Inbound connections closed at once because of the connection cap. */
  connectionsRejected: number;
  connectionsOpened: number;
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** Connections that ended with an error (decode, socket, idle timeout, handler). */
  errors: number;
}

export interface TcpTransport extends StreamTransport {
  stats(): TcpStats;
  /** Connections open now, inbound and outbound. */
  readonly connectionCount: number;
}

/** After close(), a peer that does not finish the goodbye within this time is cut off. */
const CLOSE_GRACE_MS = 2000;

export async function createTcpTransport(options: TcpTransportOptions): Promise<TcpTransport> {
  const transport = new TcpStreamTransport(options);
  if (options.listen !== false) await transport.listen();
  return transport;
}

function emptyStats(): TcpStats {
  return { connectionsAccepted: 0, connectionsRejected: 0, connectionsOpened: 0, framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, errors: 0 };
}

class TcpStreamTransport implements TcpTransport {
  private readonly server: Server;
  private readonly connections = new Set<TcpConnection>();
  private inbound = 0;
  private handler: ((conn: StreamConnection) => void) | undefined;
  private closed = false;
  private boundAddress: Address | undefined;
  readonly counters = emptyStats();
  readonly idleTimeoutMs: number;
  readonly maxBufferedBytes: number;

  constructor(readonly options: TcpTransportOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.server = options.layer.createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.log('warn', { err }, 'stream server error'));
  }

  get address(): Address {
    return this.boundAddress ?? formatAddress(this.options.host, this.options.port);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new TransportError(`cannot listen on ${formatAddress(this.options.host, this.options.port)}: ${err.message}; pick a free port or an address of this machine`, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const info = this.server.address();
        const port = typeof info === 'object' && info !== null ? info.port : this.options.port;
        this.boundAddress = formatAddress(this.options.host, port);
        resolve();
      });
    });
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.handler = handler;
  }

  async connect(to: Address, timeoutMs = this.options.connectTimeoutMs ?? 5000): Promise<StreamConnection> {
    if (this.closed) throw new TransportError(`cannot connect from ${this.address}: this transport is closed`);
    let target: { host: string; port: number };
    try {
      target = parseAddress(to);
    } catch (err) {
      throw new TransportError(`cannot connect to "${to}": not a HOST:PORT address`, { cause: err });
    }
    let socket: Socket;
    try {
      socket = await this.options.layer.connect(target.host, target.port, timeoutMs);
    } catch (err) {
      if (err instanceof TransportError) throw err;
      throw new TransportError(`connect to ${to} failed: ${(err as Error).message}`, { cause: err });
    }
    if (this.closed) {
      socket.destroy();
      throw new TransportError(`cannot connect from ${this.address}: the transport closed while connecting`);
    }
    this.counters.connectionsOpened++;
    return this.adopt(socket, to, false);
  }

  stats(): TcpStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    const serverClosed = this.server.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    for (const conn of [...this.connections]) conn.destroy();
    await serverClosed;
  }

  log(level: 'warn' | 'debug', obj: object, msg: string): void {
    this.options.logger?.[level]({ ...obj, address: this.address }, msg);
  }

  private accept(socket: Socket): void {
    // Nothing may throw out of here: it runs inside the server's event handler.
    const remote = socket.remoteAddress !== undefined && socket.remotePort !== undefined ? formatAddress(socket.remoteAddress, socket.remotePort) : 'unknown:0';
    const max = this.options.maxConnections ?? 1024;
    if (this.closed || this.handler === undefined || this.inbound >= max) {
      if (!this.closed && this.handler !== undefined) {
        this.counters.connectionsRejected++;
        this.log('warn', { remote, max }, 'connection cap reached: closing a new inbound connection');
      }
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    this.inbound++;
    const conn = this.adopt(socket, remote, true);
    try {
      this.handler(conn);
    } catch (err) {
      conn.fail(new TransportError(`connection handler threw for ${remote}; connection closed`, { cause: err }));
    }
  }

  private adopt(socket: Socket, remote: Address, inbound: boolean): TcpConnection {
    let identity: string | undefined;
    try {
      identity = this.options.layer.peerIdentity(socket);
    } catch {
      identity = undefined;
    }
    const conn = new TcpConnection(this, socket, remote, identity, () => {
      this.connections.delete(conn);
      if (inbound) this.inbound--;
    });
    this.connections.add(conn);
    return conn;
  }
}

class TcpConnection implements StreamConnection {
  private readonly decoder = new FrameDecoder(MAX_FRAME_BYTES);
  private frameHandler: ((frame: Uint8Array) => void) | undefined;
  private closeHandler: ((err?: Error) => void) | undefined;
  private early: Uint8Array[] = [];
  /** We started closing (or failed); incoming frames are ignored from here on. */
  private closing = false;
  private error: Error | undefined;
  private closeReason: { err: Error | undefined } | undefined;
  private closeReported = false;

  constructor(
    private readonly owner: TcpStreamTransport,
    private readonly socket: Socket,
    readonly remote: Address,
    readonly peerIdentity: string | undefined,
    private readonly gone: () => void,
  ) {
    // No Nagle: frames are already coalesced per event-loop turn (cork in send()), and a small
    // frame held back waiting for the peer's delayed ACK costs a request/ack round trip tens of
    // ms (TLS sockets do not take the `noDelay` option of the plain layer, so set it here for both).
    try {
      socket.setNoDelay(true);
    } catch {
      // a socket without a TCP handle (tests' duplex pairs) has no Nagle to turn off
    }
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      try {
        this.decoder.end();
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('error', (err) => {
      this.error ??= new TransportError(`connection to ${remote} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err });
    });
    socket.on('close', () => this.finished());
    if (owner.idleTimeoutMs > 0) {
      socket.setTimeout(owner.idleTimeoutMs);
      socket.on('timeout', () => this.fail(new TimeoutError(`connection to ${remote} idle for ${owner.idleTimeoutMs} ms: closed`)));
    }
  }

  send(frame: Uint8Array): void {
    if (frame.byteLength > MAX_FRAME_BYTES) {
      throw new OversizeError(`frame of ${frame.byteLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit: chunk the payload`);
    }
    // writableEnded covers the moment between the peer's FIN (which ends our side too) and 'close'.
    if (this.closing || this.socket.destroyed || this.socket.writableEnded) {
      throw new TransportError(`cannot send to ${this.remote}: the connection is closed; open a new one`);
    }
    if (this.socket.writableLength + frame.byteLength > this.owner.maxBufferedBytes) {
      const err = new TransportError(`peer ${this.remote} is not reading: over ${this.owner.maxBufferedBytes} bytes queued; connection closed`);
      this.fail(err);
      throw err;
    }
    this.owner.counters.framesSent++;
    this.owner.counters.bytesSent += frame.byteLength + 4;
    // Frames sent in one tick leave in one write (one TLS record, one syscall): a node under load
    // sends many small frames (replication pushes, acks) to the same peer per tick.
    if (!this.socket.writableCorked) {
      this.socket.cork();
      process.nextTick(uncork, this.socket);
    }
    // encodeFrame copies the payload, so a caller may reuse its buffer right after send().
    this.socket.write(encodeFrame(frame));
  }

  /** The tick's frames leave now (the pending end-of-tick uncork then finds nothing corked). */
  flush(): void {
    if (this.socket.writableCorked) this.socket.uncork();
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    if (this.early.length > 0) setImmediate(() => this.flushEarly());
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler;
    if (this.closeReason !== undefined) setImmediate(() => this.report());
  }

  /** Graceful close: pending writes go out, then FIN; a peer that lingers is cut off. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Immediate close (transport shutdown). */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /** Closes with an error that the close handler will receive. */
  fail(err: Error): void {
    this.error ??= err;
    this.closing = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.owner.log('warn', { err, remote: this.remote }, 'undecodable stream: closing the connection');
      this.fail(err as Error);
      return;
    }
    for (const frame of frames) {
      if (this.closing) return;
      this.owner.counters.framesReceived++;
      this.owner.counters.bytesReceived += frame.byteLength + 4;
      if (this.frameHandler === undefined || this.early.length > 0) this.early.push(frame);
      else this.deliver(frame);
    }
  }

  private deliver(frame: Uint8Array): void {
    try {
      this.frameHandler!(frame);
    } catch (err) {
      this.owner.log('warn', { err, remote: this.remote }, 'frame handler threw: closing the connection');
      this.fail(new TransportError(`frame handler threw for a frame from ${this.remote}; connection closed`, { cause: err }));
    }
  }

  private flushEarly(): void {
    // Bounded by the buffered frames. Frames that arrived before a close are still delivered
    // (they were sent before it), unless the connection failed.
    while (this.early.length > 0 && this.frameHandler !== undefined && this.error === undefined) this.deliver(this.early.shift()!);
  }

  private finished(): void {
    if (this.closeReason !== undefined) return;
    if (this.error !== undefined) this.owner.counters.errors++;
    this.closeReason = { err: this.error };
    this.closing = true;
    this.gone();
    this.report();
  }

  private report(): void {
    if (this.closeReported || this.closeHandler === undefined || this.closeReason === undefined) return;
    if (this.early.length > 0 && this.frameHandler !== undefined) this.flushEarly();
    this.closeReported = true;
    try {
      this.closeHandler(this.closeReason.err);
    } catch (err) {
      this.owner.log('warn', { err, remote: this.remote }, 'close handler threw');
    }
  }
}

function uncork(socket: Socket): void {
  if (socket.writableCorked) socket.uncork(); // flush() may have written the tick's frames already
}
