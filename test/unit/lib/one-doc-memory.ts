// The `docs` side of a MemoryService fake holding one Y.Doc, for the Yjs hub tests: local
// updates reach the hub's listeners, and state vectors and diffs come from the document.
import * as Y from 'yjs';

export function oneDocMemory(doc: Y.Doc, name: string) {
  const listeners: Array<(id: string, u: Uint8Array, origin: unknown) => void> = [];
  doc.on('update', (u: Uint8Array, origin: unknown) => {
    for (const l of listeners) l(name, u, origin);
  });
  return {
    onLocalUpdate: (cb: (id: string, u: Uint8Array, origin: unknown) => void) => void listeners.push(cb),
    stateVector: () => Y.encodeStateVector(doc),
    diff: (_id: string, sv: Uint8Array) => Y.encodeStateAsUpdate(doc, sv),
    doc: () => doc,
    ids: () => [name],
  };
}

/** The update a change to `doc` made inside `f` produces. */
export function editOf(doc: Y.Doc, f: () => void): Uint8Array {
  let u: Uint8Array | undefined;
  const h = (x: Uint8Array): void => void (u = x);
  doc.on('update', h);
  f();
  doc.off('update', h);
  return u!;
}
