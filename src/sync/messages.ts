// The sync protocol's messages and their paired write/read codecs (lib0 varint encoding).
// Every message starts with one kind byte; sessions are varuints chosen by the initiator and
// echoed by the responder. Readers throw DecodeError on any malformed input and nothing else.
//
// Anti-entropy (initiator A, responder B), each step only when the previous one found a difference:
//   A→B ae-root      B→A ae-done | ae-groups | ae-docs(all)   A→B ae-buckets   B→A ae-docs
//   A→B doc-states(A's state vectors)   B→A doc-deltas(diffs + B's state vectors)
//   A→B doc-deltas(diffs)
import { HASH_BYTES } from './hash.js';
import { BUCKETS_PER_GROUP, GROUPS } from './digest-tree.js';
import type { SyncMode } from './types.js';
import {
  createDecoder, createEncoder, expectEnd, fail, readByte, readBytes, readCount, readFixed, readString,
  readUint, toBytes, writeByte, writeBytes, writeFixed, writeString, writeUint, type Decoder, type Encoder,
} from './wire.js';

export interface DocStateEntry { id: string; sv: Uint8Array }
/** `sv` present asks the receiver to answer with its own diff for that state vector. */
export interface DocDeltaEntry { id: string; update: Uint8Array; sv?: Uint8Array }
export interface DocDigestEntry { id: string; digest: Uint8Array }
export interface GroupBuckets { group: number; hashes: Uint8Array[] }

export type SyncMessage =
  | { kind: 'ae-root'; session: number; root: Uint8Array }
  | { kind: 'ae-done'; session: number }
  | { kind: 'ae-groups'; session: number; hashes: Uint8Array[] }
  | { kind: 'ae-buckets'; session: number; groups: GroupBuckets[] }
  /** `all`: the sender's complete document list (cheaper than the tree when it has few). */
  | { kind: 'ae-docs'; session: number; all: boolean; buckets: number[]; docs: DocDigestEntry[] }
  | { kind: 'doc-states'; session: number; mode: SyncMode; entries: DocStateEntry[] }
  /** `reply`: answers a session the receiver started (session ids are per initiator). */
  | { kind: 'doc-deltas'; session: number; mode: SyncMode; reply: boolean; entries: DocDeltaEntry[] }
  /** Continuous push; the receiver answers `ack` with the same id once the update is durable. */
  | { kind: 'update'; requestId: number; docId: string; update: Uint8Array }
  | { kind: 'ack'; requestId: number }
  | { kind: 'snapshot-request'; session: number }
  | { kind: 'snapshot-end'; session: number; docs: number }
  /** One piece of a message larger than the frame limit. */
  | { kind: 'chunk'; messageId: number; index: number; count: number; payload: Uint8Array };

export type MessageKind = SyncMessage['kind'];

const KINDS: readonly MessageKind[] = [
  'ae-root', 'ae-done', 'ae-groups', 'ae-buckets', 'ae-docs', 'doc-states', 'doc-deltas',
  'update', 'ack', 'snapshot-request', 'snapshot-end', 'chunk',
];
const MODES: readonly SyncMode[] = ['delta_only', 'on_demand', 'full_snapshot', 'continuous', 'resync'];

/** Kind of an encoded message without decoding the rest (for byte accounting). */
export function peekKind(bytes: Uint8Array): MessageKind | undefined {
  return bytes.length > 0 ? KINDS[bytes[0]! - 1] : undefined;
}

export function encodeMessage(m: SyncMessage): Uint8Array {
  const e = createEncoder();
  writeByte(e, KINDS.indexOf(m.kind) + 1);
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
        writeString(e, d.id);
        writeHash(e, d.digest);
      }
      break;
    case 'doc-states':
      writeUint(e, m.session);
      writeByte(e, MODES.indexOf(m.mode));
      writeUint(e, m.entries.length);
      for (const s of m.entries) {
        writeString(e, s.id);
        writeBytes(e, s.sv);
      }
      break;
    case 'doc-deltas':
      writeUint(e, m.session);
      writeByte(e, MODES.indexOf(m.mode));
      writeByte(e, m.reply ? 1 : 0);
      writeUint(e, m.entries.length);
      for (const d of m.entries) {
        writeString(e, d.id);
        writeBytes(e, d.update);
        writeByte(e, d.sv ? 1 : 0);
        if (d.sv) writeBytes(e, d.sv);
      }
      break;
    case 'update':
      writeUint(e, m.requestId);
      writeString(e, m.docId);
      writeBytes(e, m.update);
      break;
    case 'ack':
      writeUint(e, m.requestId);
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

/** Decodes one message; throws DecodeError (only) when `bytes` is not a well-formed message. */
export function decodeMessage(bytes: Uint8Array): SyncMessage {
  const d = createDecoder(bytes);
  const kind = KINDS[readByte(d, 'kind') - 1];
  if (!kind) fail(`unknown kind ${bytes[0]}`);
  const m = readBody(d, kind);
  expectEnd(d);
  return m;
}

function readBody(d: Decoder, kind: MessageKind): SyncMessage {
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
      const nd = readCount(d, 1 + HASH_BYTES, 'doc');
      const docs: DocDigestEntry[] = [];
      for (let i = 0; i < nd; i++) docs.push({ id: readString(d, 'doc id'), digest: readHash(d) });
      return { kind, session, all, buckets, docs };
    }
    case 'doc-states': {
      const session = readUint(d, 'session');
      const mode = readMode(d);
      const n = readCount(d, 2, 'state');
      const entries: DocStateEntry[] = [];
      for (let i = 0; i < n; i++) entries.push({ id: readString(d, 'doc id'), sv: readBytes(d, 'state vector') });
      return { kind, session, mode, entries };
    }
    case 'doc-deltas': {
      const session = readUint(d, 'session');
      const mode = readMode(d);
      const reply = readFlag(d, 'reply');
      const n = readCount(d, 3, 'delta');
      const entries: DocDeltaEntry[] = [];
      for (let i = 0; i < n; i++) {
        const id = readString(d, 'doc id');
        const update = readBytes(d, 'update');
        entries.push(readFlag(d, 'sv flag') ? { id, update, sv: readBytes(d, 'state vector') } : { id, update });
      }
      return { kind, session, mode, reply, entries };
    }
    case 'update':
      return { kind, requestId: readUint(d, 'request id'), docId: readString(d, 'doc id'), update: readBytes(d, 'update') };
    case 'ack':
      return { kind, requestId: readUint(d, 'request id') };
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

function writeHash(e: Encoder, h: Uint8Array): void {
  if (h.byteLength !== HASH_BYTES) throw new RangeError(`hash must be ${HASH_BYTES} bytes`);
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

function readMode(d: Decoder): SyncMode {
  const b = readByte(d, 'mode');
  return MODES[b] ?? fail(`unknown mode ${b}`);
}

function fixedCount<T>(xs: T[], n: number): T[] {
  if (xs.length !== n) throw new RangeError(`expected ${n} entries, got ${xs.length}`);
  return xs;
}
