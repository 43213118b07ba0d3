// Which members have clients on which document, so awareness (cursors, presence) is relayed only
// to the members that have a client to show it to, not to every member of the cluster.
// Soft state, sans-IO: each node announces the documents it has clients on when a room opens
// ('add') or closes ('remove'), and all of them again on every refresh (every tick); an
// interest not renewed within INTEREST_TTL_MS lapses, so a lost announcement or a member that
// restarted heals within one refresh. A member that learns of a new interest in a document it has
// clients on answers at once (its own 'add' and its clients' states), so a client that just
// connected sees the others' cursors without waiting for their 15 s renewal.
// Bounded: at most MAX_DOCS_PER_MEMBER documents per member are kept, document ids are at most
// 256 bytes, DOCS_PER_FRAME per announcement frame.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedString, readBoundedUint } from '../codec.js';

/** An interest lapses unless renewed within this (three refreshes of the hub's 5 s tick). */
export const INTEREST_TTL_MS = 15_000;
/** Documents one member may hold an interest in, as far as this node keeps track. */
export const MAX_DOCS_PER_MEMBER = 20_000;
const MAX_DOC_ID = 256;
const MAX_NAME = 64;
/** Document ids per announcement frame (more travel in several frames). */
export const DOCS_PER_FRAME = 1_000;

export type InterestKind = 'add' | 'remove' | 'refresh';
const KIND_CODE: Record<InterestKind, number> = { add: 0, remove: 1, refresh: 2 };
const KINDS: InterestKind[] = ['add', 'remove', 'refresh'];

export interface InterestMessage {
  from: string;
  kind: InterestKind;
  docs: string[];
}

export function encodeInterest(m: InterestMessage): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, m.from);
  encoding.writeVarUint(e, KIND_CODE[m.kind]);
  encoding.writeVarUint(e, m.docs.length);
  for (const d of m.docs) encoding.writeVarString(e, d);
  return encoding.toUint8Array(e);
}

/** Throws DecodeError on anything malformed or beyond the bounds. */
export function decodeInterest(payload: Uint8Array): InterestMessage {
  return decodeWith(payload, 'awareness interest', (d: decoding.Decoder) => {
    const from = readBoundedString(d, MAX_NAME, 'sender');
    const kind = KINDS[readBoundedUint(d, KINDS.length - 1, 'interest kind')]!;
    const n = readBoundedUint(d, DOCS_PER_FRAME, 'document count');
    const docs: string[] = [];
    for (let i = 0; i < n; i++) docs.push(readBoundedString(d, MAX_DOC_ID, 'document id'));
    return { from, kind, docs };
  });
}

/** One announcement as frames of at most DOCS_PER_FRAME documents each. */
export function interestFrames(from: string, kind: InterestKind, docs: readonly string[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < docs.length; i += DOCS_PER_FRAME) frames.push(encodeInterest({ from, kind, docs: docs.slice(i, i + DOCS_PER_FRAME) }));
  return frames;
}

export class AwarenessInterest {
  /** member -> document -> when its interest lapses. */
  private readonly byMember = new Map<string, Map<string, number>>();

  /**
   * Takes an announcement; returns the documents newly of interest to `from` (to answer with our
   * own interest and states where we have clients on them).
   */
  apply(m: InterestMessage, now: number): string[] {
    let docs = this.byMember.get(m.from);
    if (m.kind === 'remove') {
      for (const d of m.docs) docs?.delete(d);
      if (docs?.size === 0) this.byMember.delete(m.from);
      return [];
    }
    if (!docs) this.byMember.set(m.from, (docs = new Map()));
    // A document the member stopped announcing lapses with its TTL (a refresh need not list removals).
    const until = now + INTEREST_TTL_MS;
    const fresh: string[] = [];
    for (const d of m.docs) {
      const was = docs.get(d);
      if (was === undefined && docs.size >= MAX_DOCS_PER_MEMBER) continue;
      if (was === undefined || was <= now) fresh.push(d);
      docs.set(d, until);
    }
    return fresh;
  }

  /** The members (among `live`) with clients on `docId`. */
  interested(docId: string, live: readonly string[], now: number): string[] {
    const out: string[] = [];
    for (const member of live) {
      const until = this.byMember.get(member)?.get(docId);
      if (until !== undefined && until > now) out.push(member);
    }
    return out;
  }

  /** Whether any member has clients on `docId` (members gone stay until the next expire()). */
  anyInterested(docId: string, now: number): boolean {
    for (const docs of this.byMember.values()) {
      const until = docs.get(docId);
      if (until !== undefined && until > now) return true;
    }
    return false;
  }

  /** Drops lapsed interests and members no longer alive. */
  expire(now: number, live: ReadonlySet<string>): void {
    for (const [member, docs] of this.byMember) {
      if (!live.has(member)) {
        this.byMember.delete(member);
        continue;
      }
      for (const [d, until] of docs) if (until <= now) docs.delete(d);
      if (docs.size === 0) this.byMember.delete(member);
    }
  }

  /** Interests held, over all members (a bound checked by tests). */
  get size(): number {
    let n = 0;
    for (const docs of this.byMember.values()) n += docs.size;
    return n;
  }
}
