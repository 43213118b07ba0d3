// Summary statistics for benchmark samples. Pure functions; empty input gives NaN rather than
// throwing, so a scenario with no samples still writes a (visibly empty) result.

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1): the samples are a sample of the runs we could have done. */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return xs.length === 1 ? 0 : NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((acc, x) => acc + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Percentile p in [0, 100] by linear interpolation between closest ranks (numpy's default). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  stddev: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    min: xs.length ? Math.min(...xs) : NaN,
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : NaN,
    mean: mean(xs),
    stddev: stddev(xs),
  };
}
