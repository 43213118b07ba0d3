// How sync messages travel between members: RPC notifications carrying a sync envelope (the
// sender's name and one message) or a batch of messages to one peer in one frame. Pushes of one
// turn's writes can wait for the end of the code running now and leave together, one frame per
// peer (Scheduler.soon), so a replica decodes, stores and acks them as one batch.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { DecodeError } from '../errors.js';
import type { Logger } from '../runtime/types.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import { decodeWith, readBoundedString, readBoundedUint } from '../codec.js';
import { encodeSyncEnvelope } from './sync-envelope.js';

/** Every sync message carries this name in its RPC frame, so it is kept short. */
export const SYNC_METHOD = METHODS.sync;
/** Messages to one peer that travel together: one RPC frame carries up to this many bytes of them. */
const BATCH_BYTES = 256 * 1024;
/** Most sync messages one frame may carry (receiving side bound). */
const MAX_BATCH_MESSAGES = 65_536;
const MAX_SENDER = 64;
const MAX_SYNC_MESSAGE = 2 * 1024 * 1024;

export interface SyncTransportOptions {
  self: string;
  rpc: RpcEndpoint;
  log: Logger;
  /** Current stream address of a member by name, or undefined if unknown/dead. */
  addressOf: (name: string) => string | undefined;
  /** Runs work once the code running now is done (group-commit.ts beforeCommit); none: pushes leave per write. */
  soon: ((fn: () => void) => void) | undefined;
  /** The messages of a frame that arrived, in order. */
  onFrame: (from: string, messages: Uint8Array[]) => void;
  /** Pushes staged elsewhere (SyncEngine.flushPushes), taken when this turn's pushes leave (requestFlush). */
  takeStaged?: () => Array<{ peer: string; bytes: Uint8Array }>;
}

export class SyncTransport {
  private pushQueue: Array<{ peer: string; bytes: Uint8Array }> = [];
  private pushFlushQueued = false;
  /** The last message wrapped in a sync envelope, and its envelope (one push, many peers). */
  private lastWrapped: Uint8Array | undefined;
  private lastEnvelope: Uint8Array | undefined;
  private stopped = false;

  constructor(private readonly o: SyncTransportOptions) {
    o.rpc.onNotify(SYNC_METHOD, 'member', (payload) => this.receive(payload));
  }

  /** Whether pushes can wait for the end of the code running now (queuePush). */
  get batchesPushes(): boolean {
    return this.o.soon !== undefined;
  }

  /** Sends one message to `peer` now (dropped when it has no address). */
  send(peer: string, bytes: Uint8Array): void {
    const to = this.o.addressOf(peer);
    if (to === undefined) return;
    // A push goes to every peer as the same bytes: wrap it once (the RPC layer then encodes its frame once too).
    if (bytes !== this.lastWrapped) {
      this.lastWrapped = bytes;
      this.lastEnvelope = encodeSyncEnvelope(this.o.self, bytes);
    }
    this.o.rpc.notify(to, SYNC_METHOD, this.lastEnvelope!).catch((err: Error) => this.o.log.debug({ peer, err: err.message }, 'sync send failed'));
  }

  /** Sends `messages`, one frame per peer (in order per peer). */
  sendBatched(messages: Array<{ peer: string; bytes: Uint8Array }>): void {
    const byPeer = new Map<string, Uint8Array[]>();
    for (const m of messages) {
      const list = byPeer.get(m.peer);
      if (list) list.push(m.bytes);
      else byPeer.set(m.peer, [m.bytes]);
    }
    let last: { list: Uint8Array[]; frames: Uint8Array[] } | undefined;
    for (const [peer, list] of byPeer) {
      if (list.length === 1) {
        this.send(peer, list[0]!);
        continue;
      }
      const to = this.o.addressOf(peer);
      if (to === undefined) continue;
      // The pushes of one write are the same messages for every peer: encode their frames once.
      if (!last || last.list.length !== list.length || last.list.some((m, i) => m !== list[i])) last = { list, frames: encodeSyncBatches(this.o.self, list) };
      for (const frame of last.frames) {
        this.o.rpc.notify(to, SYNC_METHOD, frame).catch((err: Error) => this.o.log.debug({ peer, err: err.message }, 'sync send failed'));
      }
    }
  }

  /** Queues a push to leave with the others of this turn (needs batchesPushes). */
  queuePush(peer: string, bytes: Uint8Array): void {
    this.pushQueue.push({ peer, bytes });
    if (this.pushFlushQueued) return;
    this.pushFlushQueued = true;
    this.o.soon!(() => this.flushPushes());
  }

  /** Makes this turn's pushes leave at the end of the code running now, staged ones included (needs batchesPushes). */
  requestFlush(): void {
    if (this.pushFlushQueued) return;
    this.pushFlushQueued = true;
    this.o.soon!(() => this.flushPushes());
  }

  /** Unsent pushes are dropped; frames that arrive later are ignored. */
  stop(): void {
    this.stopped = true;
    this.pushQueue = [];
  }

  /** The pushes of this turn's writes, one frame per peer (in push order per peer). */
  private flushPushes(): void {
    this.pushFlushQueued = false;
    const pushes = this.pushQueue;
    this.pushQueue = [];
    const staged = this.o.takeStaged?.() ?? [];
    if (!this.stopped) this.sendBatched(staged.length === 0 ? pushes : [...pushes, ...staged]);
  }

  /** One frame: the sender's name, then one or more sync messages. */
  private receive(payload: Uint8Array): void {
    if (this.stopped) return;
    let batch: { from: string; messages: Uint8Array[] };
    try {
      batch = decodeSyncBatch(payload);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'dropped a sync frame that does not decode');
      return;
    }
    this.o.onFrame(batch.from, batch.messages);
  }
}

/**
 * Several sync messages to one peer in one RPC frame: the sync envelope of the first (sender name
 * and message, byte for byte what a single message travels as) followed by the others, each
 * length-prefixed. Split so no frame carries much more than BATCH_BYTES.
 */
export function encodeSyncBatches(from: string, messages: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let e: encoding.Encoder | undefined;
  let size = 0;
  let count = 0;
  for (const m of messages) {
    if (e && (size + m.byteLength > BATCH_BYTES || count >= MAX_BATCH_MESSAGES)) {
      frames.push(encoding.toUint8Array(e));
      e = undefined;
    }
    if (!e) {
      e = encoding.createEncoder();
      encoding.writeVarString(e, from);
      size = 0;
      count = 0;
    }
    encoding.writeVarUint8Array(e, m);
    size += m.byteLength;
    count++;
  }
  if (e) frames.push(encoding.toUint8Array(e));
  return frames;
}

/**
 * The sender and the one or more messages of a sync frame (a plain sync envelope is a batch of
 * one). The messages are views into `payload`, as decodeSyncEnvelope's (the engine copies what it keeps).
 */
export function decodeSyncBatch(payload: Uint8Array): { from: string; messages: Uint8Array[] } {
  return decodeWith(payload, 'sync frame', (d) => {
    const from = readBoundedString(d, MAX_SENDER, 'sender');
    const messages = [readMessage(d)];
    while (decoding.hasContent(d)) {
      if (messages.length >= MAX_BATCH_MESSAGES) throw new DecodeError(`a sync frame carries more than ${MAX_BATCH_MESSAGES} messages`);
      messages.push(readMessage(d));
    }
    return { from, messages };
  });
}

function readMessage(d: decoding.Decoder): Uint8Array {
  const n = readBoundedUint(d, MAX_SYNC_MESSAGE, 'sync message length');
  if (d.pos + n > d.arr.length) throw new DecodeError('sync message truncated');
  return decoding.readUint8Array(d, n);
}
