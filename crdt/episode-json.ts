// The plain JSON view of an episode: what get()/list() return, `tri memory show --json`
// prints and the digest-independent comparisons in tests use. Every collection is emitted in
// a fixed order (sorted tags, sorted keys) so equal replica states give equal JSON text.

import { readSet } from './add-wins-set.js';
import { readCounters } from './counter-slots.js';
import { readRegisters, type FieldValue } from './mv-register.js';
import type { EpisodeParts } from './schema.js';

export interface Episode {
  id: string;
  task: string;
  outcome: string;
  /** Concatenated note text; concurrent appends from different replicas all appear. */
  notes: string;
  /** Sorted, distinct. */
  tags: string[];
  /** Counter name -> sum over every writer's slot. */
  counters: Record<string, number>;
  /** Field name -> JSON value, or { conflict: [v1, v2, ...] } while concurrent sets are unresolved. */
  fields: Record<string, FieldValue>;
  /** Name of the node that created the episode. */
  node: string;
  /** Creation time as given by the writer's injected clock (milliseconds). */
  createdAt: number;
}

export function episodeToJson(id: string, e: EpisodeParts): Episode {
  return {
    id,
    task: e.task,
    outcome: e.outcome,
    notes: e.notes.toString(),
    tags: readSet(e.tags),
    counters: readCounters(e.counters),
    fields: readRegisters(e.fields),
    node: e.node,
    createdAt: e.createdAt,
  };
}

/** List order: createdAt, then id; both are replicated, so every replica lists alike. */
export function compareEpisodes(a: Episode, b: Episode): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
