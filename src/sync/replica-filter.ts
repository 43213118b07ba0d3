// The engine's side of replica-set placement: which peers a push goes to, which documents
// anti-entropy and snapshots with a peer cover, and which remote updates may create a document
// here. Without a scope every peer gets everything and every update is taken.
import type { DigestTree } from './digest-tree.js';
import type { DocSet, PeerId } from './types.js';

/** What the engine asks of replica-set placement; every answer may change with the node's configuration. */
export interface SyncScope {
  /** The peers (of `peers`) an update of `docId` is pushed to. */
  pushTargets(docId: string, peers: readonly PeerId[]): PeerId[];
  /** The documents anti-entropy and snapshots with `peer` cover, or undefined for all. */
  sharedWith(peer: PeerId): ((docId: string) => boolean) | undefined;
  /** Whether a remote update may create `docId` here (this node does not hold it yet). */
  accepts(docId: string): boolean;
  /** The documents a full snapshot for `peer` carries, when not sharedWith's (a learner's pre-warm). */
  snapshotFor?(peer: PeerId): ((docId: string) => boolean) | undefined;
}

export class ReplicaFilter {
  /** Remote updates refused because this node is not a replica of their document. */
  private refusedCount = 0;

  constructor(
    private readonly scope: SyncScope | undefined,
    private readonly docs: Pick<DocSet, 'has'>,
  ) {}

  /** The peers of `others` an update of `docId` is pushed to. */
  pushTargets(docId: string, others: PeerId[]): PeerId[] {
    return this.scope ? this.scope.pushTargets(docId, others) : others;
  }

  /** The digest tree anti-entropy with `peer` compares: the documents both should hold. */
  treeFor(tree: DigestTree, peer: PeerId): DigestTree {
    const keep = this.scope?.sharedWith(peer);
    return keep ? tree.subset(keep) : tree;
  }

  /** The documents of `tree` a full snapshot for `peer` carries. */
  snapshotIds(tree: DigestTree, peer: PeerId): string[] {
    const shared = this.scope?.snapshotFor ? this.scope.snapshotFor(peer) : this.scope?.sharedWith(peer);
    return shared ? tree.allDocs().filter(shared) : tree.allDocs();
  }

  /** Whether a remote update of `docId` may be applied here (held already, or ours to hold); counts refusals. */
  mayApply(docId: string): boolean {
    if (!this.scope || this.docs.has?.(docId) !== false || this.scope.accepts(docId)) return true;
    this.refusedCount++;
    return false;
  }

  /** Remote updates refused so far because this node is not a replica of their document. */
  refused(): number {
    return this.refusedCount;
  }
}
