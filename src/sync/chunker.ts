// Messages above the frame limit travel as numbered chunks and are put back together on the other
// side. Reassembly memory is bounded per peer (a peer cannot make us buffer without limit by
// starting many large messages and never finishing them) and stale assemblies expire.
import { OversizeError } from '../errors.js';
import { encodeMessage } from './messages.js';
import type { PeerId } from './types.js';

/** Bytes a chunk adds around its payload: kind + three varuints + payload length, generously. */
export const CHUNK_OVERHEAD = 32;

/** Splits an encoded message into encoded chunk messages, each at most `maxBytes` long. */
export function splitMessage(bytes: Uint8Array, messageId: number, maxBytes: number): Uint8Array[] {
  const size = maxBytes - CHUNK_OVERHEAD;
  const count = Math.ceil(bytes.byteLength / size);
  const out: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const payload = bytes.subarray(index * size, Math.min(bytes.byteLength, (index + 1) * size));
    out.push(encodeMessage({ kind: 'chunk', messageId, index, count, payload }));
  }
  return out;
}

export interface ReassemblyLimits {
  /** Largest reassembled message accepted. */
  maxMessageBytes: number;
  /** Bytes buffered at once for one peer across its unfinished messages. */
  maxBufferedBytesPerPeer: number;
  /** An unfinished message older than this is dropped. */
  timeoutMs: number;
}

interface Assembly {
  count: number;
  parts: Array<Uint8Array | undefined>;
  received: number;
  bytes: number;
  startedAt: number;
}

export class Reassembler {
  private readonly byPeer = new Map<PeerId, Map<number, Assembly>>();

  constructor(private readonly limits: ReassemblyLimits) {}

  /**
   * Adds a chunk; returns the whole message once its last chunk arrived. Duplicated and
   * reordered chunks are fine. Throws OversizeError (a DecodeError) when a limit is crossed;
   * that message's assembly is dropped.
   */
  add(peer: PeerId, c: { messageId: number; index: number; count: number; payload: Uint8Array }, now: number): Uint8Array | undefined {
    let perPeer = this.byPeer.get(peer);
    if (!perPeer) this.byPeer.set(peer, (perPeer = new Map()));
    let a = perPeer.get(c.messageId);
    if (a && a.count !== c.count) {
      // The sender restarted and reused the id: the old assembly can never complete.
      perPeer.delete(c.messageId);
      a = undefined;
    }
    if (!a) {
      // Every chunk carries at least one byte, so a count above the byte limit can never fit.
      if (c.count > this.limits.maxMessageBytes) throw new OversizeError(`chunked message of ${c.count} chunks from ${peer} exceeds the limit; dropped`);
      a = { count: c.count, parts: new Array(c.count), received: 0, bytes: 0, startedAt: now };
      perPeer.set(c.messageId, a);
    }
    if (a.parts[c.index]) return undefined; // duplicate
    const buffered = [...perPeer.values()].reduce((n, x) => n + x.bytes, 0);
    if (a.bytes + c.payload.byteLength > this.limits.maxMessageBytes || buffered + c.payload.byteLength > this.limits.maxBufferedBytesPerPeer) {
      perPeer.delete(c.messageId);
      throw new OversizeError(
        `chunked message ${c.messageId} from ${peer} exceeds the reassembly limit ` +
          `(${this.limits.maxMessageBytes} bytes per message, ${this.limits.maxBufferedBytesPerPeer} per peer); dropped`,
      );
    }
    a.parts[c.index] = c.payload;
    a.received++;
    a.bytes += c.payload.byteLength;
    if (a.received < a.count) return undefined;
    perPeer.delete(c.messageId);
    const whole = new Uint8Array(a.bytes);
    let off = 0;
    for (const p of a.parts) {
      whole.set(p!, off);
      off += p!.byteLength;
    }
    return whole;
  }

  /** Drops assemblies older than the timeout. */
  expire(now: number): void {
    for (const [peer, perPeer] of this.byPeer) {
      for (const [id, a] of perPeer) if (now - a.startedAt >= this.limits.timeoutMs) perPeer.delete(id);
      if (perPeer.size === 0) this.byPeer.delete(peer);
    }
  }

  /** Earliest time an assembly expires, if any is open. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const perPeer of this.byPeer.values()) {
      for (const a of perPeer.values()) min = Math.min(min ?? Infinity, a.startedAt + this.limits.timeoutMs);
    }
    return min;
  }

  forgetPeer(peer: PeerId): void {
    this.byPeer.delete(peer);
  }
}
