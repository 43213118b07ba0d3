// The sync protocol's messages and their paired write/read codecs (lib0 varint encoding).
// Every message starts with one header byte: the kind (low 5 bits), 0x80 when the sender's
// 4-byte epoch follows, 0x40 when a 1-byte tag of it follows, 0x20 when the receiver's 4-byte
// epoch follows (doc-names.ts: document ids are written in full once per peer, then as numbers,
// the sender's or the receiver's own). Sessions are varuints chosen by the initiator
// and echoed by the responder. Readers throw DecodeError on any malformed input and nothing else
// (UnknownRefError, a DecodeError, when a document number cannot be resolved).
//
// Anti-entropy (initiator A, responder B), each step only when the previous one found a difference:
//   A→B ae-root      B→A nothing (equal) | ae-groups | ae-docs(all, with B's state vectors)
//   A→B ae-buckets   B→A ae-docs(with B's state vectors)
//   A→B doc-deltas(diffs for B's state vectors + A's digest check, + A's state vector when B has
//       structs A lacks)
//   B→A doc-deltas(diffs), only when B still differs from A's check after applying.
import { DecodeError } from '../errors.js';
import { HASH_BYTES } from './hash.js';
import { BUCKETS_PER_GROUP, GROUPS } from './digest-tree.js';
import type { NamePlan, NameReader, NameWriter } from './doc-names.js';
import type { SyncMode } from './types.js';
import { encodeAckBytes, isSmallUint, readPushBody, writePushBody, type PushEntry, type PushMessage } from './push-messages.js';
import {
  createDecoder, createEncoder, expectEnd, fail, readByte, readBytes, readCount, readFixed, readString,
  readUint, toBytes, writeByte, writeBytes, writeFixed, writeString, writeUint, type Decoder, type Encoder,
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
const HAS_EPOCH = 0x80;
const HAS_TAG = 0x40;
const HAS_THEIR_EPOCH = 0x20;

/** A document number the receiver has no table for (see doc-names.ts); the message is dropped. */
export class UnknownRefError extends DecodeError {
  constructor(readonly requestId: number) {
    super('sync message names a document by a number this node does not know; dropped, the sender is told to define it again');
  }
}

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
  let header = KINDS.indexOf(m.kind) + 1;
  const plans = new Map<string, NamePlan | undefined>();
  if (names) {
    let anyDefined = false;
    let anyRef = false;
    let anyTheirs = false;
    for (const id of namesOf(m)) {
      if (plans.has(id)) continue;
      const p = names.plan(id);
      plans.set(id, p);
      if (p?.theirs !== undefined) anyTheirs = true;
      else if (p?.defined) anyDefined = true;
      else if (p) anyRef = true;
    }
    if (anyTheirs && names.theirEpoch === undefined) throw new RangeError('a name plan uses the receiver\'s numbers without its epoch');
    if (anyDefined) header |= HAS_EPOCH;
    else if (anyRef) header |= HAS_TAG;
    if (anyTheirs) header |= HAS_THEIR_EPOCH;
    writeByte(e, header);
    if (anyDefined) writeFixed(e, epochBytes(names.epoch));
    else if (anyRef) writeByte(e, names.epoch & 0xff);
    if (anyTheirs) writeFixed(e, epochBytes(names.theirEpoch!));
  } else {
    writeByte(e, header);
  }
  // Name: varuint 0 + text (plain) | 3r+1 (our number r) | 3r+2 + text (our number r, defined)
  // | 3r+3 (the receiver's number r).
  const writeName = (id: string): void => {
    const p = plans.get(id);
    if (!p) {
      writeUint(e, 0);
      writeString(e, id);
    } else if (p.theirs !== undefined) {
      writeUint(e, 3 * p.theirs + 3);
    } else if (p.defined) {
      writeUint(e, 3 * p.ref + 2);
      writeString(e, id);
    } else {
      writeUint(e, 3 * p.ref + 1);
    }
  };
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
  if (!kind || (header & HAS_EPOCH && header & HAS_TAG)) fail(`unknown kind ${header}`);
  const ctx: NameContext = { names, defs: [], requestId: 0, table: undefined, resolved: false };
  if (header & HAS_EPOCH) ctx.epoch = readEpoch(d);
  else if (header & HAS_TAG) ctx.tag = readByte(d, 'epoch tag');
  if (header & HAS_THEIR_EPOCH) ctx.ourEpoch = readEpoch(d);
  const msg = readBody(d, kind, ctx);
  expectEnd(d);
  return ctx.epoch === undefined ? { msg, defs: ctx.defs } : { msg, epoch: ctx.epoch, defs: ctx.defs };
}

interface NameContext {
  names: NameReader | undefined;
  epoch?: number;
  tag?: number;
  /** The epoch of ours the sender's use of our numbers refers to. */
  ourEpoch?: number;
  defs: Array<[number, string]>;
  requestId: number;
  table: ReadonlyMap<number, string> | undefined;
  resolved: boolean;
}

function readName(d: Decoder, ctx: NameContext): string {
  const x = readUint(d, 'doc name');
  if (x === 0) return readString(d, 'doc id');
  const ref = Math.floor((x - 1) / 3);
  if (x % 3 === 0) {
    if (ctx.ourEpoch === undefined) fail('our doc number without our epoch');
    const id = ctx.names?.own?.(ctx.ourEpoch, ref);
    if (id === undefined) throw new UnknownRefError(ctx.requestId);
    return id;
  }
  if (ctx.epoch === undefined && ctx.tag === undefined) fail('numbered doc id without an epoch');
  if (x % 3 === 2) {
    if (ctx.epoch === undefined) fail('doc id definition without an epoch');
    const id = readString(d, 'doc id');
    ctx.defs.push([ref, id]);
    return id;
  }
  for (const [r, id] of ctx.defs) if (r === ref) return id;
  if (!ctx.resolved) {
    ctx.table = ctx.names?.table(ctx.epoch, ctx.tag);
    ctx.resolved = true;
  }
  const id = ctx.table?.get(ref);
  if (id === undefined) throw new UnknownRefError(ctx.requestId);
  return id;
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


function epochBytes(epoch: number): Uint8Array {
  return Uint8Array.of(epoch & 0xff, (epoch >>> 8) & 0xff, (epoch >>> 16) & 0xff, (epoch >>> 24) & 0xff);
}

function readEpoch(d: Decoder): number {
  const b = readFixed(d, 4, 'epoch');
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

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
