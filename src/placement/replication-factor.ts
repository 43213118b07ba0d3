// The replication factor: how many voters hold each agent's memory once replica sets are enforced.
// A cluster-wide setting carried in the voter configuration (src/quorum/voter-config.ts), so every
// node on one configuration places every key alike; the founding node's value holds.
//
// Odd, because a replica set acknowledges a write by a majority of it: an even factor pays for one
// more copy than the odd one below it and survives no more crashes (4 replicas, like 3, tolerate
// one). Bounded, because every write waits for a majority of the set to fsync, and beyond a few
// dozen copies a cluster would be better served by full replication of a smaller voter set.

/** The factor a node founds a cluster with unless told otherwise, and the one a configuration without the field reads as. */
export const DEFAULT_REPLICATION_FACTOR = 3;
/** The largest factor a configuration may carry. */
export const MAX_REPLICATION_FACTOR = 31;

/** Why `n` is not a replication factor (undefined when it is one): for usage errors and decoders. */
export function checkReplicationFactor(n: unknown): string | undefined {
  const range = `an odd whole number from 1 to ${MAX_REPLICATION_FACTOR}`;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) return `the replication factor must be ${range}, got ${String(n)}`;
  if (n < 1) return `the replication factor must be at least 1 (${range}), got ${n}`;
  if (n > MAX_REPLICATION_FACTOR) return `the replication factor must be at most ${MAX_REPLICATION_FACTOR} (${range}), got ${n}`;
  if (n % 2 === 0) {
    return `the replication factor must be odd (${range}), got ${n}: a majority of a replica set acknowledges each write, so ${n} copies tolerate no more failures than ${n - 1}`;
  }
  return undefined;
}
