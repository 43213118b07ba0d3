// A two-level hash tree over all documents, so anti-entropy can say "we agree" in one 16-byte
// root and, when not, narrow the difference down without listing every document.
//
//   root = H(group hashes 0..15)
//   group g = H(bucket hashes 16g..16g+15)
//   bucket b = XOR over its documents of H(docId, docDigest)      (256 buckets, by H(docId)[0])
//
// XOR makes a bucket order-independent and updatable in O(1): take the old contribution out,
// put the new one in. Document digests are computed lazily (they walk the document), so a burst
// of writes to one document costs one digest at the next anti-entropy round, not one per write.
import { HASH_BYTES, hash16, xorInto } from './hash.js';

export const BUCKETS = 256;
export const GROUPS = 16;
export const BUCKETS_PER_GROUP = BUCKETS / GROUPS;

const utf8 = new TextEncoder();

export function bucketOf(docId: string): number {
  return hash16(utf8.encode(docId))[0]!;
}

export class DigestTree {
  // One flat array for all bucket hashes and member sets made on first use: the simulator runs
  // a thousand nodes in one process, and 256 small objects per node would add up.
  private readonly flat = new Uint8Array(BUCKETS * HASH_BYTES);
  private readonly members: Array<Set<string> | undefined> = new Array(BUCKETS);
  private readonly groups: Uint8Array[] = [];
  private rootHash: Uint8Array = new Uint8Array(HASH_BYTES);
  /** Each document's current XOR contribution to its bucket. */
  private readonly contribution = new Map<string, Uint8Array>();
  private readonly bucketIndex = new Map<string, number>();
  private readonly dirtyDocs = new Set<string>();
  private readonly dirtyGroups = new Set<number>();

  constructor(private readonly digestOf: (docId: string) => Uint8Array) {
    for (let g = 0; g < GROUPS; g++) this.dirtyGroups.add(g);
  }

  /** A document changed or appeared; its digest is recomputed when the tree is next read. */
  markDirty(docId: string): void {
    this.dirtyDocs.add(docId);
  }

  get size(): number {
    this.flush();
    return this.contribution.size;
  }

  root(): Uint8Array {
    this.flush();
    return this.rootHash;
  }

  groupHashes(): Uint8Array[] {
    this.flush();
    return this.groups;
  }

  /** The 16 bucket hashes of group `g`. */
  bucketHashes(g: number): Uint8Array[] {
    this.flush();
    return Array.from({ length: BUCKETS_PER_GROUP }, (_, i) => this.bucket(g * BUCKETS_PER_GROUP + i).slice());
  }

  docsInBuckets(buckets: Iterable<number>): string[] {
    this.flush();
    const out: string[] = [];
    for (const b of buckets) for (const id of this.members[b] ?? []) out.push(id);
    return out;
  }

  allDocs(): string[] {
    this.flush();
    return [...this.contribution.keys()];
  }

  /** Digest of one document as the tree last saw it (undefined when unknown). */
  docDigest(docId: string): Uint8Array | undefined {
    this.flush();
    return this.contribution.has(docId) ? this.digestOf(docId) : undefined;
  }

  /**
   * A tree over the documents `keep` accepts, built from the contributions already computed (no
   * document is walked): anti-entropy between co-replicas compares only what both should hold.
   */
  subset(keep: (docId: string) => boolean): DigestTree {
    this.flush();
    const t = new DigestTree(this.digestOf);
    for (const [id, c] of this.contribution) {
      if (!keep(id)) continue;
      const b = this.bucketIndex.get(id)!;
      xorInto(t.bucket(b), c);
      t.contribution.set(id, c);
      t.bucketIndex.set(id, b);
      (t.members[b] ??= new Set()).add(id);
    }
    return t;
  }

  /** Forgets a document this node no longer holds (dropped after a handoff). */
  remove(docId: string): void {
    this.flush();
    const c = this.contribution.get(docId);
    if (!c) return;
    const b = this.bucketIndex.get(docId)!;
    xorInto(this.bucket(b), c);
    this.contribution.delete(docId);
    this.bucketIndex.delete(docId);
    this.members[b]?.delete(docId);
    this.dirtyGroups.add(Math.floor(b / BUCKETS_PER_GROUP));
  }

  private flush(): void {
    if (this.dirtyDocs.size > 0) {
      for (const id of this.dirtyDocs) this.refresh(id);
      this.dirtyDocs.clear();
    }
    if (this.dirtyGroups.size > 0) {
      for (const g of this.dirtyGroups) this.groups[g] = hash16(this.flat.subarray(g * BUCKETS_PER_GROUP * HASH_BYTES, (g + 1) * BUCKETS_PER_GROUP * HASH_BYTES));
      this.dirtyGroups.clear();
      this.rootHash = hash16(...this.groups);
    }
  }

  private bucket(b: number): Uint8Array {
    return this.flat.subarray(b * HASH_BYTES, (b + 1) * HASH_BYTES);
  }

  private refresh(docId: string): void {
    let b = this.bucketIndex.get(docId);
    if (b === undefined) {
      b = bucketOf(docId);
      this.bucketIndex.set(docId, b);
    }
    const bucket = this.bucket(b);
    const old = this.contribution.get(docId);
    if (old) xorInto(bucket, old);
    const next = hash16(utf8.encode(docId), this.digestOf(docId));
    xorInto(bucket, next);
    this.contribution.set(docId, next);
    (this.members[b] ??= new Set()).add(docId);
    this.dirtyGroups.add(Math.floor(b / BUCKETS_PER_GROUP));
  }
}
