// Checks of a client's update or state vector against a document, for the Yjs hub (pure, no I/O).
import * as Y from 'yjs';

/** What a client update is checked against where the node has no copy of the document. */
export const EMPTY_DOC = new Y.Doc();

/** The state vector of a client that has nothing (no client ids: one zero byte). */
export function isEmptyStateVector(sv: Uint8Array): boolean {
  return sv.byteLength === 1 && sv[0] === 0;
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
