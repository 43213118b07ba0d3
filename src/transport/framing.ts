// Length-prefixed framing for stream transports: each frame is a 4-byte big-endian length
// followed by that many bytes. The decoder is fed whatever chunks the socket delivers (a chunk
// may hold half a header, several frames, or a sliver of a 1 MiB frame) and never throws
// anything but DecodeError/OversizeError. A frame body is copied into a buffer allocated once
// from its header, so decoding is linear in the bytes received whatever the chunking.

import { DecodeError, OversizeError } from '../errors.js';
import { MAX_FRAME_BYTES } from './types.js';

export const FRAME_HEADER_BYTES = 4;

/** Header + payload in one buffer, ready for a single socket write. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array {
  if (payload.byteLength > maxFrameBytes) {
    throw new OversizeError(`frame of ${payload.byteLength} bytes exceeds the ${maxFrameBytes}-byte limit: chunk the payload`);
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  new DataView(out.buffer).setUint32(0, payload.byteLength, false);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder. `push` returns the frames completed by a chunk; after an error it stays
 * failed (the connection must be closed: its byte stream is no longer trustworthy).
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** The frame being filled, once its header is complete. */
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private failure: DecodeError | undefined;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes held for an incomplete frame (header or body). */
  get buffered(): number {
    return this.body !== undefined ? FRAME_HEADER_BYTES + this.bodyFill : this.headerFill;
  }

  /** Feeds one chunk; returns completed frames in order. Throws DecodeError/OversizeError. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure) throw this.failure;
    const frames: Uint8Array[] = [];
    let offset = 0;
    // Every iteration consumes at least one byte, so the loop ends with the chunk.
    while (offset < chunk.byteLength) {
      if (this.body === undefined) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.byteLength - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        this.headerFill = 0;
        const length = ((this.header[0]! << 24) | (this.header[1]! << 16) | (this.header[2]! << 8) | this.header[3]!) >>> 0;
        if (length > this.maxFrameBytes) {
          this.failure = new OversizeError(
            `peer announced a frame of ${length} bytes, above the ${this.maxFrameBytes}-byte limit: closing the connection (peer is broken or hostile)`,
          );
          throw this.failure;
        }
        this.body = new Uint8Array(length);
        this.bodyFill = 0;
      } else {
        const take = Math.min(this.body.byteLength - this.bodyFill, chunk.byteLength - offset);
        this.body.set(chunk.subarray(offset, offset + take), this.bodyFill);
        this.bodyFill += take;
        offset += take;
      }
      if (this.body !== undefined && this.bodyFill === this.body.byteLength) {
        frames.push(this.body);
        this.body = undefined;
      }
    }
    return frames;
  }

  /** Call at end of stream: throws DecodeError if the stream stopped inside a frame. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.buffered > 0) {
      this.failure = new DecodeError(`stream ended inside a frame (${this.buffered} bytes of it received): the peer closed or crashed mid-message`);
      throw this.failure;
    }
  }
}
