// One page of an agent's episodes (paging.ts): keys are read cheaply from each episode's map
// (creation time and id), and only the episodes of the page are turned into JSON, so a page of
// 50 out of 100,000 episodes costs a pass over the keys, not 100,000 conversions.
import * as Y from 'yjs';
import type { AgentMemoryDoc, Episode } from '../../crdt/index.js';
import { episodeToJson } from '../../crdt/episode-json.js';
import { readSet } from '../../crdt/add-wins-set.js';
import { episodeParts, episodesOf, KEY, type EpisodeMap } from '../../crdt/schema.js';
import { UsageError } from '../errors.js';
import { takePage, type Page, type PageKey, type PageQuery } from '../paging.js';

export interface EpisodeQuery extends PageQuery {
  /** Only episodes carrying this tag. */
  tag?: string;
  /** Only episodes with this outcome. */
  outcome?: string;
}

interface EpisodeKey extends PageKey {
  map: EpisodeMap;
}

export function episodePage(doc: AgentMemoryDoc | undefined, q: EpisodeQuery = {}): Page<Episode> {
  if (q.tag !== undefined && (typeof q.tag !== 'string' || q.tag.length === 0)) throw new UsageError('--tag must be a non-empty string');
  if (q.outcome !== undefined && typeof q.outcome !== 'string') throw new UsageError('--outcome must be a string');
  const keys: EpisodeKey[] = [];
  if (doc) {
    episodesOf(doc.doc).forEach((map, id) => {
      const at = map instanceof Y.Map ? map.get(KEY.createdAt) : undefined;
      if (typeof at === 'number') keys.push({ at, id, map });
    });
  }
  return takePage(
    keys,
    q,
    (k) => {
      const parts = episodeParts(k.map);
      if (!parts) return undefined;
      if (q.outcome !== undefined && parts.outcome !== q.outcome) return undefined;
      if (q.tag !== undefined && !readSet(parts.tags).includes(q.tag)) return undefined;
      return episodeToJson(k.id, parts);
    },
    (e) => Buffer.byteLength(JSON.stringify(e)),
  );
}
