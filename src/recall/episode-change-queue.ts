// What changed in agents' documents since the recall index last folded it in: raw updates for a
// document's first update of the run (decoded at the fold), then the episodes Yjs reports each
// transaction changed (about 30x cheaper per update). RecallService folds what take() returns.
import * as Y from 'yjs';
import { episodesOf } from '../../crdt/schema.js';
import { changedEpisodes } from './episode-changes.js';

/** Queued updates of one agent beyond which a rebuild of that agent is cheaper than replaying them. */
const MAX_QUEUED_PER_AGENT = 4096;

/** Per agent: what to fold in, or 'rebuild' when re-reading the whole document is cheaper. */
export interface EpisodeChanges {
  /** Updates to decode (changedEpisodes) at the fold. */
  updates: Map<string, Uint8Array[] | 'rebuild'>;
  /** Episodes watched transactions reported changed. */
  touched: Map<string, Set<string> | 'rebuild'>;
}

export interface EpisodeChangeQueueOptions {
  /** Whether changes are collected now (the index is open and the service not closed). */
  active: () => boolean;
  /** Something was queued: the service schedules a fold. */
  changed: () => void;
}

export class EpisodeChangeQueue {
  private updates = new Map<string, Uint8Array[] | 'rebuild'>();
  private touched = new Map<string, Set<string> | 'rebuild'>();
  /** Documents whose transactions report the episodes they change (see watch()). */
  private readonly watched = new WeakSet<Y.Doc>();

  constructor(private readonly o: EpisodeChangeQueueOptions) {}

  /** An update of `agent`'s document `doc` (local write or applied remote update). */
  update(agent: string, doc: Y.Doc, update: Uint8Array): void {
    if (this.watched.has(doc)) {
      // Its transactions already named the episodes they touched (watch()).
      this.o.changed();
      return;
    }
    // The first update of a document seen in this run is decoded; from then on Yjs's own
    // record of what each transaction changed is read instead.
    this.watch(doc, agent);
    // Decoded now, against the document that just integrated it: by the fold, a reclaim may have
    // folded a forgotten episode's entry into a GC struct that no longer names it, and its rows stayed.
    const c = changedEpisodes(doc, update);
    if (!c.incomplete) {
      this.touch(agent, c.ids);
      return this.o.changed();
    }
    // Some structs wait on dependencies: the fold decodes it again and rebuilds the agent once settled.
    const q = this.updates.get(agent);
    if (q === undefined) this.updates.set(agent, [update]);
    else if (q !== 'rebuild') {
      if (q.length >= MAX_QUEUED_PER_AGENT) this.updates.set(agent, 'rebuild');
      else q.push(update);
    }
    this.o.changed();
  }

  private touch(agent: string, changed: Iterable<string>): void {
    let ids = this.touched.get(agent);
    if (ids === 'rebuild') return;
    if (!ids) this.touched.set(agent, (ids = new Set()));
    for (const id of changed) ids.add(id);
    if (ids.size > MAX_QUEUED_PER_AGENT) this.touched.set(agent, 'rebuild');
  }

  /** Drops what is queued for `agent` (its document was handed off). */
  forget(agent: string): void {
    this.touched.delete(agent);
    this.updates.delete(agent);
  }

  get empty(): boolean {
    return this.updates.size === 0 && this.touched.size === 0;
  }

  /** Everything queued, leaving the queue empty. */
  take(): EpisodeChanges {
    const taken = { updates: this.updates, touched: this.touched };
    this.updates = new Map();
    this.touched = new Map();
    return taken;
  }

  /**
   * Reads what each transaction on `doc` changed (Yjs lists the types whose entries changed,
   * deletions included, and transactions that integrate pending structs too) and notes the
   * episodes those types belong to.
   */
  private watch(doc: Y.Doc, agent: string): void {
    this.watched.add(doc);
    const root: unknown = episodesOf(doc);
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (!this.o.active() || tr.changed.size === 0) return;
      let ids = this.touched.get(agent);
      if (ids === 'rebuild') return;
      if (!ids) this.touched.set(agent, (ids = new Set()));
      for (const [type, keys] of tr.changed) {
        if (type === root) {
          for (const k of keys) if (k !== null) ids.add(k);
          continue;
        }
        const id = episodeOfType(type, root);
        if (id !== undefined) ids.add(id);
      }
      if (ids.size > MAX_QUEUED_PER_AGENT) this.touched.set(agent, 'rebuild');
      this.o.changed();
    });
  }
}

/** The episode a nested type (notes, tags, counters, fields, or the episode map) belongs to. */
function episodeOfType(type: { _item: Y.Item | null }, root: unknown): string | undefined {
  let item = type._item;
  for (let depth = 0; item !== null && depth < 8; depth++) {
    const parent = item.parent;
    if (parent === root) return item.parentSub ?? undefined;
    if (!(parent instanceof Y.AbstractType)) return undefined;
    item = parent._item;
  }
  return undefined;
}
