// Request/response and one-way messages between nodes over the stream transport (TCP or TLS, or
// the simulated network). One outgoing connection per peer address is kept and reused; requests
// are multiplexed by id; replies go back on the connection the request came in on. Every input is
// untrusted: malformed frames close that connection, unknown methods and handler failures become
// error replies, and nothing a peer sends can throw out of here.
import { DecodeError, NodeStoppedError, TimeoutError, TransportError, TriError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { Address, StreamConnection, StreamTransport } from '../transport/types.js';
import { decodeRpcFrame, encodeRpcFrame, type RpcFrame } from './frames.js';
import { rebuildRemoteError } from './remote-error.js';

/** Who may call a method: any authenticated peer including client tools, or cluster members only. */
export type Access = 'client' | 'member';

export interface CallContext {
  /** Address of the connection the call came in on (for an accepted connection: ephemeral port). */
  remote: Address;
  /** The peer's authenticated identity, e.g. "member:n1" or "client:cli"; undefined in --insecure mode. */
  identity: string | undefined;
  /** Whether the peer counts as a cluster member (see RpcEndpoint.isMember). */
  trusted: boolean;
}

export type Handler = (payload: Uint8Array, ctx: CallContext) => Promise<Uint8Array> | Uint8Array;
export type NotifyHandler = (payload: Uint8Array, ctx: CallContext) => void;

interface Pending {
  resolve: (v: Uint8Array) => void;
  reject: (e: Error) => void;
  cancelTimer: () => void;
  conn: StreamConnection;
}

export interface RpcOptions {
  /**
   * True when streams are authenticated (TLS). Then an accepted connection may call member-only
   * methods only if its identity names a member; without TLS there are no identities to check.
   */
  secure?: boolean;
  /** Most requests a single connection may have outstanding at us; more get a "busy" error. */
  maxInFlightPerConnection?: number;
  connectTimeoutMs?: number;
}

export class RpcEndpoint {
  private readonly handlers = new Map<string, { fn: Handler; access: Access }>();
  private readonly notifyHandlers = new Map<string, { fn: NotifyHandler; access: Access }>();
  private readonly outgoing = new Map<Address, Promise<StreamConnection>>();
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Map<StreamConnection, number>();
  private readonly open = new Set<StreamConnection>();
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;
  readonly stats = { requestsIn: 0, requestsOut: 0, notifiesIn: 0, notifiesOut: 0, badFrames: 0, refused: 0, bytesIn: 0, bytesOut: 0 };

  constructor(
    private readonly streams: StreamTransport,
    private readonly runtime: Runtime,
    private readonly opts: RpcOptions = {},
  ) {
    this.log = runtime.logger.child({ component: 'rpc' });
    streams.onConnection((conn) => this.attach(conn));
  }

  handle(method: string, access: Access, fn: Handler): void {
    this.handlers.set(method, { fn, access });
  }

  onNotify(method: string, access: Access, fn: NotifyHandler): void {
    this.notifyHandlers.set(method, { fn, access });
  }

  /** Calls `method` on the node at `to`; rejects with the peer's error class, TimeoutError or TransportError. */
  async call(to: Address, method: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const conn = await this.connection(to);
    const id = this.nextId++;
    if (this.nextId >= 2 ** 32) this.nextId = 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      const cancelTimer = this.runtime.scheduler.schedule(timeoutMs, () => {
        if (this.pending.delete(id)) reject(new TimeoutError(`${method} to ${to} got no answer in ${timeoutMs} ms`));
      });
      this.pending.set(id, { resolve, reject, cancelTimer, conn });
      this.stats.requestsOut++;
      this.sendFrame(conn, { kind: 'request', id, method, payload });
    });
  }

  /** One-way message; resolves once queued on the connection. Loss is possible (the peer may die). */
  async notify(to: Address, method: string, payload: Uint8Array): Promise<void> {
    const conn = await this.connection(to);
    this.stats.notifiesOut++;
    this.sendFrame(conn, { kind: 'notify', method, payload });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) {
      p.cancelTimer();
      p.reject(new NodeStoppedError('the node is stopping'));
    }
    this.pending.clear();
    for (const conn of this.open) conn.close();
    this.open.clear();
    this.outgoing.clear();
  }

  private connection(to: Address): Promise<StreamConnection> {
    if (this.closed) return Promise.reject(new NodeStoppedError('the node has stopped'));
    let conn = this.outgoing.get(to);
    if (!conn) {
      conn = this.streams.connect(to, this.opts.connectTimeoutMs ?? 3000).then((c) => {
        this.attach(c, to);
        return c;
      });
      // A failed connect is forgotten at once so the next call retries.
      conn.catch(() => this.outgoing.delete(to));
      this.outgoing.set(to, conn);
    }
    return conn;
  }

  private attach(conn: StreamConnection, outgoingTo?: Address): void {
    if (this.closed) {
      conn.close();
      return;
    }
    this.open.add(conn);
    conn.onFrame((bytes) => this.receive(conn, bytes, outgoingTo !== undefined));
    conn.onClose((err) => {
      this.open.delete(conn);
      this.inFlight.delete(conn);
      if (outgoingTo !== undefined) this.outgoing.delete(outgoingTo);
      for (const [id, p] of this.pending) {
        if (p.conn !== conn) continue;
        this.pending.delete(id);
        p.cancelTimer();
        p.reject(new TransportError(`connection to ${conn.remote} closed`, { cause: err }));
      }
    });
  }

  private receive(conn: StreamConnection, bytes: Uint8Array, outgoing: boolean): void {
    this.stats.bytesIn += bytes.length;
    let frame: RpcFrame;
    try {
      frame = decodeRpcFrame(bytes);
    } catch (err) {
      this.stats.badFrames++;
      this.log.debug({ remote: conn.remote, err: (err as Error).message }, 'malformed rpc frame; closing connection');
      conn.close();
      return;
    }
    const ctx: CallContext = { remote: conn.remote, identity: conn.peerIdentity, trusted: this.isMember(conn.peerIdentity, outgoing) };
    switch (frame.kind) {
      case 'request':
        this.serve(conn, frame.id, frame.method, frame.payload, ctx);
        return;
      case 'notify': {
        this.stats.notifiesIn++;
        const h = this.notifyHandlers.get(frame.method);
        if (!h || (h.access === 'member' && !ctx.trusted)) {
          this.stats.refused++;
          return;
        }
        try {
          h.fn(frame.payload, ctx);
        } catch (err) {
          this.log.debug({ method: frame.method, err: (err as Error).message }, 'notify handler failed');
        }
        return;
      }
      case 'response':
      case 'error': {
        const p = this.pending.get(frame.id);
        if (!p || p.conn !== conn) return; // late or forged reply: ignore
        this.pending.delete(frame.id);
        p.cancelTimer();
        if (frame.kind === 'response') p.resolve(frame.payload);
        else p.reject(rebuildRemoteError(frame.name, frame.message));
        return;
      }
    }
  }

  private serve(conn: StreamConnection, id: number, method: string, payload: Uint8Array, ctx: CallContext): void {
    this.stats.requestsIn++;
    const h = this.handlers.get(method);
    if (!h) return this.replyError(conn, id, new DecodeError(`unknown method "${method}"`));
    if (h.access === 'member' && !ctx.trusted) {
      this.stats.refused++;
      return this.replyError(conn, id, new TriError(`"${method}" is for cluster members only`));
    }
    const busy = this.inFlight.get(conn) ?? 0;
    if (busy >= (this.opts.maxInFlightPerConnection ?? 256)) {
      this.stats.refused++;
      return this.replyError(conn, id, new TriError('too many requests in flight on this connection; retry later'));
    }
    this.inFlight.set(conn, busy + 1);
    Promise.resolve()
      .then(() => h.fn(payload, ctx))
      .then(
        (result) => this.sendFrame(conn, { kind: 'response', id, payload: result }),
        (err: unknown) => this.replyError(conn, id, err instanceof Error ? err : new TriError(String(err))),
      )
      .finally(() => {
        const n = this.inFlight.get(conn);
        if (n !== undefined) this.inFlight.set(conn, n - 1);
      });
  }

  /**
   * Member-only methods are open to: everyone on a plaintext (--insecure) cluster, which has no
   * identities; the peer of a connection we dialled ourselves (we dialled a member's address and
   * its TLS handshake proved the cluster key); and accepted connections whose identity names a member.
   */
  private isMember(identity: string | undefined, outgoing: boolean): boolean {
    if (!this.opts.secure || outgoing) return true;
    return identity !== undefined && identity.startsWith('member:');
  }

  private replyError(conn: StreamConnection, id: number, err: Error): void {
    this.sendFrame(conn, { kind: 'error', id, name: err.name, message: err.message });
  }

  private sendFrame(conn: StreamConnection, frame: RpcFrame): void {
    const bytes = encodeRpcFrame(frame);
    this.stats.bytesOut += bytes.length;
    try {
      conn.send(bytes);
    } catch (err) {
      this.log.debug({ remote: conn.remote, err: (err as Error).message }, 'rpc send failed');
      conn.close();
    }
  }
}

