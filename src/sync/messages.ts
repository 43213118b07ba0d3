// The sync protocol's messages and their paired write/read codecs (lib0 varint encoding).
// Every message starts with one header byte: the kind (low 5 bits) and name flags, then the
// epochs those announce (message-names.ts; doc-names.ts: document ids are written in full once
// per peer, then as numbers, the sender's or the receiver's own). Sessions are varuints chosen by the initiator
// and echoed by the responder. Readers throw DecodeError on any malformed input and nothing else
// (UnknownRefError, a DecodeError, when a document number cannot be resolved).
//
// Anti-entropy (initiator A, responder B), each step only when the previous one found a difference:
//   A→B ae-root      B→A nothing (equal) | ae-groups | ae-docs(all, with B's state vectors)
//   A→B ae-buckets   B→A ae-docs(with B's state vectors)
//   A→B doc-deltas(diffs for B's state vectors + A's digest check, + A's state vector when B has
//       structs A lacks)
//   B→A doc-deltas(diffs), only when B still differs from A's check after applying.
import { HASH_BYTES } from './hash.js';
import { BUCKETS_PER_GROUP, GROUPS } from './digest-tree.js';
import type { NameReader, NameWriter } from './doc-names.js';
import { UnknownRefError, readName, readNameContext, validNameFlags, writeHeader, type NameContext } from './message-names.js';
import type { SyncMode } from './types.js';
import { encodeAckBytes, isSmallUint, readPushBody, writePushBody, type PushEntry, type PushMessage } from './push-messages.js';
import {
  createDecoder, createEncoder, expectEnd, fail, readByte, readBytes, readCount, readFixed,
  readUint, toBytes, writeByte, writeBytes, writeFixed, writeUint, type Decoder, type Encoder,
} from './wire.js';

/**
 * Bytes of the digest check a delta carries (a prefix of the sender's document digest). A false
 * match only skips an answer that the next round's root comparison then asks for again.
 */
export const CHECK_BYTES = 4;
/**
 * Bytes of a document digest in ae-docs (a prefix of the 16-byte digest): 64 bits, so two
 * different states of one document compare equal with probability 2^-64.
 */
export const DOC_DIGEST_BYTES = 8;

export type { PushEntry, PushMessage };
export { UnknownRefError };

export interface DocStateEntry { id: string; sv: Uint8Array }
/**
 * `sv` present asks the receiver to answer with its diff for that state vector. `check` (the
 * sender's digest prefix) makes that answer conditional: the receiver answers only when it
 * still differs after applying `update`, and without `sv` it answers the diff for its own
 * state vector (the sender then lacks no structs, only deletions).
 */
export interface DocDeltaEntry { id: string; update: Uint8Array; sv?: Uint8Array; check?: Uint8Array }
/** `sv`: the sender's state vector (ae-docs always carries it, so the initiator can send deltas at once). */
export interface DocDigestEntry { id: string; digest: Uint8Array; sv?: Uint8Array }
export interface GroupBuckets { group: number; hashes: Uint8Array[] }

export type SyncMessage =
  | { kind: 'ae-root'; session: number; root: Uint8Array }
  /** Ends a session; no longer sent for an in-sync round (an equal responder stays silent), still understood. */
  | { kind: 'ae-done'; session: number }
  | { kind: 'ae-groups'; session: number; hashes: Uint8Array[] }
  | { kind: 'ae-buckets'; session: number; groups: GroupBuckets[] }
  /** `all`: the sender's complete document list (cheaper than the tree when it has few). */
  | { kind: 'ae-docs'; session: number; all: boolean; buckets: number[]; docs: DocDigestEntry[] }
  | { kind: 'doc-states'; session: number; mode: SyncMode; entries: DocStateEntry[] }
  /** `reply`: answers a session the receiver started (session ids are per initiator). */
  | { kind: 'doc-deltas'; session: number; mode: SyncMode; reply: boolean; entries: DocDeltaEntry[] }
  | { kind: 'snapshot-request'; session: number }
  | { kind: 'snapshot-end'; session: number; docs: number }
  /** One piece of a message larger than the frame limit. */
  | { kind: 'chunk'; messageId: number; index: number; count: number; payload: Uint8Array }
  /** update, updates, ack, acks, unknown-ref: push-messages.ts. */
  | PushMessage;

export type MessageKind = SyncMessage['kind'];

const KINDS: readonly MessageKind[] = [
  'ae-root', 'ae-done', 'ae-groups', 'ae-buckets', 'ae-docs', 'doc-states', 'doc-deltas',
  'update', 'ack', 'snapshot-request', 'snapshot-end', 'chunk', 'unknown-ref', 'updates', 'acks',
];
const MODES: readonly SyncMode[] = ['delta_only', 'on_demand', 'full_snapshot', 'continuous', 'resync'];
const KIND_MASK = 0x1f;

/** Kind of an encoded message without decoding the rest (for byte accounting). */
export function peekKind(bytes: Uint8Array): MessageKind | undefined {
  return bytes.length > 0 ? KINDS[(bytes[0]! & KIND_MASK) - 1] : undefined;
}

/** Every document id a message names, in the order the encoder writes them. */
function namesOf(m: SyncMessage): string[] {
  switch (m.kind) {
    case 'ae-docs':
      return m.docs.map((d) => d.id);
    case 'doc-states':
    case 'doc-deltas':
      return m.entries.map((e) => e.id);
    case 'update':
      return [m.docId];
    case 'updates':
      return m.entries.map((e) => e.docId);
    default:
      return [];
  }
}

/**
 * Encodes `m`. With `names`, document ids are written as the writer plans (number, or number
 * and id); without, as plain text.
 */
export function encodeMessage(m: SyncMessage, names?: NameWriter): Uint8Array {
  // One per received push: skip the encoder (and its buffer) for an ack, word or not.
  if (m.kind === 'ack' && isSmallUint(m.requestId) && (m.word === undefined || isSmallUint(m.word))) return encodeAckBytes(ACK_HEADER, m.requestId, m.word);
  const e = createEncoder();
  const writeName = writeHeader(e, KINDS.indexOf(m.kind) + 1, names ? namesOf(m) : [], names);
  switch (m.kind) {
    case 'ae-root':
      writeUint(e, m.session);
      writeHash(e, m.root);
      break;
    case 'ae-done':
    case 'snapshot-request':
      writeUint(e, m.session);
      break;
    case 'ae-groups':
      writeUint(e, m.session);
      for (const h of fixedCount(m.hashes, GROUPS)) writeHash(e, h);
      break;
    case 'ae-buckets':
      writeUint(e, m.session);
      writeUint(e, m.groups.length);
      for (const g of m.groups) {
        writeByte(e, g.group);
        for (const h of fixedCount(g.hashes, BUCKETS_PER_GROUP)) writeHash(e, h);
      }
      break;
    case 'ae-docs':
      writeUint(e, m.session);
      writeByte(e, m.all ? 1 : 0);
      writeUint(e, m.buckets.length);
      for (const b of m.buckets) writeByte(e, b);
      writeUint(e, m.docs.length);
      for (const d of m.docs) {
        writeName(d.id);
        if (d.digest.byteLength !== DOC_DIGEST_BYTES) throw new RangeError(`document digest must be ${DOC_DIGEST_BYTES} bytes`);
        writeFixed(e, d.digest);
        writeByte(e, d.sv ? 1 : 0);
        if (d.sv) writeBytes(e, d.sv);
      }
      break;
    case 'doc-states':
      writeUint(e, m.session);
      writeByte(e, MODES.indexOf(m.mode));
      writeUint(e, m.entries.length);
      for (const s of m.entries) {
        writeName(s.id);
        writeBytes(e, s.sv);
      }
      break;
    case 'doc-deltas':
      writeUint(e, m.session);
      // Mode and reply flag in one byte.
      writeByte(e, MODES.indexOf(m.mode) | (m.reply ? 0x10 : 0));
      writeUint(e, m.entries.length);
      for (const d of m.entries) {
        writeName(d.id);
        writeBytes(e, d.update);
        writeByte(e, (d.sv ? 1 : 0) | (d.check ? 2 : 0));
        if (d.sv) writeBytes(e, d.sv);
        if (d.check) writeCheck(e, d.check);
      }
      break;
    case 'update':
    case 'updates':
    case 'ack':
    case 'acks':
    case 'unknown-ref':
      writePushBody(e, m, writeName);
      break;
    case 'snapshot-end':
      writeUint(e, m.session);
      writeUint(e, m.docs);
      break;
    case 'chunk':
      writeUint(e, m.messageId);
      writeUint(e, m.index);
      writeUint(e, m.count);
      writeBytes(e, m.payload);
      break;
  }
  return toBytes(e);
}

export interface DecodedMessage {
  msg: SyncMessage;
  /** The sender's epoch, when the message carried it, and the numbers it defined. */
  epoch?: number;
  defs: Array<[number, string]>;
}

/** Decodes one message; throws DecodeError (only) when `bytes` is not a well-formed message. */
export function decodeMessage(bytes: Uint8Array, names?: NameReader): SyncMessage {
  return decodeMessageWithNames(bytes, names).msg;
}

/** decodeMessage, also returning the document numbers the message defined (to record once it is accepted). */
export function decodeMessageWithNames(bytes: Uint8Array, names?: NameReader): DecodedMessage {
  const d = createDecoder(bytes);
  const header = readByte(d, 'kind');
  const kind = KINDS[(header & KIND_MASK) - 1];
  if (!kind || !validNameFlags(header)) fail(`unknown kind ${header}`);
  const ctx = readNameContext(d, header, names);
  const msg = readBody(d, kind, ctx);
  expectEnd(d);
  return ctx.epoch === undefined ? { msg, defs: ctx.defs } : { msg, epoch: ctx.epoch, defs: ctx.defs };
}

function readBody(d: Decoder, kind: MessageKind, ctx: NameContext): SyncMessage {
  switch (kind) {
    case 'ae-root':
      return { kind, session: readUint(d, 'session'), root: readHash(d) };
    case 'ae-done':
    case 'snapshot-request':
      return { kind, session: readUint(d, 'session') };
    case 'ae-groups': {
      const session = readUint(d, 'session');
      return { kind, session, hashes: Array.from({ length: GROUPS }, () => readHash(d)) };
    }
    case 'ae-buckets': {
      const session = readUint(d, 'session');
      const n = readCount(d, 1 + BUCKETS_PER_GROUP * HASH_BYTES, 'group');
      const groups: GroupBuckets[] = [];
      for (let i = 0; i < n; i++) {
        const group = readByte(d, 'group');
        if (group >= GROUPS) fail(`group ${group} out of range`);
        groups.push({ group, hashes: Array.from({ length: BUCKETS_PER_GROUP }, () => readHash(d)) });
      }
      return { kind, session, groups };
    }
    case 'ae-docs': {
      const session = readUint(d, 'session');
      const all = readFlag(d, 'all');
      const nb = readCount(d, 1, 'bucket');
      const buckets: number[] = [];
      for (let i = 0; i < nb; i++) buckets.push(readByte(d, 'bucket')); // a byte is always < BUCKETS
      const nd = readCount(d, 2 + DOC_DIGEST_BYTES, 'doc');
      const docs: DocDigestEntry[] = [];
      for (let i = 0; i < nd; i++) {
        const id = readName(d, ctx);
        const digest = readFixed(d, DOC_DIGEST_BYTES, 'document digest');
        docs.push(readFlag(d, 'sv flag') ? { id, digest, sv: readBytes(d, 'state vector') } : { id, digest });
      }
      return { kind, session, all, buckets, docs };
    }
    case 'doc-states': {
      const session = readUint(d, 'session');
      const mode = readMode(d, readByte(d, 'mode'));
      const n = readCount(d, 2, 'state');
      const entries: DocStateEntry[] = [];
      for (let i = 0; i < n; i++) entries.push({ id: readName(d, ctx), sv: readBytes(d, 'state vector') });
      return { kind, session, mode, entries };
    }
    case 'doc-deltas': {
      const session = readUint(d, 'session');
      const b = readByte(d, 'mode');
      if (b & 0xe0) fail(`mode byte ${b}`);
      const mode = readMode(d, b & 0x0f);
      const reply = (b & 0x10) !== 0;
      const n = readCount(d, 3, 'delta');
      const entries: DocDeltaEntry[] = [];
      for (let i = 0; i < n; i++) {
        const id = readName(d, ctx);
        const update = readBytes(d, 'update');
        const flags = readByte(d, 'entry flags');
        if (flags > 3) fail(`entry flags ${flags}`);
        const entry: DocDeltaEntry = { id, update };
        if (flags & 1) entry.sv = readBytes(d, 'state vector');
        if (flags & 2) entry.check = readFixed(d, CHECK_BYTES, 'digest check');
        entries.push(entry);
      }
      return { kind, session, mode, reply, entries };
    }
    case 'update':
    case 'updates':
    case 'ack':
    case 'acks':
    case 'unknown-ref':
      return readPushBody(d, kind, ctx, () => readName(d, ctx));
    case 'snapshot-end':
      return { kind, session: readUint(d, 'session'), docs: readUint(d, 'doc count') };
    case 'chunk': {
      const messageId = readUint(d, 'message id');
      const index = readUint(d, 'chunk index');
      const count = readUint(d, 'chunk count');
      if (count < 2 || index >= count) fail(`chunk ${index} of ${count}`);
      return { kind, messageId, index, count, payload: readBytes(d, 'chunk payload') };
    }
  }
}

const ACK_HEADER = KINDS.indexOf('ack') + 1;


function writeHash(e: Encoder, h: Uint8Array): void {
  if (h.byteLength !== HASH_BYTES) throw new RangeError(`hash must be ${HASH_BYTES} bytes`);
  writeFixed(e, h);
}

function writeCheck(e: Encoder, h: Uint8Array): void {
  if (h.byteLength !== CHECK_BYTES) throw new RangeError(`digest check must be ${CHECK_BYTES} bytes`);
  writeFixed(e, h);
}

function readHash(d: Decoder): Uint8Array {
  return readFixed(d, HASH_BYTES, 'hash');
}

function readFlag(d: Decoder, what: string): boolean {
  const b = readByte(d, what);
  if (b > 1) fail(`${what} ${b}`);
  return b === 1;
}

function readMode(_d: Decoder, b: number): SyncMode {
  return MODES[b] ?? fail(`unknown mode ${b}`);
}

function fixedCount<T>(xs: T[], n: number): T[] {
  if (xs.length !== n) throw new RangeError(`expected ${n} entries, got ${xs.length}`);
  return xs;
}
