// Which episodes of an agent's document one Yjs update touched, found by walking each struct it
// carries (and each range it deletes) up to its episode's map in the document it was applied to.
// An update holding structs the document has not integrated yet (waiting on missing
// dependencies) is reported incomplete: those structs arrive with a later update's event that
// does not carry them, so the caller rebuilds the agent once the document has nothing pending.
import * as Y from 'yjs';
import { EPISODES_ROOT } from '../../crdt/schema.js';

export interface EpisodeChanges {
  ids: Set<string>;
  /** Some structs are not integrated yet (pending): the ids may be missing some. */
  incomplete: boolean;
}

export function changedEpisodes(doc: Y.Doc, update: Uint8Array): EpisodeChanges {
  const root = doc.getMap(EPISODES_ROOT);
  const out: EpisodeChanges = { ids: new Set(), incomplete: false };
  const { structs, ds } = Y.decodeUpdate(update);
  const visit = (client: number, from: number, to: number): void => {
    let clock = from;
    while (clock < to) {
      if (Y.getState(doc.store, client) <= clock) {
        out.incomplete = true;
        return;
      }
      const s = Y.getItem(doc.store, Y.createID(client, clock)) as Y.Item | Y.GC;
      if (s instanceof Y.Item) {
        const id = episodeOf(s, root);
        if (id !== undefined) out.ids.add(id);
      }
      clock = s.id.clock + s.length;
    }
  };
  for (const s of structs) {
    // An update carries whole new structs: the first item of the range names the same parent as the rest.
    if (s instanceof Y.Item) visit(s.id.client, s.id.clock, s.id.clock + 1);
  }
  for (const [client, ranges] of ds.clients) for (const r of ranges) visit(client, r.clock, r.clock + r.len);
  return out;
}

/** The id of the episode an item belongs to, or undefined for items outside any episode. */
function episodeOf(item: Y.Item, root: unknown): string | undefined {
  let x: Y.Item = item;
  for (let depth = 0; depth < 8; depth++) {
    const parent = x.parent;
    if (!(parent instanceof Y.AbstractType)) return undefined;
    if (parent === root) return x.parentSub ?? undefined;
    const up = parent._item;
    if (up === null) return undefined;
    x = up;
  }
  return undefined;
}
