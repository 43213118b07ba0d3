// Packing many per-document entries into as few messages as the frame limit allows. An entry
// larger than the limit goes alone; the chunker splits it.

/**
 * Groups `items` so each group's estimated size stays under `maxBytes` (except single oversize
 * items); an item `alone` says so of gets a group of its own.
 */
export function batchBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number, alone?: (item: T) => boolean): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const item of items) {
    if (alone?.(item)) {
      out.push([item]);
      continue;
    }
    const s = sizeOf(item);
    if (cur.length > 0 && size + s > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(item);
    size += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Upper bound on an entry's encoded size: its byte fields plus varint length prefixes. */
export function entrySize(id: string, ...fields: Array<Uint8Array | undefined>): number {
  return id.length * 3 + 5 + fields.reduce((n, f) => n + (f ? f.byteLength + 5 : 1), 0);
}

/** The Yjs v1 encoding of an empty state vector (zero clients): "I have nothing, send all". */
export const EMPTY_STATE_VECTOR: Uint8Array = Uint8Array.of(0);
