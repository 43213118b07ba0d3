// Turning messages into `send` effects: encoding, packing many per-document entries into few
// messages, chunking what is still above the frame limit, and counting bytes per kind.
import { batchBySize } from './batch.js';
import { splitMessage } from './chunker.js';
import type { NameWriter } from './doc-names.js';
import { encodeMessage, type MessageKind, type SyncMessage } from './messages.js';
import type { StatsCounter } from './stats.js';
import type { PeerId, SyncEffect } from './types.js';

/** Room left in a batch for the message header around its entries. */
const HEADER_ROOM = 64;

export class Outbox {
  private nextMessageId = 1;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly counters: StatsCounter,
    /** How document ids are written to a peer (numbers it knows); plain ids without it. */
    private readonly names?: (peer: PeerId) => NameWriter,
  ) {}

  send(out: SyncEffect[], peer: PeerId, m: SyncMessage): void {
    // Only messages that name documents need the (per-peer) writer.
    const named = m.kind === 'ae-docs' || m.kind === 'doc-states' || m.kind === 'doc-deltas' || m.kind === 'update';
    this.sendEncoded(out, peer, m.kind, encodeMessage(m, named ? this.names?.(peer) : undefined));
  }

  /** Sends `entries` in as few messages as fit the frame limit (an entry `alone` says so of in its own); `wrap` builds each message. */
  sendBatched<T>(out: SyncEffect[], peer: PeerId, entries: T[], sizeOf: (e: T) => number, wrap: (batch: T[]) => SyncMessage, alone?: (e: T) => boolean): void {
    for (const batch of batchBySize(entries, sizeOf, this.maxMessageBytes - HEADER_ROOM, alone)) this.send(out, peer, wrap(batch));
  }

  /** Emits already-encoded bytes (one encoding shared by many peers), chunked above the limit. */
  sendEncoded(out: SyncEffect[], peer: PeerId, kind: MessageKind, bytes: Uint8Array): void {
    if (bytes.byteLength <= this.maxMessageBytes) {
      out.push({ type: 'send', peer, bytes });
      this.counters.sent(kind, bytes.byteLength);
      return;
    }
    const chunks = splitMessage(bytes, this.nextMessageId++, this.maxMessageBytes);
    for (const c of chunks) out.push({ type: 'send', peer, bytes: c });
    this.counters.sent(kind, chunks.reduce((n, c) => n + c.byteLength, 0));
  }
}
