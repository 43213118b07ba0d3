// Wire format of the gossip (UDP) messages. One packet is either a single message or a compound
// of several, each message being a type byte followed by its fields. Every field is
// length-checked on the way in and every reader throws DecodeError (OversizeError for packets
// over the limit) and nothing else, because these bytes come straight off the network.

import { DecodeError, OversizeError } from '../errors/index.js';
import { DecodeCache, internBytes } from './intern.js';
import { Encoder, Reader, finish, packetBuffer, scratchEncoder, varUintSize, writeBool, writeBytes, writeString, writeU8, writeUint } from './wire.js';

/** Longest member name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/** Longest "host:port" address, in UTF-8 bytes. */
export const MAX_ADDRESS_BYTES = 256;
/** Largest opaque member metadata. */
export const MAX_META_BYTES = 512;
/** Most messages one compound packet may carry. */
export const MAX_COMPOUND_PARTS = 255;

export const MessageType = {
  ping: 1,
  pingReq: 2,
  ack: 3,
  nack: 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  compound: 8,
} as const;

/** Direct probe. `target` names who we expect to answer, so a reused address does not ack for someone else. */
export interface Ping { type: 'ping'; seq: number; target: string }
/** Ask a relay to probe `target` for us; `wantNack` asks it to say so when the target stays silent. */
export interface PingReq { type: 'ping-req'; seq: number; target: string; targetAddress: string; wantNack: boolean }
export interface Ack { type: 'ack'; seq: number }
/** A relay's "I asked but the target did not answer": proof that we, the requester, are reachable. */
export interface Nack { type: 'nack'; seq: number }
export interface Suspect { type: 'suspect'; incarnation: number; name: string; from: string }
export interface Alive { type: 'alive'; incarnation: number; name: string; address: string; meta: Uint8Array }
/** `from === name` means a graceful leave. */
export interface Dead { type: 'dead'; incarnation: number; name: string; from: string }

export type GossipMessage = Ping | PingReq | Ack | Nack | Suspect | Alive | Dead;

export function writePing(enc: Encoder, m: Ping): void {
  writeUint(enc, m.seq);
  writeString(enc, m.target);
}
export function readPing(r: Reader): Ping {
  return { type: 'ping', seq: r.uint(), target: r.string(MAX_NAME_BYTES) };
}

export function writePingReq(enc: Encoder, m: PingReq): void {
  writeUint(enc, m.seq);
  writeString(enc, m.target);
  writeString(enc, m.targetAddress);
  writeBool(enc, m.wantNack);
}
export function readPingReq(r: Reader): PingReq {
  return { type: 'ping-req', seq: r.uint(), target: r.string(MAX_NAME_BYTES), targetAddress: r.string(MAX_ADDRESS_BYTES), wantNack: r.bool() };
}

export function writeAck(enc: Encoder, m: Ack): void {
  writeUint(enc, m.seq);
}
export function readAck(r: Reader): Ack {
  return { type: 'ack', seq: r.uint() };
}

export function writeNack(enc: Encoder, m: Nack): void {
  writeUint(enc, m.seq);
}
export function readNack(r: Reader): Nack {
  return { type: 'nack', seq: r.uint() };
}

export function writeSuspect(enc: Encoder, m: Suspect): void {
  writeUint(enc, m.incarnation);
  writeString(enc, m.name);
  writeString(enc, m.from);
}
export function readSuspect(r: Reader): Suspect {
  return { type: 'suspect', incarnation: r.uint(), name: r.string(MAX_NAME_BYTES), from: r.string(MAX_NAME_BYTES) };
}

export function writeAlive(enc: Encoder, m: Alive): void {
  writeUint(enc, m.incarnation);
  writeString(enc, m.name);
  writeString(enc, m.address);
  writeBytes(enc, m.meta);
}
export function readAlive(r: Reader): Alive {
  return { type: 'alive', incarnation: r.uint(), name: r.string(MAX_NAME_BYTES), address: r.string(MAX_ADDRESS_BYTES), meta: r.internedBytes(MAX_META_BYTES) };
}

export function writeDead(enc: Encoder, m: Dead): void {
  writeUint(enc, m.incarnation);
  writeString(enc, m.name);
  writeString(enc, m.from);
}
export function readDead(r: Reader): Dead {
  return { type: 'dead', incarnation: r.uint(), name: r.string(MAX_NAME_BYTES), from: r.string(MAX_NAME_BYTES) };
}

/** One message as a standalone packet (or compound part): type byte, then its fields. */
export function encodeMessage(m: GossipMessage): Uint8Array {
  const enc = scratchEncoder();
  switch (m.type) {
    case 'ping': writeU8(enc, MessageType.ping); writePing(enc, m); break;
    case 'ping-req': writeU8(enc, MessageType.pingReq); writePingReq(enc, m); break;
    case 'ack': writeU8(enc, MessageType.ack); writeAck(enc, m); break;
    case 'nack': writeU8(enc, MessageType.nack); writeNack(enc, m); break;
    case 'suspect': writeU8(enc, MessageType.suspect); writeSuspect(enc, m); break;
    case 'alive': writeU8(enc, MessageType.alive); writeAlive(enc, m); break;
    case 'dead': writeU8(enc, MessageType.dead); writeDead(enc, m); break;
  }
  return finish(enc);
}

/**
 * An alive message as its process-wide canonical copy (intern.ts): every node queues the same fact
 * about a member for gossip, and one copy serves them all. Shared: never to be written.
 */
export function encodeAliveShared(m: Alive): Uint8Array {
  const enc = scratchEncoder();
  writeU8(enc, MessageType.alive);
  writeAlive(enc, m);
  return internBytes(enc.buf, 0, enc.pos);
}

/**
 * The encodings of decoded alive facts (frozen, shared by every node that heard them: see
 * aliveFacts), kept with the fact: each node that accepts one queues it for gossip again, and
 * encoding and interning ~300 bytes per node per fact was a twentieth of a 600-node run's CPU.
 */
const encodedFacts = new WeakMap<Readonly<AliveClaimFields>, Uint8Array>();

type AliveClaimFields = Pick<Alive, 'incarnation' | 'name' | 'address' | 'meta'>;

/** encodeAliveShared of a claim's fields: for a frozen claim (a decoded fact) the encoding is kept with it. */
export function encodeClaimShared(claim: Readonly<AliveClaimFields>): Uint8Array {
  const frozen = Object.isFrozen(claim);
  if (frozen) {
    const known = encodedFacts.get(claim);
    if (known !== undefined) return known;
  }
  const bytes = encodeAliveShared({ type: 'alive', incarnation: claim.incarnation, name: claim.name, address: claim.address, meta: claim.meta });
  if (frozen) encodedFacts.set(claim, bytes);
  return bytes;
}

/** Several encoded messages in one packet. Callers budget the size (see compoundSize). */
export function encodeCompound(parts: Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) throw new RangeError(`a compound packet holds at most ${MAX_COMPOUND_PARTS} messages`);
  // Sized exactly up front: one allocation and no final copy (this runs for every packet sent).
  let size = 1 + varUintSize(parts.length);
  for (const part of parts) size += varUintSize(part.length) + part.length;
  const enc = new Encoder(packetBuffer(size));
  writeU8(enc, MessageType.compound);
  writeUint(enc, parts.length);
  for (const part of parts) writeBytes(enc, part);
  return enc.pos === enc.buf.length ? enc.buf : finish(enc);
}

/** Decodes one non-compound message that fills `bytes` exactly. */
export function decodeMessage(bytes: Uint8Array): GossipMessage {
  const r = new Reader(bytes, 'gossip message');
  const msg = readBody(r, r.u8());
  r.end();
  return msg;
}

/**
 * Decodes a whole packet into its messages (a compound is flattened; compounds do not nest).
 * Throws OversizeError above `maxBytes`, DecodeError for anything malformed.
 */
export function decodePacket(bytes: Uint8Array, maxBytes: number): GossipMessage[] {
  if (bytes.length > maxBytes) throw new OversizeError(`gossip packet of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit; dropped`);
  try {
    const r = new Reader(bytes, 'gossip packet');
    const type = r.u8();
    if (type !== MessageType.compound) {
      const msg = readBody(r, type);
      r.end();
      return [msg];
    }
    const count = r.uint(MAX_COMPOUND_PARTS);
    if (count === 0) r.fail('empty compound');
    const out: GossipMessage[] = [];
    for (let i = 0; i < count; i++) {
      // Each part is read in place (no copy); like decodeMessage, it must be filled exactly.
      const part = r.sub(maxBytes, 'gossip message');
      out.push(readBody(part, part.u8()));
      part.end();
    }
    r.end();
    return out;
  } catch (err) {
    // Belt and braces: whatever slipped past the explicit checks still surfaces as DecodeError.
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('malformed gossip packet; dropped', { cause: err });
  }
}

/**
 * Alive facts as decoded before, by their bytes: most alive facts a node receives it has heard
 * already (each is relayed several times by every member), and at 1,000 simulated nodes decoding
 * each again (name, address, metadata) was a tenth of all the CPU. Shared, so frozen.
 */
const aliveFacts = new DecodeCache<Alive>();

function readFrozenAlive(r: Reader): Alive {
  return Object.freeze(readAlive(r));
}

function readBody(r: Reader, type: number): GossipMessage {
  switch (type) {
    case MessageType.ping: return readPing(r);
    case MessageType.pingReq: return readPingReq(r);
    case MessageType.ack: return readAck(r);
    case MessageType.nack: return readNack(r);
    case MessageType.suspect: return readSuspect(r);
    case MessageType.alive: return r.restThrough(aliveFacts, readFrozenAlive);
    case MessageType.dead: return readDead(r);
    default: return r.fail(`unknown message type ${type}`);
  }
}
