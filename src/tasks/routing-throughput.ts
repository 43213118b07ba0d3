// Measured throughput to each member, for bandwidth-aware routing (DESIGN.md "Agents and tasks").
// A node learns it from its own RPC calls: a call whose request and reply together are large
// (a task's input handed to a member, a snapshot) takes about one round trip plus the time the
// bytes spend on the wire, so
//
//   throughput ≈ bytes / (elapsed - rtt)
//
// with rtt the member's probe RTT EWMA. Samples are smoothed with an EWMA per member, like RTT.
// Small calls are ignored: their time is all latency and processing, which says nothing about
// bandwidth. The same code runs on real sockets and in the simulator (whose links can limit
// bandwidth), fed by RpcEndpoint.observeCalls on the runtime clock.

/** Calls moving fewer bytes than this (request + reply) are not throughput samples. */
export const MIN_THROUGHPUT_SAMPLE_BYTES = 16 * 1024;
/** Weight of a new sample in the per-member EWMA. */
export const THROUGHPUT_EWMA_ALPHA = 0.3;
/**
 * The transfer time is taken as at least this share of the whole call, so a call that looked
 * faster than the RTT estimate (jitter, a stale EWMA) counts as very fast, not infinitely fast.
 */
const MIN_TRANSFER_SHARE = 0.05;

/**
 * Bytes per second of one timed call, or null when it cannot tell (too small, no time passed).
 * `rttMs` is the member's RTT estimate (null when not probed yet: the whole call then counts as
 * transfer, which underestimates throughput rather than inventing it).
 */
export function throughputSample(bytes: number, elapsedMs: number, rttMs: number | null): number | null {
  if (!(bytes >= MIN_THROUGHPUT_SAMPLE_BYTES) || !(elapsedMs > 0) || !Number.isFinite(elapsedMs)) return null;
  const rtt = rttMs !== null && Number.isFinite(rttMs) && rttMs > 0 ? rttMs : 0;
  const transferMs = Math.max(elapsedMs - rtt, elapsedMs * MIN_TRANSFER_SHARE);
  return (bytes * 1000) / transferMs;
}

/** Per-member throughput EWMA (bytes per second), keyed by member name. */
export class ThroughputMeter {
  private readonly estimates = new Map<string, number>();

  /** Feeds one timed call to `member`; returns whether it counted as a sample. */
  observe(member: string, bytes: number, elapsedMs: number, rttMs: number | null): boolean {
    const sample = throughputSample(bytes, elapsedMs, rttMs);
    if (sample === null) return false;
    const old = this.estimates.get(member);
    this.estimates.set(member, old === undefined ? sample : old + THROUGHPUT_EWMA_ALPHA * (sample - old));
    return true;
  }

  /** The current estimate, or null when nothing large was sent to `member` yet. */
  get(member: string): number | null {
    return this.estimates.get(member) ?? null;
  }

  /** Drops a member's estimate (it left or was replaced by a new process). */
  forget(member: string): void {
    this.estimates.delete(member);
  }
}
