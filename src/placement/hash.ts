// The hash placement ranks with: MurmurHash3 x86_32 (Austin Appleby, public domain) over the
// UTF-8 bytes of a name, and its finaliser fmix32 to mix a key with a voter. Chosen because it is
// fully specified with published test vectors (any implementation, on any platform or language,
// gives the same 32 bits), passes SMHasher's avalanche and distribution tests, and is all 32-bit
// integer arithmetic that V8 runs without allocating (Math.imul), unlike SHA-256 here (~1 µs a call
// through node:crypto) or 64-bit hashes (BigInt in JavaScript). It is not a cryptographic hash:
// a placement key is chosen by users, and the worst a chosen key can do is land on a chosen node.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

/** MurmurHash3's 32-bit finaliser: a bijection on 32 bits in which every input bit flips every output bit with probability ~1/2. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of `bytes` (the first `length` of them) with `seed`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed: number, length = bytes.length): number {
  let h = seed >>> 0;
  const n = length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= n;
  return fmix32(h);
}

/** Seeds of the two independent 32-bit lanes a name is hashed to (digits of pi and e: nothing up the sleeve). */
export const LANE_SEEDS = [0x243f6a88, 0xb7e15162] as const;

/** Scratch space for a name's UTF-8 bytes (placement is synchronous: one name at a time). */
let scratch = new Uint8Array(256);

/** Writes `name` as UTF-8 into `scratch` and returns the byte count (TextEncoder.encode allocates, and cost microseconds a name). */
function utf8(name: string): number {
  if (scratch.length < name.length * 3) scratch = new Uint8Array(name.length * 3);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return encoder.encodeInto(name, scratch).written;
    scratch[i] = c;
  }
  return name.length;
}

/** A name's two 32-bit lanes (MurmurHash3 of its UTF-8 bytes under each of LANE_SEEDS). */
export function nameLanes(name: string): [number, number] {
  const n = utf8(name);
  return [murmur3(scratch, LANE_SEEDS[0], n), murmur3(scratch, LANE_SEEDS[1], n)];
}
