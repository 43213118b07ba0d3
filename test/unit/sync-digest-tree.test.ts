// The digest tree: incremental updates give the same hashes as building from scratch, insertion
// order does not matter, and a change shows up in exactly one group and one bucket.
import { describe, expect, it } from 'vitest';
import { BUCKETS_PER_GROUP, DigestTree, GROUPS, bucketOf } from '../../src/sync/digest-tree.js';
import { hash16 } from '../../src/sync/hash.js';

const enc = new TextEncoder();
function treeOver(state: Map<string, string>, order: string[]): DigestTree {
  const t = new DigestTree((id) => hash16(enc.encode(state.get(id)!)));
  for (const id of order) t.markDirty(id);
  return t;
}

describe('DigestTree', () => {
  const state = new Map(Array.from({ length: 300 }, (_, i) => [`doc-${i}`, `content ${i}`] as [string, string]));
  const ids = [...state.keys()];

  it('does not depend on insertion order', () => {
    expect(treeOver(state, ids).root()).toEqual(treeOver(state, [...ids].reverse()).root());
  });

  it('updates incrementally to the same root a fresh build gives', () => {
    const live = treeOver(state, ids);
    live.root();
    state.set('doc-42', 'changed');
    live.markDirty('doc-42');
    const fresh = treeOver(state, ids);
    expect(live.root()).toEqual(fresh.root());
    state.set('doc-42', 'content 42');
  });

  it('localises a change to one group and one bucket', () => {
    const a = treeOver(state, ids);
    const changed = new Map(state).set('doc-7', 'other');
    const b = treeOver(changed, ids);
    expect(a.root()).not.toEqual(b.root());
    const g = Math.floor(bucketOf('doc-7') / BUCKETS_PER_GROUP);
    for (let i = 0; i < GROUPS; i++) expect(a.groupHashes()[i]!.join() === b.groupHashes()[i]!.join()).toBe(i !== g);
    const diffBuckets = a.bucketHashes(g).map((h, i) => (h.join() === b.bucketHashes(g)[i]!.join() ? -1 : g * BUCKETS_PER_GROUP + i)).filter((x) => x >= 0);
    expect(diffBuckets).toEqual([bucketOf('doc-7')]);
    expect(b.docsInBuckets(diffBuckets)).toContain('doc-7');
  });

  it('an empty tree has a fixed root', () => {
    expect(treeOver(new Map(), []).root()).toEqual(treeOver(new Map(), []).root());
    expect(treeOver(new Map(), []).size).toBe(0);
  });
});
