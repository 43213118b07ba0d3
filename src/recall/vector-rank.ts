// Nearest-neighbour ranking by embedding and its fusion with the text ranking. Vectors are stored
// unit-length as float32, so cosine similarity is a dot product; the scan is exact (brute force
// over the candidates the filters leave), which at one agent's episodes costs well under a
// millisecond. Text and vector rankings are fused by reciprocal rank fusion: each hit scores
// 1/(60 + rank) per ranking it appears in, so neither scale has to be calibrated to the other.

/** RRF's constant: how much the first ranks dominate (60, from the original paper). */
const RRF_K = 60;

/** Unit-length float32 bytes of `v` (undefined for the zero vector). */
export function vectorBlob(v: readonly number[]): Buffer | undefined {
  let norm = 0;
  for (const x of v) norm += x * x;
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const f = new Float32Array(v.length);
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) f[i] = v[i]! * inv;
  return Buffer.from(f.buffer);
}

/** The `k` candidates most similar to `query` (a vectorBlob), best first; other dimensions are skipped. */
export function nearest(query: Buffer, candidates: Iterable<{ rowid: number; vec: Buffer }>, k: number): Array<{ rowid: number; sim: number }> {
  const q = new Float32Array(query.buffer, query.byteOffset, query.byteLength / 4);
  const top: Array<{ rowid: number; sim: number }> = [];
  for (const c of candidates) {
    if (c.vec.byteLength !== query.byteLength) continue;
    // Copy when unaligned: a Float32Array view needs a 4-byte aligned offset.
    const v = c.vec.byteOffset % 4 === 0 ? new Float32Array(c.vec.buffer, c.vec.byteOffset, c.vec.byteLength / 4) : new Float32Array(new Uint8Array(c.vec).buffer);
    let sim = 0;
    for (let i = 0; i < q.length; i++) sim += q[i]! * v[i]!;
    if (top.length < k || sim > top[top.length - 1]!.sim) {
      top.push({ rowid: c.rowid, sim });
      top.sort((a, b) => b.sim - a.sim || a.rowid - b.rowid);
      if (top.length > k) top.pop();
    }
  }
  return top;
}

/** Reciprocal rank fusion of rankings (rowids best first): fused scores, best first. */
export function fuse(rankings: ReadonlyArray<readonly number[]>): Array<{ rowid: number; score: number }> {
  const score = new Map<number, number>();
  for (const ranking of rankings) ranking.forEach((rowid, i) => score.set(rowid, (score.get(rowid) ?? 0) + 1 / (RRF_K + i + 1)));
  return [...score.entries()].map(([rowid, s]) => ({ rowid, score: s })).sort((a, b) => b.score - a.score || a.rowid - b.rowid);
}
