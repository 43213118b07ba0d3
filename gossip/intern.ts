// One canonical copy per distinct member metadata (and encoded alive fact) in the process.
// Every node holds a record of every member, and each record used to carry its own copy of the
// member's metadata (plus the member event's copy, plus the directory's): at 1,000 simulated
// nodes that was three Uint8Arrays of ~250 bytes of heap per (node, member) pair, most of what
// the garbage collector scanned. Bytes that arrive again (a duplicate fact, a push-pull listing
// every member) come back as the copy already held, without an allocation.
//
// An interned array is shared: nothing may write to it. The cache is direct-mapped by a hash of
// the bytes, so it is bounded (SLOTS arrays of at most the largest input) whatever the network
// sends; a collision only costs the sharing, never correctness: the cache returns an array equal
// to its input or a fresh copy of it.

const SLOTS = 16384;
const slots: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(SLOTS);

function slotOf(src: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return (h >>> 0) & (SLOTS - 1);
}

/** Bytes from each end of a key that DecodeCache hashes (see keySlot). */
const KEY_EDGE = 48;

/**
 * A DecodeCache slot: a hash of the key's length and at most KEY_EDGE bytes from each end. The
 * keys are gossip facts (incarnation, name and address first, metadata last), which differ
 * there; hashing all ~300 bytes of every fact heard was a twentieth of a 1,000-node run, and a
 * hit compares every byte anyway, so a collision costs a miss, never a wrong value.
 */
function keySlot(src: Uint8Array, start: number, end: number): number {
  if (end - start <= 2 * KEY_EDGE) return slotOf(src, start, end);
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
  for (let i = start; i < start + KEY_EDGE; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  for (let i = end - KEY_EDGE; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return (h >>> 0) & (SLOTS - 1);
}

function equalAt(known: Uint8Array, src: Uint8Array, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== src[start + i]) return false;
  return true;
}

/** Every copy this cache handed out (even if evicted since): shared, so never written. */
const handedOut = new WeakSet<Uint8Array>();

/** The canonical (shared, never to be written) copy of `src[start, end)`. */
export function internBytes(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  // Already a shared copy (the decoder interns metadata, and SWIM interns it again on accept):
  // no need to hash it again.
  if (start === 0 && end === src.length && handedOut.has(src)) return src;
  const slot = slotOf(src, start, end);
  const known = slots[slot];
  if (known !== undefined && ((known === src && start === 0 && end === src.length) || equalAt(known, src, start, end))) return known;
  const copy = src.slice(start, end);
  slots[slot] = copy;
  handedOut.add(copy);
  return copy;
}

/** Whether `bytes` is the canonical copy the cache holds now (so it may key a memo: it is never written). */
export function isInterned(bytes: Uint8Array): boolean {
  return slots[slotOf(bytes, 0, bytes.length)] === bytes;
}

/**
 * A bounded, direct-mapped cache from byte strings to what they decode to: a gossip fact arrives
 * many times over (every member relays each fact several times, and a simulator hears it at every
 * node), and a hit skips decoding it again. Values must be immutable (they are shared).
 */
export class DecodeCache<T> {
  private readonly keys: Array<Uint8Array | undefined>;
  private readonly values: Array<T | undefined>;

  constructor(private readonly slots = SLOTS) {
    if ((slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two');
    this.keys = new Array<Uint8Array | undefined>(slots);
    this.values = new Array<T | undefined>(slots);
  }

  get(src: Uint8Array, start: number, end: number): T | undefined {
    const slot = keySlot(src, start, end) & (this.slots - 1);
    const known = this.keys[slot];
    return known !== undefined && equalAt(known, src, start, end) ? this.values[slot] : undefined;
  }

  set(src: Uint8Array, start: number, end: number, value: T): void {
    const slot = keySlot(src, start, end) & (this.slots - 1);
    this.keys[slot] = src.slice(start, end);
    this.values[slot] = value;
  }
}
