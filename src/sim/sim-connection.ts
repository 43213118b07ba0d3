// Simulated stream connections: TCP-like pairs of ends over the simulated network. Frames in
// one direction form a FIFO; a "pump" event delivers the head when its arrival time comes. A pause or a
// partition stalls the pump (frames wait, as in TCP's send buffer); resuming or healing rebases
// the waiting frames' arrival times and restarts it, so order is never broken. A cut that lasts
// longer than the break timeout fails the connection on both ends with TransportError, as TCP's
// retransmission timeout would.

import { OversizeError, TransportError } from '../errors.js';
import { MAX_FRAME_BYTES, type Address, type StreamConnection } from '../transport/types.js';
import type { Cancel } from '../runtime/types.js';
import type { SimHost } from './host.js';
import type { SimWorld } from './world.js';

/** What streams need from the network (kept narrow to avoid an import cycle). */
export interface StreamFabric {
  readonly world: SimWorld;
  readonly connectTimeoutMs: number;
  readonly streamBreakTimeoutMs: number;
  hostOf(address: Address): { host: SimHost; port: number } | undefined;
  /** One-way delay for the next frame (of `bytes` on the wire) or control message on a link. */
  delay(from: SimHost, to: SimHost, bytes?: number): number;
  /** True when nothing (pause, partition, crash) stops traffic from `from` to `to` right now. */
  canFlow(from: SimHost, to: SimHost): boolean;
  /** True when the two hosts are up and on the same side of any partition (pauses aside). */
  connected(a: SimHost, b: SimHost): boolean;
  /** True when a partition separates the two hosts (whether or not they are up). */
  partitioned(a: SimHost, b: SimHost): boolean;
  /** Carries a lossless control message (SYN, SYN-ACK, RST); dropped if the link is cut. */
  carry(from: SimHost, to: SimHost, arrive: () => void): void;
  trackPair(pair: StreamPair, open: boolean): void;
}

type Item = { kind: 'frame'; data: Uint8Array } | { kind: 'fin' };

/** One direction of a connection: a FIFO of frames not yet delivered. */
class Direction {
  private readonly queue: Array<{ item: Item; readyAt: number }> = [];
  private lastReadyAt = 0;
  private pumpCancel: Cancel | undefined;

  constructor(
    private readonly pair: StreamPair,
    private readonly from: SimConnection,
    private readonly to: SimConnection,
  ) {}

  push(item: Item): void {
    const fabric = this.pair.fabric;
    const bytes = item.kind === 'frame' ? item.data.byteLength + 4 : 0; // + the 4-byte length prefix
    const readyAt = Math.max(fabric.world.now() + fabric.delay(this.from.host, this.to.host, bytes), this.lastReadyAt);
    this.lastReadyAt = readyAt;
    this.queue.push({ item, readyAt });
    this.arm();
  }

  /** Called when the link may have come back: frames that waited leave now, with fresh latency. */
  restart(): void {
    const fabric = this.pair.fabric;
    if (this.queue.length === 0 || !fabric.canFlow(this.from.host, this.to.host)) return;
    const earliest = fabric.world.now() + fabric.delay(this.from.host, this.to.host);
    for (const entry of this.queue) if (entry.readyAt < earliest) entry.readyAt = earliest;
    if (this.lastReadyAt < earliest) this.lastReadyAt = earliest;
    this.stop();
    this.arm();
  }

  stop(): void {
    this.pumpCancel?.();
    this.pumpCancel = undefined;
  }

  clear(): void {
    this.stop();
    this.queue.length = 0;
  }

  private arm(): void {
    if (this.pumpCancel !== undefined || this.queue.length === 0) return;
    if (!this.pair.fabric.canFlow(this.from.host, this.to.host)) {
      this.pair.watchForBreak();
      return;
    }
    this.pumpCancel = this.pair.fabric.world.at(this.queue[0]!.readyAt, this.pump);
  }

  private readonly pump = (): void => {
    this.pumpCancel = undefined;
    const fabric = this.pair.fabric;
    if (!fabric.canFlow(this.from.host, this.to.host)) {
      this.pair.watchForBreak();
      return;
    }
    const now = fabric.world.now();
    // Bounded by the queue length; delivery may close the connection, which clears the queue.
    while (this.queue.length > 0 && this.queue[0]!.readyAt <= now) {
      const { item } = this.queue.shift()!;
      this.to.arrive(item);
    }
    this.arm();
  };
}

/** Both ends of one connection, and the timer that breaks it when its link stays cut. */
export class StreamPair {
  readonly client: SimConnection;
  readonly server: SimConnection;
  private readonly up: Direction;
  private readonly down: Direction;
  private breakTimer: Cancel | undefined;

  constructor(
    readonly fabric: StreamFabric,
    clientHost: SimHost,
    clientAddress: Address,
    serverHost: SimHost,
    serverAddress: Address,
  ) {
    this.client = new SimConnection(this, clientHost, serverAddress);
    this.server = new SimConnection(this, serverHost, clientAddress);
    this.up = new Direction(this, this.client, this.server);
    this.down = new Direction(this, this.server, this.client);
    fabric.trackPair(this, true);
  }

  transmit(from: SimConnection, item: Item): void {
    (from === this.client ? this.up : this.down).push(item);
  }

  /** Re-evaluates the pair after a partition, heal, pause or resume. */
  linkChanged(): void {
    if (this.fabric.connected(this.client.host, this.server.host)) {
      this.breakTimer?.();
      this.breakTimer = undefined;
      this.up.restart();
      this.down.restart();
    } else {
      this.watchForBreak();
    }
  }

  /** Arms the break timer if the hosts are cut apart (not merely paused). */
  watchForBreak(): void {
    if (this.breakTimer !== undefined || this.fabric.connected(this.client.host, this.server.host)) return;
    const timeout = this.fabric.streamBreakTimeoutMs;
    this.breakTimer = this.fabric.world.schedule(timeout, () => {
      this.breakTimer = undefined;
      if (this.fabric.connected(this.client.host, this.server.host)) return;
      this.fail(new TransportError(`stream between ${this.server.remote} and ${this.client.remote} broke: peer unreachable for ${timeout} ms (partition or crash); reconnect when it is back`));
    });
  }

  /** Closes both ends with `err` (each end reports it once). */
  fail(err: Error): void {
    this.client.finish(err);
    this.server.finish(err);
  }

  /** A host crashed: its end vanishes silently, the other end sees a reset. */
  crashEnd(end: SimConnection): void {
    end.vanish();
    const other = end === this.client ? this.server : this.client;
    this.up.clear();
    this.down.clear();
    if (!other.open) return this.settled();
    const reset = new TransportError(`connection to ${other.remote} reset: the peer crashed`);
    // The crashed process's OS answers with a reset, if a partition does not swallow it.
    if (!this.fabric.partitioned(end.host, other.host)) {
      this.fabric.world.schedule(this.fabric.delay(end.host, other.host), () => other.finish(reset));
    } else {
      this.watchForBreak();
    }
  }

  /**
   * A frame reached an end whose process crashed. If the crash happened behind a partition, the
   * other end never got its reset; the host (now back, or the frame could not have arrived)
   * answers the stray frame with one, as a real OS answers a segment for an unknown connection.
   */
  bounce(end: SimConnection): void {
    const other = end === this.client ? this.server : this.client;
    if (!other.open) return;
    const reset = new TransportError(`connection to ${other.remote} reset: the peer crashed and lost the connection`);
    this.fabric.world.schedule(this.fabric.delay(end.host, other.host), () => other.finish(reset));
  }

  /** Stops tracking once neither end is open. */
  settled(): void {
    if (this.client.open || this.server.open) return;
    this.breakTimer?.();
    this.breakTimer = undefined;
    this.up.clear();
    this.down.clear();
    this.fabric.trackPair(this, false);
  }
}

export class SimConnection implements StreamConnection {
  open = true;
  /** Set when this end's host crashed (the end is gone, not closed). */
  vanished = false;
  readonly generation: number;
  private frameHandler: ((frame: Uint8Array) => void) | undefined;
  private closeHandler: ((err?: Error) => void) | undefined;
  /** Frames that arrived before onFrame was called. */
  private early: Uint8Array[] = [];
  /** Set when closed; reported to the close handler exactly once. */
  private closeReason: { err: Error | undefined } | undefined;
  private closeReported = false;
  /** The owning transport's bookkeeping, told when this end closes (not the user's handler). */
  release: (() => void) | undefined;

  constructor(
    private readonly pair: StreamPair,
    readonly host: SimHost,
    readonly remote: Address,
  ) {
    this.generation = host.generation;
  }

  send(frame: Uint8Array): void {
    if (frame.byteLength > MAX_FRAME_BYTES) {
      throw new OversizeError(`frame of ${frame.byteLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit: chunk the payload`);
    }
    if (!this.open) throw new TransportError(`cannot send to ${this.remote}: the connection is closed; open a new one`);
    this.host.stats.framesSent++;
    this.host.stats.streamBytesSent += frame.byteLength + 4;
    this.pair.transmit(this, { kind: 'frame', data: frame.slice() });
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    if (this.early.length > 0) this.pair.fabric.world.schedule(0, () => this.flushEarly());
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler;
    if (this.closeReason !== undefined) this.pair.fabric.world.schedule(0, () => this.reportClose());
  }

  close(): void {
    if (!this.open) return;
    this.pair.transmit(this, { kind: 'fin' });
    this.finish(undefined);
  }

  /** An item from the peer reached this end. */
  arrive(item: Item): void {
    if (!this.open) {
      if (this.vanished) this.pair.bounce(this);
      return;
    }
    if (item.kind === 'fin') return this.finish(undefined);
    this.host.stats.framesReceived++;
    this.host.stats.streamBytesReceived += item.data.byteLength + 4;
    if (this.frameHandler === undefined || this.early.length > 0) this.early.push(item.data);
    else this.frameHandler(item.data);
  }

  /** Marks this end closed and reports it (asynchronously, like a socket's close event). */
  finish(err: Error | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.closeReason = { err };
    this.release?.();
    this.pair.fabric.world.schedule(0, () => this.reportClose());
    this.pair.settled();
  }

  /** The host crashed: no handler of a dead process may run again. */
  vanish(): void {
    this.open = false;
    this.vanished = true;
    this.release?.();
    this.closeReported = true;
    this.frameHandler = undefined;
    this.closeHandler = undefined;
    this.early = [];
  }

  private flushEarly(): void {
    // Bounded by the frames buffered; a handler that closes the connection stops it.
    while (this.early.length > 0 && this.frameHandler !== undefined && this.host.generation === this.generation) {
      this.frameHandler(this.early.shift()!);
    }
  }

  private reportClose(): void {
    if (this.closeReported || this.closeHandler === undefined || this.closeReason === undefined) return;
    if (this.early.length > 0 && this.frameHandler !== undefined) this.flushEarly();
    this.closeReported = true;
    this.closeHandler(this.closeReason.err);
  }
}
