// Layout of an agent's memory inside its Y.Doc. Kept in one place because the update
// validator, the JSON view and the writers must agree on it.
//
//   doc.getMap('episodes'): id -> Y.Map (one per episode, created once by its writer)
//     task, outcome, node, createdAt   plain values, written once at creation
//     notes      Y.Text                 concurrent appends are all kept, each as one run
//     counters   Y.Map  "<clientID>:<name>" -> number   one slot per writer (counter-slots.ts)
//     tags       Y.Map  dot -> tag                       add-wins set (add-wins-set.ts)
//     fields     Y.Map  dot -> {f, v}                     multi-value register (mv-register.ts)
//
// Nested types are created only inside addEpisode, together with their parent, because two
// replicas that each created `counters` for the same episode would race on the parent key
// and one whole sub-map would silently lose.

import * as Y from 'yjs';

export const EPISODES_ROOT = 'episodes';

export const KEY = {
  task: 'task',
  outcome: 'outcome',
  node: 'node',
  createdAt: 'createdAt',
  notes: 'notes',
  counters: 'counters',
  tags: 'tags',
  fields: 'fields',
} as const;

export type EpisodeMap = Y.Map<unknown>;

export function episodesOf(doc: Y.Doc): Y.Map<EpisodeMap> {
  return doc.getMap<EpisodeMap>(EPISODES_ROOT);
}

export interface EpisodeParts {
  map: EpisodeMap;
  task: string;
  outcome: string;
  node: string;
  createdAt: number;
  notes: Y.Text;
  counters: Y.Map<unknown>;
  tags: Y.Map<unknown>;
  fields: Y.Map<unknown>;
}

/**
 * The typed parts of an episode, or undefined if it lacks one. Honest writers create an
 * episode and all its parts in one transaction, so every replica sees all of them or none.
 * A part missing or of the wrong type can only come from a peer that does not follow the
 * schema; such an episode is hidden from reads and refused for writes on every replica
 * alike, instead of crashing readers.
 */
export function episodeParts(value: unknown): EpisodeParts | undefined {
  if (!(value instanceof Y.Map)) return undefined;
  const map = value as EpisodeMap;
  const [task, outcome, node, createdAt] = [KEY.task, KEY.outcome, KEY.node, KEY.createdAt].map((k) => map.get(k));
  const [notes, counters, tags, fields] = [KEY.notes, KEY.counters, KEY.tags, KEY.fields].map((k) => map.get(k));
  if (typeof task !== 'string' || typeof outcome !== 'string' || typeof node !== 'string') return undefined;
  if (typeof createdAt !== 'number' || !(notes instanceof Y.Text)) return undefined;
  if (!(counters instanceof Y.Map) || !(tags instanceof Y.Map) || !(fields instanceof Y.Map)) return undefined;
  return { map, task, outcome, node, createdAt, notes, counters, tags, fields };
}

/**
 * A "dot": the id (client, clock) of the struct the next write in this transaction creates.
 * Unique per write on every replica, so it names one add in the OR-set and one value in the
 * register without coordination, and it is deterministic given the client id.
 */
export function nextDot(doc: Y.Doc): string {
  return `${doc.clientID}.${Y.getState(doc.store, doc.clientID)}`;
}

/** Orders dots by client then clock, numerically: the same on every replica. */
export function compareDots(a: string, b: string): number {
  const [ac = 0, ak = 0] = a.split('.').map(Number);
  const [bc = 0, bk = 0] = b.split('.').map(Number);
  return ac - bc || ak - bk;
}
