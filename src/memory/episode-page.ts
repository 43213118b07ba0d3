// One page of an agent's episodes (paging.ts): keys are read cheaply from each episode's map
// (creation time and id), and only the episodes of the page are turned into JSON, so a page of
// 50 out of 100,000 episodes costs a pass over the keys, not 100,000 conversions.
import * as Y from 'yjs';
import type { AgentMemoryDoc, Episode } from '../../crdt/index.js';
import { episodeToJson } from '../../crdt/episode-json.js';
import { readSet } from '../../crdt/add-wins-set.js';
import { episodeParts, episodesOf, KEY, type EpisodeMap } from '../../crdt/schema.js';
import { UsageError } from '../errors.js';
import { memoryDocs } from './forget.js';
import { takePage, type Page, type PageKey, type PageQuery } from '../paging.js';

export interface EpisodeQuery extends PageQuery {
  /** Only episodes carrying this tag. */
  tag?: string;
  /** Only episodes with this outcome. */
  outcome?: string;
}

interface EpisodeKey extends PageKey {
  map: EpisodeMap;
  /** Held by two documents of a split agent (rule 3 of docs/segmented-memory.md): read merged. */
  twice?: boolean;
}

export function episodePage(doc: AgentMemoryDoc | undefined, q: EpisodeQuery = {}): Page<Episode> {
  if (q.tag !== undefined && (typeof q.tag !== 'string' || q.tag.length === 0)) throw new UsageError('--tag must be a non-empty string');
  if (q.outcome !== undefined && typeof q.outcome !== 'string') throw new UsageError('--outcome must be a string');
  const keys: EpisodeKey[] = [];
  // A split agent's page merges the root's and its segments' keys (rule 4, before the index serves it).
  const docs = doc ? memoryDocs(doc) : [];
  const seen = docs.length > 1 ? new Map<string, EpisodeKey>() : undefined;
  for (const d of docs) {
    episodesOf(d.doc).forEach((map, id) => {
      const at = map instanceof Y.Map ? map.get(KEY.createdAt) : undefined;
      if (typeof at !== 'number') return;
      const first = seen?.get(id);
      if (first) first.twice = true;
      else {
        const key: EpisodeKey = { at, id, map };
        seen?.set(id, key);
        keys.push(key);
      }
    });
  }
  return takePage(
    keys,
    q,
    (k) => {
      const parts = episodeParts(k.map);
      if (!parts) return undefined;
      if (k.twice && doc) {
        const e = doc.get(k.id);
        return e && (q.outcome === undefined || e.outcome === q.outcome) && (q.tag === undefined || e.tags.includes(q.tag)) ? e : undefined;
      }
      if (q.outcome !== undefined && parts.outcome !== q.outcome) return undefined;
      if (q.tag !== undefined && !readSet(parts.tags).includes(q.tag)) return undefined;
      return episodeToJson(k.id, parts);
    },
    (e) => Buffer.byteLength(JSON.stringify(e)),
  );
}
