// Folding the tombstones of deleted root-map keys (forgotten episodes, trimmed tasks).
//
// Yjs keeps a deleted entry of a map for ever: its Item (with the key) stays in the map and in
// the struct store, so that a concurrent set of the same key can be ordered against it. For a
// root map whose keys are never set again once deleted (episode ids, task ids: docs/retention.md,
// "Tombstones"), that Item orders nothing. Folding replaces it by a GC struct of the same clock
// range, drops the key from the map, and merges adjacent GC structs (the episode's own content
// was already collected into one), so a forgotten episode costs nothing once folded.
//
// What stays equal: the state vector (the same clock ranges exist) and the delete set (a GC
// struct counts as deleted), hence the document digest and every diff another replica asks for.
// What changes, identically on every replica that folded: an update arriving later whose item
// names the folded Item as its parent (an edit inside the forgotten episode) or its origin (a set
// of that key made by a replica that still had the tombstone) is integrated as deleted, which is
// what an unfolded replica ends with too once the delete reaches it.
import * as Y from 'yjs';

interface YMapInternals {
  _map: Map<string, Y.Item>;
}
interface StoreInternals {
  clients: Map<number, Array<Y.Item | Y.GC>>;
}

/** Keys starting with this are records (policy, trimmed-id records) that may be set again: never folded. */
const RECORD_MARK = '~';

/** The deleted, already garbage-collected entries of `root` that can be folded (key -> its chain of Items). */
function foldable<T>(root: Y.Map<T>): Map<string, Y.Item[]> {
  const out = new Map<string, Y.Item[]>();
  for (const [key, last] of (root as unknown as YMapInternals)._map) {
    if (key.startsWith(RECORD_MARK) || !last.deleted) continue;
    const chain: Y.Item[] = [];
    let ok = true;
    for (let it: Y.Item | null = last; it !== null; it = it.left as Y.Item | null) {
      // Not collected (gc off, or kept by a filter): its content may still be read, leave it.
      if (!(it instanceof Y.Item) || !it.deleted || !(it.content instanceof Y.ContentDeleted) || it.parentSub !== key) {
        ok = false;
        break;
      }
      chain.push(it);
    }
    if (ok) out.set(key, chain);
  }
  return out;
}

/** How many deleted entries of `root` could be folded now (cheap: one pass over the map's keys). */
export function foldableCount<T>(root: Y.Map<T>): number {
  let n = 0;
  for (const [key, last] of (root as unknown as YMapInternals)._map) if (last.deleted && !key.startsWith(RECORD_MARK)) n++;
  return n;
}

/**
 * Folds every foldable deleted entry of the root maps `roots` of `doc`; returns how many keys
 * were folded. Must not run inside a transaction (nothing in Yjs may hold the replaced Items).
 */
export function foldTombstones(doc: Y.Doc, roots: readonly string[]): number {
  if (doc._transaction !== null) throw new Error('foldTombstones inside a transaction');
  const victims = new Set<Y.Item>();
  let keys = 0;
  for (const name of roots) {
    if (!doc.share.has(name)) continue;
    const root = doc.getMap<unknown>(name);
    const map = (root as unknown as YMapInternals)._map;
    for (const [key, chain] of foldable(root)) {
      map.delete(key);
      for (const it of chain) victims.add(it);
      keys++;
    }
  }
  if (keys === 0) return 0;
  for (const structs of (doc.store as unknown as StoreInternals).clients.values()) {
    let w = 0;
    for (let r = 0; r < structs.length; r++) {
      const s = structs[r]!;
      const next = victims.has(s as Y.Item) ? new Y.GC(s.id, s.length) : s;
      const prev = w > 0 ? structs[w - 1]! : undefined;
      // Adjacent GC structs cover adjacent clocks (the array is the client's clock order): one struct.
      if (next instanceof Y.GC && prev instanceof Y.GC) prev.length += next.length;
      else structs[w++] = next;
    }
    structs.length = w;
  }
  return keys;
}
