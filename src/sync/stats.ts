// Byte accounting per message kind and direction, for `tri cluster-bench` and /metrics.
// Chunked messages count under the kind they carry, with their chunk framing included, so
// "bytes of doc-deltas" is what those deltas really cost on the wire.
import type { MessageKind } from './messages.js';

export interface KindCounter {
  messages: number;
  bytes: number;
}

export interface SyncStats {
  sent: Partial<Record<MessageKind, KindCounter>>;
  received: Partial<Record<MessageKind, KindCounter>>;
  sentBytes: number;
  receivedBytes: number;
}

export class StatsCounter {
  private readonly s: SyncStats = { sent: {}, received: {}, sentBytes: 0, receivedBytes: 0 };

  sent(kind: MessageKind, bytes: number, messages = 1): void {
    add(this.s.sent, kind, bytes, messages);
    this.s.sentBytes += bytes;
  }

  received(kind: MessageKind, bytes: number, messages = 1): void {
    add(this.s.received, kind, bytes, messages);
    this.s.receivedBytes += bytes;
  }

  /** A deep copy, so callers can diff two snapshots. */
  snapshot(): SyncStats {
    return structuredClone(this.s);
  }
}

function add(m: Partial<Record<MessageKind, KindCounter>>, kind: MessageKind, bytes: number, messages: number): void {
  const c = (m[kind] ??= { messages: 0, bytes: 0 });
  c.messages += messages;
  c.bytes += bytes;
}
