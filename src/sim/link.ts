// How a simulated link (one direction, host to host) behaves. Reordering is not a separate knob:
// each packet draws its own delay from [latencyMs, latencyMs + jitterMs), so packets sent close
// together overtake each other whenever the jitter exceeds their spacing, as on a real network.
// Streams ignore loss and duplication (TCP retransmits and deduplicates) and never reorder.

export interface LinkConfig {
  /** Minimum one-way delay in ms. */
  latencyMs: number;
  /** Extra uniformly random delay in [0, jitterMs) ms per packet or frame. */
  jitterMs: number;
  /** Probability a packet is lost (0..1). */
  loss: number;
  /** Probability a delivered packet arrives twice (0..1); the copy draws its own delay. */
  duplicate: number;
  /**
   * Bytes per second the link carries (one direction, shared by its packets and streams); absent
   * or Infinity: unlimited. Each packet or frame then also waits for the link to finish sending
   * what was queued before it, and takes size / bandwidth to send (serialization delay).
   */
  bandwidthBytesPerSec?: number;
}

/** A LAN-like default: about 1-2 ms one way, no loss, no duplication. */
export const DEFAULT_LINK: Readonly<LinkConfig> = Object.freeze({ latencyMs: 1, jitterMs: 1, loss: 0, duplicate: 0 });

/** Validates and fills a partial config over a base; throws RangeError on nonsense values. */
export function mergeLink(base: Readonly<LinkConfig>, patch: Partial<LinkConfig>): LinkConfig {
  const merged = { ...base, ...patch };
  for (const key of ['latencyMs', 'jitterMs'] as const) {
    if (!(merged[key] >= 0) || !Number.isFinite(merged[key])) throw new RangeError(`link ${key} must be a finite number >= 0, got ${merged[key]}`);
  }
  for (const key of ['loss', 'duplicate'] as const) {
    if (!(merged[key] >= 0 && merged[key] <= 1)) throw new RangeError(`link ${key} must be a probability in [0, 1], got ${merged[key]}`);
  }
  const bw = merged.bandwidthBytesPerSec;
  if (bw !== undefined && !(bw > 0)) throw new RangeError(`link bandwidthBytesPerSec must be > 0 (or Infinity for unlimited), got ${bw}`);
  return merged;
}
