// How a sync message names documents on the wire (the numbering itself is doc-names.ts): the
// header's name flags, the epochs they announce, and each name as plain text or a number.
// Header flags: 0x80 the sender's 4-byte epoch follows, 0x40 a 1-byte tag of it follows, 0x20 the
// receiver's 4-byte epoch follows. A name: varuint 0 + text (plain) | 3r+1 (our number r)
// | 3r+2 + text (our number r, defined) | 3r+3 (the receiver's number r).
import { DecodeError } from '../errors.js';
import type { NamePlan, NameReader, NameWriter } from './doc-names.js';
import { fail, readByte, readFixed, readString, readUint, writeByte, writeFixed, writeString, writeUint, type Decoder, type Encoder } from './wire.js';

const HAS_EPOCH = 0x80;
const HAS_TAG = 0x40;
const HAS_THEIR_EPOCH = 0x20;

/** A document number the receiver has no table for (see doc-names.ts); the message is dropped. */
export class UnknownRefError extends DecodeError {
  constructor(readonly requestId: number) {
    super('sync message names a document by a number this node does not know; dropped, the sender is told to define it again');
  }
}

/**
 * Writes the header byte (`kind` plus name flags) and the epochs it announces; returns the
 * writer of the body's names. With `names`, ids are written as the writer plans (number, or
 * number and id); without, as plain text.
 */
export function writeHeader(e: Encoder, kind: number, ids: readonly string[], names: NameWriter | undefined): (id: string) => void {
  let header = kind;
  const plans = new Map<string, NamePlan | undefined>();
  if (names) {
    let anyDefined = false;
    let anyRef = false;
    let anyTheirs = false;
    for (const id of ids) {
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
  return (id: string): void => {
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
}

/** Whether the header's name flags are consistent (the full epoch and its tag never both). */
export function validNameFlags(header: number): boolean {
  return !(header & HAS_EPOCH && header & HAS_TAG);
}

export interface NameContext {
  names: NameReader | undefined;
  epoch?: number;
  tag?: number;
  /** The epoch of ours the sender's use of our numbers refers to. */
  ourEpoch?: number;
  defs: Array<[number, string]>;
  /** The push an UnknownRefError names, 0 if none. */
  requestId: number;
  table: ReadonlyMap<number, string> | undefined;
  resolved: boolean;
}

/** Reads the epochs the header announces (after the header byte). */
export function readNameContext(d: Decoder, header: number, names: NameReader | undefined): NameContext {
  const ctx: NameContext = { names, defs: [], requestId: 0, table: undefined, resolved: false };
  if (header & HAS_EPOCH) ctx.epoch = readEpoch(d);
  else if (header & HAS_TAG) ctx.tag = readByte(d, 'epoch tag');
  if (header & HAS_THEIR_EPOCH) ctx.ourEpoch = readEpoch(d);
  return ctx;
}

export function readName(d: Decoder, ctx: NameContext): string {
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

function epochBytes(epoch: number): Uint8Array {
  return Uint8Array.of(epoch & 0xff, (epoch >>> 8) & 0xff, (epoch >>> 16) & 0xff, (epoch >>> 24) & 0xff);
}

function readEpoch(d: Decoder): number {
  const b = readFixed(d, 4, 'epoch');
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}
