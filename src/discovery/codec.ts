// Wire format of discovery packets, before sealing (envelope.ts seals or marks them).
//
//   off  len
//    0    4   magic "TRID": a stray datagram on port 9999 fails here, cheaply
//    4    1   codec version (CODEC_VERSION)
//    5    1   kind: 1 request, 2 reply
//    6    1   flags: bit 0 INSECURE, set if and only if the packet travels as plaintext, so a
//             plaintext packet can never pass for a sealed one and every capture shows it loudly
//    7   16   nonce: random per discovery run; a reply must echo its request's nonce, so a reply
//             captured earlier cannot be replayed into a later run
//   23    .   request: zero padding up to REQUEST_BODY_BYTES (fixed size, see below)
//             reply:   name (u8 length + UTF-8), gossip host (u8 length + UTF-8),
//                      gossip port (u16), rpc port (u16, 0 = none)
//
// Requests are padded to a fixed size that is at least the largest possible reply, so a
// responder can always answer with no more bytes than it received: discovery cannot be used to
// amplify traffic towards a spoofed source (DESIGN.md "Discovery").
import { DecodeError, OversizeError } from '../errors.js';

export const MAGIC = Buffer.from('TRID', 'ascii');
export const CODEC_VERSION = 1;
export const NONCE_BYTES = 16;
export const FLAG_INSECURE = 0x01;

export const KIND_REQUEST = 1;
export const KIND_REPLY = 2;

/** Longest node name and gossip host a reply carries (bytes of UTF-8). */
export const MAX_NAME_BYTES = 64;
export const MAX_HOST_BYTES = 64;

const COMMON_BYTES = MAGIC.length + 3 + NONCE_BYTES; // 23
/** Largest reply body: common header, two length-prefixed strings, two ports. */
export const MAX_REPLY_BODY_BYTES = COMMON_BYTES + 1 + MAX_NAME_BYTES + 1 + MAX_HOST_BYTES + 2 + 2; // 157
/** Every request body has exactly this size (a little slack above the largest reply). */
export const REQUEST_BODY_BYTES = 192;

if (MAX_REPLY_BODY_BYTES > REQUEST_BODY_BYTES) {
  // A module-load failure, not a runtime surprise: the no-amplification rule depends on it.
  throw new Error('discovery codec: a reply could be larger than a request');
}

export interface DiscoveryRequest {
  nonce: Uint8Array;
  insecure: boolean;
}

export interface DiscoveryReply {
  nonce: Uint8Array;
  insecure: boolean;
  name: string;
  /** Gossip host as the node advertises it. */
  host: string;
  port: number;
  /** RPC port, or 0 when the node did not say. */
  rpcPort: number;
}

export type DecodedBody = ({ kind: 'request' } & DiscoveryRequest) | ({ kind: 'reply' } & DiscoveryReply);

export function encodeRequest(req: DiscoveryRequest): Buffer {
  const out = Buffer.alloc(REQUEST_BODY_BYTES); // zero-filled: the padding is zeros
  writeCommon(out, KIND_REQUEST, req.insecure, req.nonce);
  return out;
}

/** Throws OversizeError when the name or host is too long, RangeError on a bad port. */
export function encodeReply(reply: DiscoveryReply): Buffer {
  const name = Buffer.from(reply.name, 'utf8');
  const host = Buffer.from(reply.host, 'utf8');
  if (name.length > MAX_NAME_BYTES) {
    throw new OversizeError(`node name "${reply.name}" is ${name.length} bytes; discovery carries at most ${MAX_NAME_BYTES}: use a shorter --name`);
  }
  if (host.length === 0 || host.length > MAX_HOST_BYTES) {
    throw new OversizeError(`gossip host "${reply.host}" must be 1..${MAX_HOST_BYTES} bytes: give an IP address to --bind`);
  }
  checkPort(reply.port, 'gossip port');
  if (reply.port === 0) throw new RangeError('gossip port 0 cannot be advertised: bind the gossip socket first and advertise its port');
  checkPort(reply.rpcPort, 'rpc port');
  const out = Buffer.alloc(COMMON_BYTES + 1 + name.length + 1 + host.length + 4);
  let off = writeCommon(out, KIND_REPLY, reply.insecure, reply.nonce);
  out[off++] = name.length;
  off += name.copy(out, off);
  out[off++] = host.length;
  off += host.copy(out, off);
  off = out.writeUInt16BE(reply.port, off);
  out.writeUInt16BE(reply.rpcPort, off);
  return out;
}

/** Decodes a body; any deviation from the format is a DecodeError (never another exception). */
export function decodeBody(data: Uint8Array): DecodedBody | DecodeError {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length < COMMON_BYTES) return new DecodeError(`discovery packet of ${b.length} bytes is too short: dropped`);
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) return new DecodeError('not a discovery packet (bad magic): dropped');
  if (b[4] !== CODEC_VERSION) {
    return new DecodeError(`discovery packet has codec version ${b[4]}, this node speaks ${CODEC_VERSION}: dropped; upgrade the older node`);
  }
  const kind = b[5];
  const flags = b[6]!;
  if ((flags & ~FLAG_INSECURE) !== 0) return new DecodeError(`discovery packet has unknown flags 0x${flags.toString(16)}: dropped`);
  const insecure = (flags & FLAG_INSECURE) !== 0;
  const nonce = Uint8Array.from(b.subarray(7, COMMON_BYTES));
  if (kind === KIND_REQUEST) {
    if (b.length !== REQUEST_BODY_BYTES) {
      return new DecodeError(`discovery request of ${b.length} bytes, expected exactly ${REQUEST_BODY_BYTES}: dropped`);
    }
    // Padding must be zeros: one canonical encoding, nothing smuggled in it.
    for (let i = COMMON_BYTES; i < b.length; i++) {
      if (b[i] !== 0) return new DecodeError('discovery request padding is not zero: dropped');
    }
    return { kind: 'request', nonce, insecure };
  }
  if (kind === KIND_REPLY) return decodeReplyFields(b, nonce, insecure);
  return new DecodeError(`discovery packet of unknown kind ${kind}: dropped`);
}

function decodeReplyFields(b: Buffer, nonce: Uint8Array, insecure: boolean): DecodedBody | DecodeError {
  if (b.length > MAX_REPLY_BODY_BYTES) return new DecodeError(`discovery reply of ${b.length} bytes is too long: dropped`);
  let off = COMMON_BYTES;
  const name = readString(b, off, MAX_NAME_BYTES);
  if (name === undefined) return new DecodeError('discovery reply has a bad name field: dropped');
  off += 1 + name.bytes;
  const host = readString(b, off, MAX_HOST_BYTES);
  if (host === undefined || host.bytes === 0) return new DecodeError('discovery reply has a bad host field: dropped');
  off += 1 + host.bytes;
  if (b.length !== off + 4) return new DecodeError('discovery reply has the wrong length for its fields: dropped');
  const port = b.readUInt16BE(off);
  const rpcPort = b.readUInt16BE(off + 2);
  if (port === 0) return new DecodeError('discovery reply advertises gossip port 0: dropped');
  return { kind: 'reply', nonce, insecure, name: name.text, host: host.text, port, rpcPort };
}

function readString(b: Buffer, off: number, max: number): { text: string; bytes: number } | undefined {
  if (off >= b.length) return undefined;
  const len = b[off]!;
  if (len > max || off + 1 + len > b.length) return undefined;
  const bytes = b.subarray(off + 1, off + 1 + len);
  const text = bytes.toString('utf8');
  // Reject invalid UTF-8 (it would decode lossily to U+FFFD) so what we print is what was sent.
  if (!Buffer.from(text, 'utf8').equals(bytes)) return undefined;
  return { text, bytes: len };
}

function writeCommon(out: Buffer, kind: number, insecure: boolean, nonce: Uint8Array): number {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`discovery nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  MAGIC.copy(out, 0);
  out[4] = CODEC_VERSION;
  out[5] = kind;
  out[6] = insecure ? FLAG_INSECURE : 0;
  Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).copy(out, 7);
  return COMMON_BYTES;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${what} must be 0..65535, got ${port}`);
}
