// Checks on a decoded update that Yjs itself does not make before integrating. Yjs trusts
// its input: an item whose parent id names a struct that is not a shared type makes
// integration throw halfway through a transaction, leaving the structs before it applied.
// Rejecting such updates up front is what lets applyRemoteUpdate promise "DecodeError and
// nothing changed". The optional schema also keeps foreign roots and content kinds (XML,
// embeds, binary, subdocs) out of a memory document, whose readers would not understand them.
// applyRemoteUpdate makes the same checks on the bytes (update-scan.ts) and uses these only for
// the content kinds the scan leaves to Y.decodeUpdate; a property test holds the two to one verdict.

import * as Y from 'yjs';

export interface UpdateSchema {
  /** Root type names items may be inserted into directly. */
  roots: readonly string[];
  /** Allowed item content classes (e.g. Y.ContentAny). */
  contents: readonly (abstract new (...args: never[]) => unknown)[];
  /** Allowed shared type classes inside ContentType (e.g. Y.Map). */
  types: readonly (abstract new (...args: never[]) => unknown)[];
}

type Struct = Y.GC | Y.Item | Y.Skip;
/** Y.DeleteSet is not re-exported by name from yjs's index. */
type DeleteSet = ReturnType<typeof Y.createDeleteSet>;

/** Structs of one update by client, in clock order (decodeUpdate emits them that way). */
function indexByClient(structs: Struct[]): Map<number, Struct[]> {
  const byClient = new Map<number, Struct[]>();
  for (const s of structs) {
    const list = byClient.get(s.id.client) ?? [];
    list.push(s);
    byClient.set(s.id.client, list);
  }
  return byClient;
}

function findInUpdate(byClient: Map<number, Struct[]>, id: Y.ID): Struct | undefined {
  const list = byClient.get(id.client);
  if (list === undefined) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = list[mid] as Struct;
    if (id.clock < s.id.clock) hi = mid - 1;
    else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** The struct `id` names, in the update or already in the doc; undefined if still missing. */
function findParent(doc: Y.Doc, byClient: Map<number, Struct[]>, id: Y.ID): Struct | undefined {
  const inUpdate = findInUpdate(byClient, id);
  if (inUpdate !== undefined) return inUpdate;
  if (Y.getState(doc.store, id.client) > id.clock) return Y.getItem(doc.store, id);
  return undefined;
}

/** A parent must be a live-or-collected shared type; anything else would crash integration. */
function parentProblem(parent: Struct | undefined): string | undefined {
  if (parent === undefined || parent instanceof Y.GC) return undefined;
  if (parent instanceof Y.Skip) return 'an item names a skipped range as its parent';
  if (parent.content instanceof Y.ContentType || parent.content instanceof Y.ContentDeleted) return undefined;
  return 'an item names a non-container struct as its parent';
}

function schemaProblem(item: Y.Item, schema: UpdateSchema): string | undefined {
  const parent: unknown = item.parent;
  if (typeof parent === 'string' && !schema.roots.includes(parent)) {
    return `an item is inserted into unknown root "${parent}"`;
  }
  const content: unknown = item.content;
  if (!schema.contents.some((c) => content instanceof c)) {
    return `item content of kind ${(content as object)?.constructor?.name ?? typeof content} is not allowed`;
  }
  // The exact class: Y.XmlText and Y.XmlHook extend Y.Text and Y.Map, and a schema that allows
  // those must not let XML in through them.
  if (content instanceof Y.ContentType && !schema.types.some((t) => content.type.constructor === t)) {
    return `shared type ${content.type.constructor.name} is not allowed`;
  }
  return undefined;
}

/**
 * Yjs integrates one client's structs in clock order and therefore assumes a reference to
 * the same client points backwards; it only checks other clients' references for missing
 * dependencies. A forward same-client reference makes it look up a struct that does not
 * exist and throw in the middle of integration.
 */
function causalityProblem(item: Y.Item): string | undefined {
  const parent = item.parent instanceof Y.ID ? item.parent : null;
  for (const ref of [item.origin, item.rightOrigin, parent]) {
    if (ref !== null && ref.client === item.id.client && ref.clock >= item.id.clock) {
      return 'an item refers to a later struct of its own client';
    }
  }
  return undefined;
}

/**
 * Yjs re-encodes the unresolved part of a delete set with an encoder that throws on an
 * empty range, after the structs were already integrated; empty structs are as suspect.
 */
function lengthProblem(structs: Struct[], ds: DeleteSet): string | undefined {
  if (structs.some((s) => !(s.length >= 1) || !Number.isSafeInteger(s.id.clock + s.length))) {
    return 'a struct has an empty or out-of-range length';
  }
  for (const ranges of ds.clients.values()) {
    if (ranges.some((r) => !(r.len >= 1) || !Number.isSafeInteger(r.clock + r.len))) {
      return 'the delete set has an empty or out-of-range range';
    }
  }
  return undefined;
}

/** Returns why the decoded update must be refused, or undefined when it is safe to apply. */
export function updateProblem(
  doc: Y.Doc,
  decoded: { structs: Struct[]; ds: DeleteSet },
  schema: UpdateSchema | undefined,
): string | undefined {
  const { structs, ds } = decoded;
  const lengths = lengthProblem(structs, ds);
  if (lengths !== undefined) return lengths;
  const byClient = indexByClient(structs);
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue;
    const causal = causalityProblem(s);
    if (causal !== undefined) return causal;
    if (s.parent instanceof Y.ID) {
      const problem = parentProblem(findParent(doc, byClient, s.parent));
      if (problem !== undefined) return problem;
    }
    if (schema !== undefined) {
      const problem = schemaProblem(s, schema);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}
