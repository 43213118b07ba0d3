// The checks of update-validation.ts, made on the update's bytes instead of on Y.decodeUpdate's
// structs. Y.decodeUpdate builds every Item with its content, a fresh Y.Map or Y.Text for each
// nested type, and Y.applyUpdate then builds them all again: that first decoding was about 30% of
// applying a replicated episode, on every replica of every write (applyRemoteUpdate of an episode
// went from about 43 to 38 us with the scan). This scan reads the same bytes with the same lib0
// readers Yjs uses (so it fails, and measures strings, exactly where Yjs does) and keeps only what
// the checks look at: ids, lengths, references and the content kind.
//
// Content kinds this project never writes (JSON, binary, embed, format, subdocument) are left to
// the decoding check. A content kind or type the schema refuses ends the scan at once (Yjs's
// decoder would have read on, which only changes the message, not the verdict). The differential
// property test (test/property/crdt-update-scan.test.ts) holds the verdicts equal to updateProblem's.
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import type { UpdateSchema } from './update-validation.js';

/** Content kinds by their Yjs ref (the info byte's low 5 bits). */
const DELETED = 1;
const STRING = 4;
const TYPE = 7;
const ANY = 8;
const SKIP = 10;
/** Yjs's typeRefs order: the shared type a ContentType's type ref names. */
const TYPE_CLASSES: ReadonlyArray<abstract new (...args: never[]) => unknown> = [Y.Array, Y.Map, Y.Text, Y.XmlElement, Y.XmlFragment, Y.XmlHook, Y.XmlText];
/** Type refs whose type reads a key (node name) after the ref. */
const TYPE_WITH_KEY = new Set([3, 5]);

const BIT6 = 32;
const BIT7 = 64;
const BIT8 = 128;
const BITS5 = 31;

const enum Kind {
  Gc,
  Skip,
  /** An item whose content is a shared type or deleted: a valid parent. */
  Container,
  Item,
}

interface ScannedStruct {
  client: number;
  clock: number;
  length: number;
  kind: Kind;
}

interface ScannedItem extends ScannedStruct {
  originClient: number;
  originClock: number;
  rightClient: number;
  rightClock: number;
  /** A parent id (client >= 0), a root name, or neither. */
  parentClient: number;
  parentClock: number;
  parentName: string | undefined;
}

/** The scan met a content kind it leaves to Y.decodeUpdate (JSON, binary, embed, format, subdocument). */
export const DECODE_INSTEAD = Symbol('decode-instead');

/** Thrown inside the scan for bytes that do not decode; applyRemoteUpdate turns it into DecodeError. */
export class UpdateScanError extends Error {}

/**
 * updateProblem(doc, Y.decodeUpdate(update), schema) without building the structs: why the v1
 * update must be refused, or undefined when it is safe to apply; DECODE_INSTEAD for the rare
 * content kinds it does not read. Throws (UpdateScanError or lib0's errors) where the bytes do
 * not decode as an update.
 */
export function scanUpdateProblem(doc: Y.Doc, update: Uint8Array, schema: UpdateSchema | undefined): string | undefined | typeof DECODE_INSTEAD {
  const d = decoding.createDecoder(update);
  const structs: ScannedStruct[] = [];
  const items: ScannedItem[] = [];
  const sections = decoding.readVarUint(d);
  for (let i = 0; i < sections; i++) {
    const count = decoding.readVarUint(d);
    const client = decoding.readVarUint(d);
    let clock = decoding.readVarUint(d);
    for (let j = 0; j < count; j++) {
      const info = decoding.readUint8(d);
      let s: ScannedStruct;
      if (info === SKIP) {
        s = { client, clock, length: decoding.readVarUint(d), kind: Kind.Skip };
      } else if ((info & BITS5) !== 0) {
        const item = readItem(d, info, client, clock, schema);
        // A content kind or type the schema refuses (the verdict is known, the rest need not be
        // read), or one left to Y.decodeUpdate.
        if (typeof item !== 'object') return item;
        items.push(item);
        s = item;
      } else {
        s = { client, clock, length: decoding.readVarUint(d), kind: Kind.Gc };
      }
      structs.push(s);
      clock += s.length;
    }
  }
  // The delete set, as Y.decodeUpdate reads it.
  const dsClients = decoding.readVarUint(d);
  for (let i = 0; i < dsClients; i++) {
    decoding.readVarUint(d); // client
    const deletes = decoding.readVarUint(d);
    for (let j = 0; j < deletes; j++) {
      const clock = decoding.readVarUint(d);
      const len = decoding.readVarUint(d);
      if (!(len >= 1) || !Number.isSafeInteger(clock + len)) return 'the delete set has an empty or out-of-range range';
    }
  }
  // The same order of checks as updateProblem (update-validation.ts).
  if (structs.some((s) => !(s.length >= 1) || !Number.isSafeInteger(s.clock + s.length))) return 'a struct has an empty or out-of-range length';
  const byClient = new Map<number, ScannedStruct[]>();
  for (const s of structs) {
    const list = byClient.get(s.client);
    if (list) list.push(s);
    else byClient.set(s.client, [s]);
  }
  for (const item of items) {
    if (refersForward(item)) return 'an item refers to a later struct of its own client';
    if (item.parentClient >= 0) {
      const problem = parentProblem(doc, byClient, item.parentClient, item.parentClock);
      if (problem !== undefined) return problem;
    }
    if (schema && item.parentName !== undefined && !schema.roots.includes(item.parentName)) return `an item is inserted into unknown root "${item.parentName}"`;
  }
  return undefined;
}

/** One item's fields and content; a string when its content is a kind or type the schema refuses. */
function readItem(dec: decoding.Decoder, info: number, client: number, clock: number, schema: UpdateSchema | undefined): ScannedItem | string | typeof DECODE_INSTEAD {
  const cantCopyParentInfo = (info & (BIT7 | BIT8)) === 0;
  const item: ScannedItem = { client, clock, length: 0, kind: Kind.Item, originClient: -1, originClock: 0, rightClient: -1, rightClock: 0, parentClient: -1, parentClock: 0, parentName: undefined };
  if ((info & BIT8) === BIT8) {
    item.originClient = decoding.readVarUint(dec);
    item.originClock = decoding.readVarUint(dec);
  }
  if ((info & BIT7) === BIT7) {
    item.rightClient = decoding.readVarUint(dec);
    item.rightClock = decoding.readVarUint(dec);
  }
  if (cantCopyParentInfo) {
    if (decoding.readVarUint(dec) === 1) item.parentName = decoding.readVarString(dec);
    else {
      item.parentClient = decoding.readVarUint(dec);
      item.parentClock = decoding.readVarUint(dec);
    }
    if ((info & BIT6) === BIT6) decoding.readVarString(dec); // parentSub
  }
  const ref = info & BITS5;
  switch (ref) {
    case DELETED:
      item.length = decoding.readVarUint(dec);
      item.kind = Kind.Container;
      if (schema && !schema.contents.includes(Y.ContentDeleted)) return 'item content of kind ContentDeleted is not allowed';
      break;
    case STRING:
      item.length = decoding.readVarString(dec).length;
      if (schema && !schema.contents.includes(Y.ContentString)) return 'item content of kind ContentString is not allowed';
      break;
    case ANY: {
      const n = decoding.readVarUint(dec);
      for (let k = 0; k < n; k++) decoding.readAny(dec);
      item.length = n;
      if (schema && !schema.contents.includes(Y.ContentAny)) return 'item content of kind ContentAny is not allowed';
      break;
    }
    case TYPE: {
      const typeRef = decoding.readVarUint(dec);
      const cls = TYPE_CLASSES[typeRef];
      if (cls === undefined) throw new UpdateScanError(`unknown shared type ref ${typeRef}`);
      if (TYPE_WITH_KEY.has(typeRef)) decoding.readVarString(dec);
      item.length = 1;
      item.kind = Kind.Container;
      if (schema && !schema.contents.includes(Y.ContentType)) return 'item content of kind ContentType is not allowed';
      // The exact class, as update-validation.ts checks the built type (Y.XmlText is no Y.Text here).
      if (schema && !schema.types.some((t) => cls === t)) return `shared type ${cls.name} is not allowed`;
      break;
    }
    case 2:
    case 3:
    case 5:
    case 6:
    case 9:
      // JSON, binary, embed, format, subdocument: never written by this project; Yjs's decoder
      // (JSON.parse, sub-document options) is the reference for them.
      return DECODE_INSTEAD;
    default:
      throw new UpdateScanError(`unknown item content ref ${ref}`);
  }
  return item;
}

/** causalityProblem of update-validation.ts: a same-client reference must point backwards. */
function refersForward(item: ScannedItem): boolean {
  if (item.originClient === item.client && item.originClock >= item.clock) return true;
  if (item.rightClient === item.client && item.rightClock >= item.clock) return true;
  return item.parentClient === item.client && item.parentClock >= item.clock;
}

/** parentProblem(findParent(...)) of update-validation.ts, on scanned structs. */
function parentProblem(doc: Y.Doc, byClient: Map<number, ScannedStruct[]>, client: number, clock: number): string | undefined {
  const list = byClient.get(client);
  if (list !== undefined) {
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = list[mid]!;
      if (clock < s.clock) hi = mid - 1;
      else if (clock >= s.clock + s.length) lo = mid + 1;
      else return structAsParent(s.kind);
    }
  }
  if (Y.getState(doc.store, client) > clock) {
    const parent = Y.getItem(doc.store, Y.createID(client, clock)) as Y.Item | Y.GC;
    if (parent instanceof Y.GC) return undefined;
    return parent.content instanceof Y.ContentType || parent.content instanceof Y.ContentDeleted ? undefined : 'an item names a non-container struct as its parent';
  }
  return undefined;
}

function structAsParent(kind: Kind): string | undefined {
  if (kind === Kind.Gc || kind === Kind.Container) return undefined;
  if (kind === Kind.Skip) return 'an item names a skipped range as its parent';
  return 'an item names a non-container struct as its parent';
}
