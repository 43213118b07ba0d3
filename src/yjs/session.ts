// One y-websocket client connection, sans-IO: frames and events in, effects out through a port.
// What the stock client needs of a server (see README "Yjs clients"):
// - its frames are queued until the document is loaded, then the node sends SyncStep1 (how a
//   reconnecting client's offline edits come back) and the awareness states it knows;
// - a SyncStep1 is answered with a SyncStep2 at any time;
// - a client's update (Update or SyncStep2) goes through the node's quorum write path and is
//   echoed to the client only once a majority stored it, so the echo means "replicated";
// - a refused update (schema, size) is refused whole: permission denied with the reason, then a
//   44xx close the stock client does not retry; a read-only node or token applies nothing and
//   tells the client once.
import { OversizeError } from '../errors.js';
import {
  decodeAwarenessUpdate,
  decodeClientFrame,
  encodeAwareness,
  encodeAwarenessUpdate,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  type AwarenessEntry,
} from './wire.js';

/** Close codes: 44xx are permanent (the stock client stops reconnecting), others transient. */
export const CLOSE = {
  protocol: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  tooLarge: 4413,
  schema: 4422,
  /** Too much unacknowledged or queued: transient, the client reconnects and resyncs. */
  overloaded: 1013,
  /** The node is stopping. */
  goingAway: 1001,
} as const;

export type WriteOutcome =
  | { kind: 'stored' }
  | { kind: 'refused'; code: number; reason: string }
  | { kind: 'no-quorum' }
  | { kind: 'timeout' }
  | { kind: 'failed'; reason: string };

export interface SessionPort {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  stateVector(): Uint8Array;
  /** The update a client with this state vector lacks; DecodeError when the vector does not decode. */
  diff(stateVector: Uint8Array): Uint8Array;
  /** Whether the update adds nothing to the document (a read-only client's resync need not be refused). */
  addsNothing(update: Uint8Array): boolean;
  /** Through the node's quorum write path. */
  write(update: Uint8Array): Promise<WriteOutcome>;
  /** Awareness entries the client sent (the hub relays them). */
  awareness(entries: AwarenessEntry[]): void;
  awarenessStates(): AwarenessEntry[];
  /**
   * Where the client protocol acknowledges each update explicitly (hocuspocus SyncStatus): called
   * once per client update, in order; true once a majority stored it (or it added nothing).
   * Without it a stored update is echoed (y-websocket).
   */
  status?(applied: boolean): void;
}

export interface SessionLimits {
  /** Largest update one frame may carry (the document size limit). */
  maxUpdateBytes: number;
  /** Frames held while the document loads. */
  maxQueuedFrames: number;
  /** Client updates waiting for their quorum at once. */
  maxInFlight: number;
}

export class YSession {
  private state: 'loading' | 'open' | 'closed' = 'loading';
  private queued: Uint8Array[] = [];
  private inFlight = 0;
  /** Told this connection its edits are not applied (once per episode, not per keystroke). */
  private toldNotApplied = false;
  /** An update of the client was not applied for want of quorum: ask for its state again later (retry()). */
  private unapplied = false;
  /** Client updates ride one chain, so echoes and refusals keep the order the client sent them in. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: SessionPort,
    private readonly readOnly: { token: boolean },
    private readonly limits: SessionLimits,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Loaded and not closed: frames delivered now reach the client. */
  get open(): boolean {
    return this.state === 'open';
  }

  /** The document is loaded: greet the client and handle what it sent meanwhile. */
  loaded(): void {
    if (this.state !== 'loading') return;
    this.state = 'open';
    this.port.send(encodeSyncStep1(this.port.stateVector()));
    const states = this.port.awarenessStates();
    if (states.length > 0) this.port.send(encodeAwareness(encodeAwarenessUpdate(states)));
    const queued = this.queued;
    this.queued = [];
    for (const f of queued) if (this.state === 'open') this.handle(f);
  }

  frame(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.state === 'loading') {
      if (this.queued.length >= this.limits.maxQueuedFrames) return this.close(CLOSE.overloaded, 'too many messages before the document loaded');
      this.queued.push(bytes);
      return;
    }
    this.handle(bytes);
  }

  deliverAwareness(entries: readonly AwarenessEntry[]): void {
    if (this.state === 'open' && entries.length > 0) this.port.send(encodeAwareness(encodeAwarenessUpdate(entries)));
  }

  /**
   * If an update of the client was not applied for want of quorum, sends SyncStep1 again: the
   * client answers with everything the node lacks, which goes through the write path anew (the
   * hub calls this periodically, so edits upload once the node is writable again).
   */
  retry(): void {
    if (this.state !== 'open' || !this.unapplied) return;
    this.unapplied = false;
    this.port.send(encodeSyncStep1(this.port.stateVector()));
  }

  /** A frame the hub composed (an update of another origin, encoded once for the room; a keepalive); only once open. */
  deliverRaw(frame: Uint8Array): void {
    if (this.state === 'open') this.port.send(frame);
  }

  /** Tells the client why (permission denied) and closes. */
  deny(code: number, reason: string): void {
    this.refuse(code, reason);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queued = [];
    this.port.close(code, closeReason(reason));
  }

  /** The socket closed on its own. */
  ended(): void {
    this.state = 'closed';
    this.queued = [];
  }

  private handle(bytes: Uint8Array): void {
    let msg;
    try {
      msg = decodeClientFrame(bytes, this.limits.maxUpdateBytes);
    } catch (err) {
      if (err instanceof OversizeError || /length out of range|longer than/.test((err as Error).message)) {
        return this.refuse(CLOSE.tooLarge, `message too large: ${(err as Error).message}`);
      }
      return this.refuse(CLOSE.protocol, `not a y-websocket message: ${(err as Error).message}`);
    }
    switch (msg.type) {
      case 'sync-step1': {
        let diff;
        try {
          diff = this.port.diff(msg.stateVector);
        } catch (err) {
          // Yjs throws plain errors on a malformed state vector; it came off the network either way.
          return this.refuse(CLOSE.protocol, `state vector does not decode: ${(err as Error).message}`);
        }
        this.port.send(encodeSyncStep2(diff));
        return;
      }
      case 'sync-step2':
      case 'update':
        return this.clientUpdate(msg.update);
      case 'awareness': {
        let entries;
        try {
          entries = decodeAwarenessUpdate(msg.update);
        } catch (err) {
          return this.refuse(CLOSE.protocol, `awareness update does not decode: ${(err as Error).message}`);
        }
        this.port.awareness(entries);
        return;
      }
      case 'query-awareness':
        this.deliverAwareness(this.port.awarenessStates());
        return;
      case 'auth':
        return;
    }
  }

  private clientUpdate(update: Uint8Array): void {
    if (update.byteLength <= 2) {
      // The empty update (a SyncStep2 with nothing new): nothing to store, acknowledged as is.
      this.acknowledge(true, update);
      return;
    }
    if (this.readOnly.token) {
      const nothing = this.port.addsNothing(update);
      if (!nothing) this.tellNotApplied('read-only token: your updates are not applied');
      this.acknowledge(nothing, update);
      return;
    }
    if (this.inFlight >= this.limits.maxInFlight) return this.close(CLOSE.overloaded, 'too many updates waiting for their quorum');
    this.inFlight++;
    const outcome = this.port.write(update);
    this.chain = this.chain.then(async () => {
      const r = await outcome;
      this.inFlight--;
      if (this.state !== 'open') return;
      switch (r.kind) {
        case 'stored':
          this.toldNotApplied = false;
          this.ackNow(true, update);
          return;
        case 'refused':
          this.ackNow(false, update);
          return this.refuse(r.code, r.reason);
        case 'no-quorum': {
          const nothing = this.port.addsNothing(update);
          if (!nothing) {
            this.unapplied = true;
            this.tellNotApplied('no quorum: this node is read-only, your update was not applied; it uploads once this node is writable again or when you reconnect to a writable node');
          }
          this.ackNow(nothing, update);
          return;
        }
        case 'timeout':
        case 'failed':
          // Applied here, not yet confirmed by a majority: not acknowledged (the client keeps it unconfirmed).
          this.ackNow(false, update);
          return;
      }
    });
  }

  /** Acknowledges in order, behind the updates still waiting for their quorum. */
  private acknowledge(applied: boolean, update: Uint8Array): void {
    if (this.inFlight === 0) return this.ackNow(applied, update);
    this.chain = this.chain.then(() => {
      if (this.state === 'open') this.ackNow(applied, update);
    });
  }

  /**
   * y-websocket: the echo of a stored update (the client's sync status clears once its content
   * comes back). Clients with an explicit status message (hocuspocus) get it for every update.
   */
  private ackNow(applied: boolean, update: Uint8Array): void {
    if (this.port.status) this.port.status(applied);
    // Only what went through the write path is echoed (not the empty update, not a read-only client's).
    else if (applied && update.byteLength > 2 && !this.readOnly.token) this.port.send(encodeUpdate(update));
  }

  private tellNotApplied(reason: string): void {
    if (this.toldNotApplied) return;
    this.toldNotApplied = true;
    this.port.send(encodePermissionDenied(reason));
  }

  private refuse(code: number, reason: string): void {
    if (this.state === 'closed') return;
    // Sent even while loading: the reason is all the client will learn (close reasons are cut at 123 bytes).
    this.port.send(encodePermissionDenied(reason));
    this.close(code, reason);
  }
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
