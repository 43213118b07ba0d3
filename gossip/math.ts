// The pure formulas of SWIM/Lifeguard as memberlist computes them, so that memberlist's own test
// vectors (util_test.go, suspicion_test.go) hold for ours. All durations are milliseconds.

/**
 * Minimum suspicion timeout: mult * max(1, log10(n)) * interval. Like memberlist, the scale is
 * truncated to three decimals first, so n = 50 gives 1.698 intervals and not 1.69897.
 */
export function suspicionTimeout(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor((suspicionMult * Math.floor(nodeScale * 1000) * intervalMs) / 1000);
}

/** How many times one broadcast is piggybacked: mult * ceil(log10(n + 1)). Zero for an empty cluster. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * Lifeguard's suspicion decay: with `confirmations` independent suspicions out of the `k` we hope
 * for, the timeout falls from max towards min on a log curve (the first confirmations buy the most),
 * is rounded down to whole milliseconds and never goes below min. Returns what is left after
 * `elapsedMs`; negative means overdue.
 */
export function remainingSuspicionTime(confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs - elapsedMs; // nobody can confirm: go straight to the floor
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs - fraction * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}

/**
 * How many independent confirmations we wait for. memberlist uses suspicionMult - 2; with fewer
 * than that many possible confirmers (everyone but us and the suspect) we cap it, so a three-node
 * cluster still takes its one possible confirmation instead of always sitting at the maximum.
 */
export function suspicionConfirmationsWanted(suspicionMult: number, liveMembers: number): number {
  return Math.max(0, Math.min(suspicionMult - 2, liveMembers - 2));
}

/**
 * Push-pull interval grows with cluster size above 32 nodes (memberlist's pushPullScale), so the
 * total TCP sync load of the cluster stays roughly flat as it grows.
 */
export function pushPullScale(intervalMs: number, n: number): number {
  const threshold = 32;
  if (n <= threshold) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return multiplier * intervalMs;
}

/** Exponentially weighted moving average; the first sample seeds it. */
export function ewma(previous: number | undefined, sample: number, alpha: number): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
