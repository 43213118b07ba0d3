// How the Yjs hub writes a room's changes to its local clients. The first change of an event-loop
// turn is written to them at once (past the per-tick socket cork), so a single edit waits for
// nothing; the changes that follow in the same turn (many clients' frames or relay messages read
// in one poll) are queued and written together when the turn's I/O is done (`immediate`), one
// socket write per client for all of them. Once a room has something queued, everything later
// queues behind it, so each client gets the room's changes in the order they were made.

/** A local client as the delivery sees it. */
export interface Recipient {
  /** Sends the frame if the client is open (corked until the tick's end). */
  deliver(frame: Uint8Array): void;
  /** Writes what is corked now. */
  flush(): void;
}

/** A change waiting for the turn's end; `skip`: the members that must not get it (its writer, or those a relay reached). */
interface Queued<M> {
  frame: Uint8Array;
  skip: ReadonlySet<M> | M | undefined;
}

export interface DeliveryRoom<M extends Recipient> {
  members: Set<M>;
  /** Changes waiting for the turn's end (TurnDelivery); undefined when none. */
  queued?: Array<Queued<M>>;
}

const skips = <M>(skip: ReadonlySet<M> | M | undefined, m: M): boolean => skip !== undefined && (skip instanceof Set ? skip.has(m) : skip === m);

export class TurnDelivery<M extends Recipient> {
  private waiting: Array<DeliveryRoom<M>> = [];
  /** A turn's end is scheduled: something was written or queued in this turn. */
  private armed = false;

  /** `immediate`: runs a function once the turn's I/O callbacks are done; without it every change is written at once. */
  constructor(private readonly immediate: ((fn: () => void) => void) | undefined) {}

  /** Whether something was already written or queued in this turn (a change now would wait for the turn's end). */
  get busy(): boolean {
    return this.armed;
  }

  /**
   * The turn's first change (nothing queued in the room, nothing written this turn) to every member
   * but `skip` now, flushed; otherwise queued for the turn's end. `defer`: queue even a first
   * change (rooms whose local clients should come after this turn's pushes).
   */
  send(r: DeliveryRoom<M>, frame: Uint8Array, skip: ReadonlySet<M> | M | undefined, opts: { flush: boolean; defer?: boolean }): void {
    if (this.immediate && (r.queued || opts.defer || (opts.flush && this.armed))) return this.queue(r, frame, skip);
    for (const m of r.members) {
      if (skips(skip, m)) continue;
      m.deliver(frame);
      if (opts.flush) m.flush();
    }
    // Written at once and flushed: the rest of this turn's changes go together at its end.
    if (opts.flush) this.arm();
  }

  /** Flushes the members of rooms sent to with `flush: false` now (one write per client for several frames); the turn's later changes then wait for its end. */
  flush(rooms: Iterable<DeliveryRoom<M>>): void {
    for (const r of rooms) for (const m of r.members) m.flush();
    this.arm();
  }

  private queue(r: DeliveryRoom<M>, frame: Uint8Array, skip: ReadonlySet<M> | M | undefined): void {
    if (r.queued) r.queued.push({ frame, skip });
    else {
      r.queued = [{ frame, skip }];
      this.waiting.push(r);
    }
    this.arm();
  }

  private arm(): void {
    if (this.armed || !this.immediate) return;
    this.armed = true;
    this.immediate(() => {
      this.armed = false;
      const rooms = this.waiting;
      this.waiting = [];
      for (const r of rooms) {
        const queued = r.queued ?? [];
        r.queued = undefined;
        for (const { frame, skip } of queued) for (const m of r.members) if (!skips(skip, m)) m.deliver(frame);
      }
    });
  }
}
