// The RPC endpoint's outgoing connections: one per peer address, dialled on first use and reused,
// with reset() (give one up when its member was declared dead) and redial() (a second attempt
// beside a connect that began while the peer was unreachable). The endpoint attaches each
// connection (frames, pending calls); this file only decides which connection an address uses.
import { TransportError } from '../errors.js';
import type { Address, StreamConnection, StreamTransport } from '../transport/types.js';

/** An outgoing connect in progress: one or more dial attempts, the first to connect carries what waits. */
interface Dial {
  done: boolean;
  /** Attempts still connecting. */
  live: number;
  resolve: (c: StreamConnection) => void;
  reject: (e: Error) => void;
}

export interface OutgoingHooks {
  /** A dial connected: the endpoint starts reading it (and closes it when the endpoint is closed). */
  attach(conn: StreamConnection, to: Address): void;
  /** reset() gave up an established connection: calls waiting on it fail with `err`. */
  failPending(conn: StreamConnection, err: Error): void;
}

export class OutgoingConnections {
  private readonly outgoing = new Map<Address, Promise<StreamConnection>>();
  /** Outgoing connects still in progress, by address (redial() adds an attempt to one). */
  private readonly dialing = new Map<Address, Dial>();
  /** Outgoing connections already established: sends on them skip the promise (and its microtask). */
  private readonly ready = new Map<Address, StreamConnection>();
  /** Outgoing connections reset() gave up on: their late close must not touch a newer connection's entry. */
  private readonly discarded = new WeakSet<StreamConnection>();
  private closed = false;

  constructor(
    private readonly streams: StreamTransport,
    private readonly connectTimeoutMs: number,
    private readonly hooks: OutgoingHooks,
  ) {}

  /** The established connection to `to`, if there is one now. */
  established(to: Address): StreamConnection | undefined {
    return this.ready.get(to);
  }

  /** The connection to `to`: the kept one, or a new dial. The caller checks that the endpoint is open. */
  connection(to: Address): Promise<StreamConnection> {
    let conn = this.outgoing.get(to);
    if (!conn) {
      let dial!: Dial;
      const made = new Promise<StreamConnection>((resolve, reject) => (dial = { done: false, live: 0, resolve, reject }));
      conn = made;
      // A failed connect is forgotten at once so the next call retries.
      made.catch(() => {
        if (this.outgoing.get(to) === made) this.outgoing.delete(to);
      });
      this.outgoing.set(to, made);
      this.dialing.set(to, dial);
      this.dial(to, dial);
    }
    return conn;
  }

  /** See RpcEndpoint.reset. */
  reset(to: Address): void {
    const conn = this.outgoing.get(to);
    if (!conn) return;
    this.outgoing.delete(to);
    this.ready.delete(to);
    const dial = this.dialing.get(to);
    if (dial) {
      // Still connecting: what waits fails now; an attempt that connects later is closed.
      this.dialing.delete(to);
      dial.done = true;
      dial.reject(new TransportError(`connection to ${to} given up: the member was declared dead`));
      return;
    }
    void conn.then(
      (c) => {
        this.discarded.add(c);
        this.hooks.failPending(c, new TransportError(`connection to ${to} given up: the member was declared dead`));
        c.close();
      },
      () => undefined,
    );
  }

  /** See RpcEndpoint.redial. */
  redial(to: Address): void {
    const dial = this.dialing.get(to);
    if (dial && !dial.done && dial.live < 2) this.dial(to, dial);
  }

  /** Whether reset() gave `conn` up (its close then concerns nothing kept here). */
  isDiscarded(conn: StreamConnection): boolean {
    return this.discarded.has(conn);
  }

  /** The outgoing connection `conn` to `to` closed: the next use dials afresh. */
  lost(to: Address, conn: StreamConnection): void {
    this.outgoing.delete(to);
    if (this.ready.get(to) === conn) this.ready.delete(to);
  }

  /** Forgets every connection and fails every connect in progress with `err` (the endpoint closes the connections). */
  close(err: Error): void {
    this.closed = true;
    this.outgoing.clear();
    this.ready.clear();
    for (const d of this.dialing.values()) {
      d.done = true;
      d.reject(err);
    }
    this.dialing.clear();
  }

  private dial(to: Address, d: Dial): void {
    d.live++;
    this.streams.connect(to, this.connectTimeoutMs).then(
      (c) => {
        d.live--;
        if (d.done) return c.close(); // another attempt won, or reset() gave the connect up
        d.done = true;
        if (this.dialing.get(to) === d) this.dialing.delete(to);
        this.hooks.attach(c, to);
        if (!this.closed) this.ready.set(to, c);
        d.resolve(c);
      },
      (err: Error) => {
        d.live--;
        if (d.done || d.live > 0) return; // another attempt may still connect
        d.done = true;
        if (this.dialing.get(to) === d) this.dialing.delete(to);
        d.reject(err);
      },
    );
  }
}
