// Request/response and one-way messages between nodes over the stream transport (TCP or TLS, or
// the simulated network). One outgoing connection per peer address is kept and reused; requests
// (outgoing.ts) are multiplexed by id; replies go back on the connection the request came in on. Every input is
// untrusted: malformed frames close that connection, unknown methods and handler failures become
// error replies, and nothing a peer sends can throw out of here.
import { DecodeError, NodeStoppedError, OversizeError, TimeoutError, TransportError, TriError } from '../errors.js';
import { formatBytes, MAX_RPC_MESSAGE_BYTES } from '../limits.js';
import { MAX_FRAME_BYTES } from '../transport/types.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { Address, StreamConnection, StreamTransport } from '../transport/types.js';
import { parseAddress } from '../transport/address.js';
import { decodeRpcFrame, encodeRpcFrame, type RpcFrame } from './frames.js';
import { rebuildRemoteError } from './remote-error.js';
import { PartAssembler, splitIntoParts } from './parts.js';
import { OutgoingConnections } from './outgoing.js';
import { traceNow, writeTrace } from '../util/write-trace.js';

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
  /** Set while call observers are registered: what the answered call is reported with. */
  timing?: { to: Address; method: string; bytesOut: number; startedAt: number };
}

/** One answered call, timed on the runtime clock from sending the request to receiving the reply. */
export interface CallTiming {
  to: Address;
  method: string;
  /** Encoded request and response frames, in bytes. */
  bytesOut: number;
  bytesIn: number;
  elapsedMs: number;
}

export interface RpcOptions {
  /**
   * True when streams are authenticated (TLS). Then an accepted connection may call member-only
   * methods only if its identity names a member; without TLS there are no identities to check.
   */
  secure?: boolean;
  /**
   * Most requests one peer (its authenticated identity at its host, over all its connections)
   * may have outstanding at us; more get a "busy" error. Per peer, not per connection, so opening
   * more connections (up to the transport's per-peer limit) does not multiply it.
   */
  maxInFlightPerPeer?: number;
  connectTimeoutMs?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

export class RpcEndpoint {
  private readonly handlers = new Map<string, { fn: Handler; access: Access }>();
  private readonly notifyHandlers = new Map<string, { fn: NotifyHandler; access: Access }>();
  /** One kept connection per peer address we call (dial, reset, redial). */
  private readonly links: OutgoingConnections;
  private readonly pending = new Map<number, Pending>();
  /** Requests being handled, per peer key (see peerKey). */
  private readonly inFlight = new Map<string, number>();
  private readonly open = new Set<StreamConnection>();
  /** Large requests and replies being put back together, per connection (parts.ts). */
  private readonly assemblers = new WeakMap<StreamConnection, PartAssembler>();
  private nextId = 1;
  private closed = false;
  private lastNotify: { method: string; payload: Uint8Array; frame: Uint8Array } | undefined;
  private readonly callObservers = new Set<(t: CallTiming) => void>();
  private readonly lostObservers = new Set<(remote: Address, outgoing: boolean) => void>();
  private readonly log: Logger;
  readonly stats = { requestsIn: 0, requestsOut: 0, notifiesIn: 0, notifiesOut: 0, badFrames: 0, refused: 0, bytesIn: 0, bytesOut: 0 };

  constructor(
    streams: StreamTransport,
    private readonly runtime: Runtime,
    private readonly opts: RpcOptions = {},
  ) {
    this.log = runtime.logger.child({ component: 'rpc' });
    this.links = new OutgoingConnections(streams, opts.connectTimeoutMs ?? 3000, {
      attach: (c, to) => this.attach(c, to),
      failPending: (c, err) => this.failPending(c, err),
    });
    streams.onConnection((conn) => this.attach(conn));
  }

  handle(method: string, access: Access, fn: Handler): void {
    this.handlers.set(method, { fn, access });
  }

  onNotify(method: string, access: Access, fn: NotifyHandler): void {
    this.notifyHandlers.set(method, { fn, access });
  }

  /**
   * Reports every call answered with a response (not errors or timeouts): its sizes and round-trip
   * time. The node derives per-member throughput from the large ones (bandwidth-aware routing).
   */
  observeCalls(observer: (t: CallTiming) => void): () => void {
    this.callObservers.add(observer);
    return () => this.callObservers.delete(observer);
  }

  /**
   * Reports every connection that closed while this endpoint is open, with the peer's address
   * (the address we dialled for an outgoing connection, the peer's ephemeral address for an
   * accepted one). The node turns these into probe hints for the failure detector.
   */
  onConnectionLost(observer: (remote: Address, outgoing: boolean) => void): () => void {
    this.lostObservers.add(observer);
    return () => this.lostObservers.delete(observer);
  }

  /** Resolves once a connection to `to` is open (dialled if needed); a rejection means no request to `to` could have left. */
  connect(to: Address): Promise<void> {
    return this.connection(to).then(() => undefined);
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
      const pending: Pending = { resolve, reject, cancelTimer, conn };
      this.pending.set(id, pending);
      this.stats.requestsOut++;
      const startedAt = this.callObservers.size > 0 ? this.runtime.clock.now() : 0;
      if (payload.byteLength > MAX_RPC_MESSAGE_BYTES) {
        this.pending.delete(id);
        cancelTimer();
        reject(new OversizeError(`the ${method} request is ${formatBytes(payload.byteLength)}, above the ${formatBytes(MAX_RPC_MESSAGE_BYTES)} an rpc message may carry; send less at once`));
        return;
      }
      const bytesOut = this.sendFrame(conn, { kind: 'request', id, method, payload });
      if (this.callObservers.size > 0) pending.timing = { to, method, bytesOut, startedAt };
    });
  }

  /**
   * One-way message; resolves once queued on the connection. Loss is possible (the peer may die).
   * On an established connection the frame is queued before this returns, so messages to one
   * peer keep the order of the calls.
   */
  notify(to: Address, method: string, payload: Uint8Array, opts?: { flush?: boolean }): Promise<void> {
    const ready = this.closed ? undefined : this.links.established(to);
    if (ready) {
      this.stats.notifiesOut++;
      this.sendBytes(ready, this.notifyFrame(method, payload));
      // `flush`: on the wire now, not with the rest of the tick's frames (a relay a client waits for).
      if (opts?.flush) ready.flush?.();
      return RESOLVED;
    }
    return this.connection(to).then((conn) => {
      this.stats.notifiesOut++;
      this.sendBytes(conn, this.notifyFrame(method, payload));
    });
  }

  /**
   * Gives up the outgoing connection to `to` (the node declared that member dead): calls waiting
   * on it fail now and the next call dials afresh. Across a partition a kept connection is not
   * broken (nothing answers, nothing resets it), and what was sent into it waits for TCP's
   * retransmission, whose backoff after tens of seconds of silence reached 10 s and more past
   * the heal (docs/performance.md "Heal after downing").
   */
  reset(to: Address): void {
    this.links.reset(to);
  }

  /** The encoded notify frame; the same payload sent to many peers in a row is encoded once. */
  private notifyFrame(method: string, payload: Uint8Array): Uint8Array {
    const last = this.lastNotify;
    if (last && last.payload === payload && last.method === method) return last.frame;
    const frame = encodeRpcFrame({ kind: 'notify', method, payload });
    this.lastNotify = { method, payload, frame };
    return frame;
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
    this.links.close(new NodeStoppedError('the node is stopping'));
  }

  /**
   * The member at `to` answered again (SWIM saw it alive): a connect to it still in progress began
   * while it was unreachable, and its SYN, dropped then, waits for TCP's retransmission (1 s, then
   * 3 s: past the connect timeout), holding everything queued on it. Dial once more beside it; the
   * first attempt to connect carries what waits, the other is closed. A heal then reaches the
   * other side at once (docs/performance.md "Heal after downing").
   */
  redial(to: Address): void {
    this.links.redial(to);
  }

  private connection(to: Address): Promise<StreamConnection> {
    if (this.closed) return Promise.reject(new NodeStoppedError('the node has stopped'));
    return this.links.connection(to);
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
      if (this.links.isDiscarded(conn)) return;
      if (outgoingTo !== undefined) this.links.lost(outgoingTo, conn);
      this.failPending(conn, new TransportError(`connection to ${conn.remote} closed`, { cause: err }));
      if (!this.closed) for (const observe of this.lostObservers) observe(outgoingTo ?? conn.remote, outgoingTo !== undefined);
    });
  }

  private failPending(conn: StreamConnection, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      p.cancelTimer();
      p.reject(err);
    }
  }

  private receive(conn: StreamConnection, bytes: Uint8Array, outgoing: boolean): void {
    this.stats.bytesIn += bytes.length;
    let frame: RpcFrame;
    let size = bytes.length;
    try {
      const f = decodeRpcFrame(bytes);
      if (f.kind === 'part') {
        let a = this.assemblers.get(conn);
        if (!a) this.assemblers.set(conn, (a = new PartAssembler()));
        const whole = a.push(f);
        if (!whole) return;
        size = whole.length;
        frame = decodeRpcFrame(whole, MAX_RPC_MESSAGE_BYTES, false) as RpcFrame;
        if (frame.kind === 'notify') throw new DecodeError('a notify sent in parts');
      } else frame = f;
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
        if (frame.kind === 'response') {
          if (p.timing) this.reportCall(p.timing, size);
          p.resolve(frame.payload);
        } else p.reject(rebuildRemoteError(frame.name, frame.message));
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
    const peer = peerKey(ctx.identity, ctx.remote);
    const busy = this.inFlight.get(peer) ?? 0;
    if (busy >= (this.opts.maxInFlightPerPeer ?? 256)) {
      this.stats.refused++;
      return this.replyError(conn, id, new TriError('too many requests in flight from this peer; retry later'));
    }
    this.inFlight.set(peer, busy + 1);
    const t0 = writeTrace && traceNow();
    if (writeTrace) writeTrace.add(`rpc.inFlight.${method}`, busy + 1);
    Promise.resolve()
      .then(() => h.fn(payload, ctx))
      .then(
        (result) => this.sendFrame(conn, { kind: 'response', id, payload: result }),
        (err: unknown) => this.replyError(conn, id, err instanceof Error ? err : new TriError(String(err))),
      )
      .finally(() => {
        if (t0 !== undefined) writeTrace?.since(`rpc.serve.${method}`, t0);
        const n = (this.inFlight.get(peer) ?? 1) - 1;
        if (n <= 0) this.inFlight.delete(peer);
        else this.inFlight.set(peer, n);
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

  private reportCall(t: NonNullable<Pending['timing']>, bytesIn: number): void {
    const timing: CallTiming = { to: t.to, method: t.method, bytesOut: t.bytesOut, bytesIn, elapsedMs: this.runtime.clock.now() - t.startedAt };
    for (const o of this.callObservers) {
      try {
        o(timing);
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'call observer failed');
      }
    }
  }

  /**
   * Sends one frame, in parts when it is above the stream's frame limit; returns its encoded
   * size. A reply too large even for parts becomes an OversizeError reply that says so (the
   * caller learns the real cause, not a dropped connection).
   */
  private sendFrame(conn: StreamConnection, frame: RpcFrame): number {
    const bytes = encodeRpcFrame(frame);
    if (bytes.byteLength <= MAX_FRAME_BYTES || frame.kind === 'notify' || frame.kind === 'error') return this.sendBytes(conn, bytes);
    if (bytes.byteLength > MAX_RPC_MESSAGE_BYTES && frame.kind === 'response') {
      return this.sendFrame(conn, { kind: 'error', id: frame.id, name: 'OversizeError', message: `the reply is ${formatBytes(bytes.byteLength)}, above the ${formatBytes(MAX_RPC_MESSAGE_BYTES)} an rpc message may carry; ask for less at once (a smaller --limit)` });
    }
    let sent = 0;
    for (const part of splitIntoParts(bytes, frame.kind, frame.id)) sent += this.sendBytes(conn, part);
    return sent;
  }

  private sendBytes(conn: StreamConnection, bytes: Uint8Array): number {
    this.stats.bytesOut += bytes.length;
    try {
      conn.send(bytes);
    } catch (err) {
      this.log.debug({ remote: conn.remote, err: (err as Error).message }, 'rpc send failed');
      conn.close();
    }
    return bytes.length;
  }
}

/** A peer for the in-flight limit: its identity (undefined in --insecure mode) at its host; the port varies per connection. */
function peerKey(identity: string | undefined, remote: Address): string {
  let host = remote;
  try {
    host = parseAddress(remote).host;
  } catch {
    // an address we cannot parse stays whole: at worst a per-connection limit for it
  }
  return `${identity ?? '-'}@${host}`;
}
