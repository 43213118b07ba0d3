// RPC requests and replies larger than one stream frame (a 4 MB note, a page holding one huge
// episode) travel as numbered parts: each part is its own frame (kind 5), and the receiver puts
// the whole frame back together before handling it. Reassembly is bounded per connection, so a
// peer that starts many large messages and never finishes them cannot make us buffer without limit.
import * as encoding from 'lib0/encoding';
import { OversizeError } from '../errors.js';
import { MAX_FRAME_BYTES } from '../transport/types.js';
import { MAX_RPC_MESSAGE_BYTES } from '../limits.js';

/** Frame kind of a part (kinds 1-4 are in frames.ts). */
export const PART_KIND = 5;
/** Which side's id a part's `id` is: the sender's request, or a reply to the receiver's request. */
export type PartDir = 'request' | 'response';
const DIR_CODE: Record<PartDir, number> = { request: 1, response: 2 };
export const DIR_OF: Record<number, PartDir | undefined> = { 1: 'request', 2: 'response' };

/** Bytes a part adds around its slice: kind, dir, id, last flag and the slice length. */
const PART_OVERHEAD = 32;
/** Unfinished messages one connection may have at once. */
const MAX_OPEN_PER_CONNECTION = 4;

export interface PartFrame {
  kind: 'part';
  dir: PartDir;
  id: number;
  last: boolean;
  bytes: Uint8Array;
}

/** The encoded frame `whole` cut into part frames of at most `maxFrame` bytes each. */
export function splitIntoParts(whole: Uint8Array, dir: PartDir, id: number, maxFrame = MAX_FRAME_BYTES): Uint8Array[] {
  const size = maxFrame - PART_OVERHEAD;
  const out: Uint8Array[] = [];
  for (let at = 0; at < whole.byteLength; at += size) {
    const e = encoding.createEncoder();
    encoding.writeUint8(e, PART_KIND);
    encoding.writeUint8(e, DIR_CODE[dir]);
    encoding.writeVarUint(e, id);
    encoding.writeUint8(e, at + size >= whole.byteLength ? 1 : 0);
    encoding.writeVarUint8Array(e, whole.subarray(at, Math.min(whole.byteLength, at + size)));
    out.push(encoding.toUint8Array(e));
  }
  return out;
}

/** Puts parts back together, per connection. */
export class PartAssembler {
  private readonly open = new Map<string, { chunks: Uint8Array[]; bytes: number }>();

  constructor(private readonly maxMessageBytes = MAX_RPC_MESSAGE_BYTES) {}

  /**
   * Adds one part; returns the whole frame once its last part arrived. Throws OversizeError when
   * the message grows beyond the limit or too many are open (the caller closes the connection).
   */
  push(p: PartFrame): Uint8Array | undefined {
    const key = `${p.dir}:${p.id}`;
    let a = this.open.get(key);
    if (!a) {
      if (this.open.size >= MAX_OPEN_PER_CONNECTION) throw new OversizeError(`more than ${MAX_OPEN_PER_CONNECTION} large rpc messages unfinished on one connection`);
      this.open.set(key, (a = { chunks: [], bytes: 0 }));
    }
    a.bytes += p.bytes.byteLength;
    if (a.bytes > this.maxMessageBytes) {
      this.open.delete(key);
      throw new OversizeError(`rpc message above the ${this.maxMessageBytes}-byte limit`);
    }
    a.chunks.push(p.bytes);
    if (!p.last) return undefined;
    this.open.delete(key);
    const whole = new Uint8Array(a.bytes);
    let at = 0;
    for (const c of a.chunks) {
      whole.set(c, at);
      at += c.byteLength;
    }
    return whole;
  }
}
