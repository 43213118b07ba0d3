// The one hash the sync layer uses: SHA-256 truncated to 16 bytes. 128 bits keeps collisions out
// of reach for change detection while keeping digest messages small. Hashing is computation, not
// I/O, so node:crypto is fine inside the sans-IO core.
import { createHash } from 'node:crypto';

export const HASH_BYTES = 16;

export function hash16(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  // Copy out of the Buffer: it may be a view into a shared pool.
  return new Uint8Array(h.digest().subarray(0, HASH_BYTES));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** a ^= b, in place (same length). */
export function xorInto(a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < a.byteLength; i++) a[i]! ^= b[i]!;
}
