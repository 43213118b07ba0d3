// Checks of a client's update or state vector against a document, for the Yjs hub (pure, no I/O).
import * as Y from 'yjs';

/** What a client update is checked against where the node has no copy of the document. */
export const EMPTY_DOC = new Y.Doc();

/** The state vector of a client that has nothing (no client ids: one zero byte). */
export function isEmptyStateVector(sv: Uint8Array): boolean {
  return sv.byteLength === 1 && sv[0] === 0;
}

/** Whether two updates are the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** Whether every struct the update inserts is in the document now (by clock range per client). */
export function integrated(doc: Y.Doc, update: Uint8Array): boolean {
  const { to } = Y.parseUpdateMeta(update);
  for (const [client, clock] of to) if (Y.getState(doc.store, client) < clock) return false;
  return true;
}

/** Whether applying `update` would change nothing (everything in it is already in the document). */
export function addsNothing(doc: Y.Doc, update: Uint8Array): boolean {
  try {
    return Y.snapshotContainsUpdate(Y.snapshot(doc), update);
  } catch {
    return false;
  }
}

/**
 * Whether `update` refers to structs that neither `doc` nor the update itself holds (Yjs would keep
 * it pending): a gap before a client's first struct in it, or an origin or parent it lacks.
 */
export function lacksDependencies(doc: Y.Doc, update: Uint8Array): boolean {
  const { structs } = Y.decodeUpdate(update);
  const own = new Map<number, { from: number; to: number }>();
  for (const s of structs) {
    const r = own.get(s.id.client);
    if (r) r.to = Math.max(r.to, s.id.clock + s.length);
    else own.set(s.id.client, { from: s.id.clock, to: s.id.clock + s.length });
  }
  const state = (client: number): number => Y.getState(doc.store, client);
  for (const [client, r] of own) if (r.from > state(client)) return true;
  const has = (id: Y.ID | null): boolean => {
    if (id === null) return true;
    if (id.clock < state(id.client)) return true;
    const r = own.get(id.client);
    return r !== undefined && id.clock >= r.from && id.clock < r.to;
  };
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue;
    if (!has(s.origin) || !has(s.rightOrigin)) return true;
    if (s.parent instanceof Y.ID && !has(s.parent)) return true;
  }
  return false;
}

/** lacksDependencies, false for an update that does not decode (the schema check refuses it next). */
export function dependsOnMissing(doc: Y.Doc, update: Uint8Array): boolean {
  try {
    return lacksDependencies(doc, update);
  } catch {
    return false;
  }
}
