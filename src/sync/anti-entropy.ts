// The pure steps of a delta_only anti-entropy round: each takes the local digest tree and what
// the peer sent, and says what to answer. The engine wraps them with sessions and sending.
//
//   initiator                          responder
//   ae-root(root)            ──────▶   respondToRoot: equal → (no answer)
//                                        few docs → ae-docs(all) | else ae-groups
//   groupsToBuckets          ◀──────   ae-groups
//   ae-buckets(differing groups) ───▶  bucketsToDocs → ae-docs(docs in differing buckets)
//   differingDocs            ◀──────   ae-docs (with the responder's state vectors)
//   deltasForDiffering → doc-deltas for the differing documents only.
import * as Y from 'yjs';
import { EMPTY_STATE_VECTOR } from './batch.js';
import { BUCKETS_PER_GROUP, type DigestTree } from './digest-tree.js';
import { equalBytes } from './hash.js';
import { DOC_DIGEST_BYTES, type DocDeltaEntry, type DocDigestEntry, type GroupBuckets, type SyncMessage } from './messages.js';
import type { DocSet } from './types.js';

type StateVectorOf = (docId: string) => Uint8Array;

/** Responder, on ae-root: nothing when the roots are equal (the round's only message was the probe). */
export function respondToRoot(tree: DigestTree, session: number, root: Uint8Array, listAllUpTo: number, svOf: StateVectorOf): SyncMessage | undefined {
  if (equalBytes(root, tree.root())) return undefined;
  if (tree.size <= listAllUpTo) return { kind: 'ae-docs', session, all: true, buckets: [], docs: digestsOf(tree, tree.allDocs(), svOf) };
  return { kind: 'ae-groups', session, hashes: tree.groupHashes() };
}

/** Initiator, on ae-groups: our bucket hashes for the groups that differ (undefined: none do). */
export function groupsToBuckets(tree: DigestTree, session: number, theirs: Uint8Array[]): SyncMessage | undefined {
  const mine = tree.groupHashes();
  const groups: GroupBuckets[] = [];
  for (let g = 0; g < mine.length; g++) {
    if (!equalBytes(mine[g]!, theirs[g]!)) groups.push({ group: g, hashes: tree.bucketHashes(g) });
  }
  return groups.length > 0 ? { kind: 'ae-buckets', session, groups } : undefined;
}

/** Responder, on ae-buckets: our documents, with digests, in the buckets that differ. */
export function bucketsToDocs(tree: DigestTree, session: number, groups: GroupBuckets[], svOf: StateVectorOf): SyncMessage {
  const buckets: number[] = [];
  for (const { group, hashes } of groups) {
    const mine = tree.bucketHashes(group);
    for (let i = 0; i < BUCKETS_PER_GROUP; i++) if (!equalBytes(mine[i]!, hashes[i]!)) buckets.push(group * BUCKETS_PER_GROUP + i);
  }
  return { kind: 'ae-docs', session, all: false, buckets, docs: digestsOf(tree, tree.docsInBuckets(buckets), svOf) };
}

/**
 * Initiator, on ae-docs: documents either side holds in the compared range whose digests differ
 * or that one side lacks.
 */
export function differingDocs(tree: DigestTree, all: boolean, buckets: number[], theirs: DocDigestEntry[]): string[] {
  const candidates = new Set(all ? tree.allDocs() : tree.docsInBuckets(buckets));
  const theirDigest = new Map(theirs.map((d) => [d.id, d.digest]));
  for (const id of theirDigest.keys()) candidates.add(id);
  return [...candidates].filter((id) => {
    const a = tree.docDigest(id);
    const b = theirDigest.get(id);
    return !a || !b || !equalBytes(a.subarray(0, DOC_DIGEST_BYTES), b);
  });
}

/**
 * Initiator, after differingDocs: for each differing document, the diff for the peer's state
 * vector (from its ae-docs), our digest check, and our state vector only when the peer has
 * structs we lack (otherwise it answers, if at all, for its own state vector).
 */
export function deltasForDiffering(ids: string[], theirs: DocDigestEntry[], docs: Pick<DocSet, 'stateVector' | 'diff' | 'has'>, checkOf: (docId: string) => Uint8Array): DocDeltaEntry[] {
  const svs = new Map(theirs.map((d) => [d.id, d.sv]));
  return ids.map((id): DocDeltaEntry => {
    const theirSV = svs.get(id) ?? EMPTY_STATE_VECTOR;
    // A document we lack entirely: ask for all of it, without a check. An unknown document digests
    // as an empty one, so a check would tell a holder of an empty document (a task shard opened by
    // its scheduler, nothing written yet) that we are equal, and it would never send it.
    if (docs.has?.(id) === false) return { id, update: docs.diff(id, theirSV), sv: EMPTY_STATE_VECTOR };
    const mine = docs.stateVector(id);
    const entry: DocDeltaEntry = { id, update: docs.diff(id, theirSV), check: checkOf(id) };
    if (hasStructsBeyond(theirSV, mine)) entry.sv = mine;
    return entry;
  });
}

function digestsOf(tree: DigestTree, ids: string[], svOf: StateVectorOf): DocDigestEntry[] {
  return ids.map((id) => ({ id, digest: tree.docDigest(id)!.subarray(0, DOC_DIGEST_BYTES), sv: svOf(id) }));
}

/** Whether state vector `a` counts structs (some client's clock) beyond state vector `b`. */
function hasStructsBeyond(a: Uint8Array, b: Uint8Array): boolean {
  const mine = Y.decodeStateVector(b);
  for (const [client, clock] of Y.decodeStateVector(a)) if (clock > (mine.get(client) ?? 0)) return true;
  return false;
}
