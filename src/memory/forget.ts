// Forgetting: deleting episodes from an agent's document, and the per-agent retention policy
// (maxEpisodes, maxAge) that decides which ones to delete on its own.
//
// A forget is an ordinary replicated write (a Yjs delete of the episode's key under the
// `episodes` root), so it needs quorum like any write and every replica applies the same delete:
// their state vectors and delete sets, hence their digests, stay equal. An edit made concurrently
// with the forget (a note appended on another node) lands inside a deleted episode and Yjs
// integrates it as deleted, so a forgotten episode cannot come back by merge. Yjs garbage
// collection drops the deleted content from the document; reclaim.ts then rewrites what the store
// holds, so the content leaves the data directory too.
//
// The policy lives in the agent's own document, under the reserved key POLICY_KEY of the
// `episodes` root (a JSON value, not an episode map, so every reader skips it and the memory
// schema accepts it on every version). Concurrent policy changes resolve as Yjs map keys do
// (one of them wins, the same on every replica): a policy is configuration, set by an operator.
import * as Y from 'yjs';
import type { AgentMemoryDoc } from '../../crdt/index.js';
import { episodesOf, KEY } from '../../crdt/schema.js';
import { SegmentedMemory } from '../../crdt/segmented-memory.js';
import { UsageError } from '../errors.js';

export const POLICY_KEY = '~policy';

export interface RetentionPolicy {
  /** Keep at most this many episodes (the newest); undefined: no count limit. */
  maxEpisodes?: number;
  /** Forget episodes created longer ago than this (milliseconds); undefined: no age limit. */
  maxAgeMs?: number;
}

export function checkPolicy(p: RetentionPolicy): RetentionPolicy {
  if (typeof p !== 'object' || p === null) throw new UsageError('a retention policy is an object {maxEpisodes?, maxAgeMs?}');
  const out: RetentionPolicy = {};
  if (p.maxEpisodes !== undefined && p.maxEpisodes !== null) {
    if (!Number.isInteger(p.maxEpisodes) || p.maxEpisodes < 0) throw new UsageError(`maxEpisodes must be a whole number of episodes, got ${String(p.maxEpisodes)}`);
    out.maxEpisodes = p.maxEpisodes;
  }
  if (p.maxAgeMs !== undefined && p.maxAgeMs !== null) {
    if (!Number.isInteger(p.maxAgeMs) || p.maxAgeMs <= 0) throw new UsageError(`maxAge must be a positive duration, got ${String(p.maxAgeMs)} ms`);
    out.maxAgeMs = p.maxAgeMs;
  }
  return out;
}

/** The agent's policy, or undefined when none was set. */
export function readPolicy(doc: Y.Doc): RetentionPolicy | undefined {
  const v = episodesOf(doc).get(POLICY_KEY) as unknown;
  if (typeof v !== 'object' || v === null || v instanceof Y.AbstractType) return undefined;
  try {
    const p = checkPolicy(v as RetentionPolicy);
    return p.maxEpisodes === undefined && p.maxAgeMs === undefined ? undefined : p;
  } catch {
    return undefined; // a malformed policy from a peer is ignored alike on every replica
  }
}

/** Sets (or, with an empty policy, clears) the policy; call inside a quorum write. */
export function writePolicy(mem: AgentMemoryDoc, p: RetentionPolicy): void {
  const policy = checkPolicy(p);
  const root = episodesOf(mem.doc);
  mem.doc.transact(() => {
    if (policy.maxEpisodes === undefined && policy.maxAgeMs === undefined) root.delete(POLICY_KEY);
    else root.set(POLICY_KEY, policy as unknown as Y.Map<unknown>);
  }, mem);
}

/** The agent's documents this node holds: the root, then (split agent) its segments in order. */
export function memoryDocs(mem: AgentMemoryDoc): AgentMemoryDoc[] {
  return mem instanceof SegmentedMemory ? mem.heldDocs() : [mem];
}

/**
 * Deletes the given episodes, each in the document that holds it (rule 7 of
 * docs/segmented-memory.md; both copies of a rule-3 duplicate), one transaction per document;
 * returns how many episodes existed.
 */
export function forgetEpisodes(mem: AgentMemoryDoc, ids: readonly string[]): number {
  const gone = new Set<string>();
  for (const d of memoryDocs(mem)) {
    const root = episodesOf(d.doc);
    const present = ids.filter((id) => id !== POLICY_KEY && root.get(id) instanceof Y.Map);
    if (present.length > 0) d.doc.transact(() => present.forEach((id) => root.delete(id)), d);
    for (const id of present) gone.add(id);
  }
  return gone.size;
}

/** Every episode id the document holds (the reserved keys aside). */
export function episodeIds(doc: Y.Doc): string[] {
  const ids: string[] = [];
  episodesOf(doc).forEach((v, id) => {
    if (id !== POLICY_KEY && v instanceof Y.Map) ids.push(id);
  });
  return ids;
}

/** Every episode id of the agent, over all its documents held here. */
export function memoryEpisodeIds(mem: AgentMemoryDoc): string[] {
  return [...new Set(memoryDocs(mem).flatMap((d) => episodeIds(d.doc)))];
}

/** The episodes the policy says to forget at wall time `now`: too old, or beyond the newest maxEpisodes (over every given document). */
export function overPolicy(docs: Y.Doc | readonly Y.Doc[], policy: RetentionPolicy, now: number): string[] {
  const all: Array<{ id: string; at: number }> = [];
  const seen = new Set<string>();
  for (const doc of Array.isArray(docs) ? docs : [docs as Y.Doc]) {
    episodesOf(doc).forEach((v, id) => {
      if (id === POLICY_KEY || !(v instanceof Y.Map) || seen.has(id)) return;
      seen.add(id);
      const at = v.get(KEY.createdAt);
      all.push({ id, at: typeof at === 'number' ? at : 0 });
    });
  }
  const out = new Set<string>();
  if (policy.maxAgeMs !== undefined) for (const e of all) if (e.at < now - policy.maxAgeMs) out.add(e.id);
  if (policy.maxEpisodes !== undefined && all.length > policy.maxEpisodes) {
    all.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    for (const e of all.slice(policy.maxEpisodes)) out.add(e.id);
  }
  return [...out];
}
