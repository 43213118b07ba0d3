// Tags as an add-wins (observed-remove) set. Each add stores the tag under a fresh dot key;
// a remove deletes only the dots it has seen. An add made concurrently with a remove has a
// dot the remover never saw, so it survives: add wins. A plain Y.Map key per tag would not
// do this: Yjs resolves concurrent writes to one key by deleting all but one of them, so an
// add could be swallowed by a concurrent remove of a sibling write.

import type * as Y from 'yjs';
import { UsageError } from '../errors/index.js';
import { nextDot } from './schema.js';

export function assertTag(tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new UsageError('a tag must be a non-empty string');
  }
}

function observedDots(set: Y.Map<unknown>, tag: string): string[] {
  const dots: string[] = [];
  set.forEach((value, dot) => {
    if (value === tag) dots.push(dot);
  });
  return dots;
}

/**
 * Adds `tag` under a new dot. The dots this replica already saw for the same tag are removed
 * in the same transaction: the new dot supersedes them, which keeps one live dot per tag
 * instead of one per add, without changing add-wins behaviour.
 */
export function addToSet(set: Y.Map<unknown>, doc: Y.Doc, tag: string): void {
  assertTag(tag);
  for (const dot of observedDots(set, tag)) set.delete(dot);
  set.set(nextDot(doc), tag);
}

/** Removes every observed dot of `tag`. Returns false when the tag was not present. */
export function removeFromSet(set: Y.Map<unknown>, tag: string): boolean {
  assertTag(tag);
  const dots = observedDots(set, tag);
  for (const dot of dots) set.delete(dot);
  return dots.length > 0;
}

export function hasInSet(set: Y.Map<unknown>, tag: string): boolean {
  return observedDots(set, tag).length > 0;
}

/** The distinct tags, sorted, so every replica shows the same array. */
export function readSet(set: Y.Map<unknown>): string[] {
  const tags = new Set<string>();
  set.forEach((value) => {
    if (typeof value === 'string') tags.add(value);
  });
  return [...tags].sort();
}
