// Anti-entropy and catch-up: the digest tree over a node's documents (one document changed, then
// the root), and the state-vector exchange for agent documents of 10, 1,000 and 10,000 episodes:
// the state vector, the delta for a peer one write behind, and the full encodeStateAsUpdate a
// peer with nothing gets.
import * as Y from 'yjs';
import { computeDocDigest } from '../../../crdt/doc-digest.js';
import { deltaSince } from '../../../crdt/updates.js';
import { DigestTree } from '../../../src/sync/digest-tree.js';
import { HASH_BYTES } from '../../../src/sync/hash.js';
import { memoryDoc, rngFor } from '../gen.js';
import { consume, type MicroCase, type MicroSuite } from '../suite.js';

export const DOC_SIZES = [10, 1_000, 10_000];
/** The CI smoke pass's sizes (BuildContext.small). */
const SMALL_DOC_SIZES = [10, 100, 300];
const TREE_DOCS = 512;

export const suite: MicroSuite = {
  name: 'sync',
  title: `digest tree over ${TREE_DOCS} documents; state-vector diff and encodeStateAsUpdate by document size`,
  build({ small }) {
    // Digest tree: the document digests are precomputed and rotated, so the cases time the tree
    // (the document's own digest is the separate "doc digest" case).
    const rng = rngFor('sync-tree');
    const ids = Array.from({ length: TREE_DOCS }, (_, i) => `agent/bench-${i}`);
    const digests = Array.from({ length: 4 * TREE_DOCS }, () => Uint8Array.from({ length: HASH_BYTES }, () => rng.int(256)));
    let d = 0;
    const tree = new DigestTree(() => {
      d = d + 1 === digests.length ? 0 : d + 1;
      return digests[d]!;
    });
    for (const id of ids) tree.markDirty(id);
    tree.root();
    let changed = 0;

    const cases: MicroCase[] = [
      {
        name: `digest tree: 1 of ${TREE_DOCS} documents changed, then root`,
        fn: () => {
          tree.markDirty(ids[changed]!);
          changed = changed + 1 === TREE_DOCS ? 0 : changed + 1;
          consume(tree.root());
        },
      },
      { name: `digest tree: root, nothing changed (${TREE_DOCS} documents)`, fn: () => consume(tree.root()) },
    ];
    for (const n of small ? SMALL_DOC_SIZES : DOC_SIZES) {
      const { doc, svBeforeLast } = memoryDoc(n);
      const label = `${n.toLocaleString('en')} episodes`;
      cases.push(
        { name: `doc digest (${label})`, fn: () => consume(computeDocDigest(doc)) },
        { name: `state vector (${label})`, fn: () => consume(Y.encodeStateVector(doc)) },
        { name: `diff for a peer 1 write behind (${label})`, fn: () => consume(deltaSince(doc, svBeforeLast)) },
        { name: `encodeStateAsUpdate, full (${label})`, fn: () => consume(Y.encodeStateAsUpdate(doc)) },
      );
    }
    return { cases };
  },
};
