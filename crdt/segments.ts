// Where an episode of a split agent lives (docs/segmented-memory.md): the segment is a pure
// function of the episode id, so two replicas that never talked pick the same document for the
// same episode. The first piece of that design; nothing opens segment documents yet.

/** Segments of a split agent: 2^6 = 64 (about 1,600 episodes each at 100,000). Fixed: the split register only goes 0 -> this. */
export const SEGMENT_BITS = 6;
/** Episodes in an agent's root document past which a node splits the agent. */
export const SPLIT_AT = 5_000;

const EPISODE_ID = /^[0-9a-f]{16}$/;

/** The segment (0 .. 2^bits - 1) of an episode id: its top `bits` bits. `bits` 0 means unsplit: segment 0. */
export function segmentOf(episodeId: string, bits: number): number {
  if (!EPISODE_ID.test(episodeId)) throw new RangeError(`episode id "${episodeId}" is not 16 lowercase hex characters`);
  if (!Number.isInteger(bits) || bits < 0 || bits > 16) throw new RangeError(`segment bits ${bits} outside 0..16`);
  return bits === 0 ? 0 : parseInt(episodeId.slice(0, 4), 16) >> (16 - bits);
}

/** The document name of segment `segment` of the root `rootDocId` ('agent/<id>' -> 'agent/<id>/<hex>'): fixed-width lowercase hex. */
export function segmentDocName(rootDocId: string, segment: number, bits: number): string {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`segment bits ${bits} outside 1..16`);
  if (!Number.isInteger(segment) || segment < 0 || segment >= 2 ** bits) throw new RangeError(`segment ${segment} outside 0..${2 ** bits - 1}`);
  if (rootDocId.includes('/', rootDocId.indexOf('/') + 1)) throw new RangeError(`"${rootDocId}" is not a root document name`);
  return `${rootDocId}/${segment.toString(16).padStart(Math.ceil(bits / 4), '0')}`;
}

/** The root and segment a segment document's name encodes; undefined for any other name (a root included). */
export function parseSegmentDocName(docId: string): { root: string; segment: number } | undefined {
  const m = /^([^/]+\/[^/]+)\/([0-9a-f]{1,4})$/.exec(docId);
  return m ? { root: m[1]!, segment: parseInt(m[2]!, 16) } : undefined;
}

/** Every segment document name of a root split at `bits` (rule 7: what dropping or pulling the agent covers), in segment order. */
export function segmentDocNames(rootDocId: string, bits: number): string[] {
  return Array.from({ length: bits === 0 ? 0 : 2 ** bits }, (_, k) => segmentDocName(rootDocId, k, bits));
}
