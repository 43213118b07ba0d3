// Pure arithmetic of the membership benchmark (unit-tested): rounds and idle window per cluster
// size, per-round summaries, ratios against serf, false accusations and idle gossip rates.
import { metric, type Metrics } from '../lib/result.js';
import { median, percentile } from '../lib/stats.js';
import type { MemberLogEvent } from '../lib/proc-cluster.js';

export interface Plan {
  rounds: number;
  idleWindowMs: number;
}

/** Rounds and idle window per cluster size: the large clusters are the expensive ones. */
export function planFor(size: number, largest: number, quick: boolean): Plan {
  const rounds = quick ? 3 : size >= 20 ? 5 : 7;
  // >= 30 s covers one push-pull per node (lan: every 30 s), as serf's runner advises.
  const idleWindowMs = size === largest ? (quick ? 30_000 : 60_000) : 0;
  return { rounds, idleWindowMs };
}

/** Log events that accuse a member. */
const ACCUSING = new Set(['suspect', 'dead', 'failed']);

/**
 * Summary of per-round, per-observer times: `_first_median` / `_all_median` are medians over rounds
 * of the first / last observer, `_all_min` / `_all_max` the range of the last observer, `_p50` the
 * median of all observations. Rounds where nobody saw the event are left out (and counted).
 */
export function roundMetrics(prefix: string, rounds: readonly (readonly number[])[], unit = 'ms'): Metrics {
  const complete = rounds.filter((t) => t.length > 0);
  const firsts = complete.map((t) => Math.min(...t));
  const alls = complete.map((t) => Math.max(...t));
  return {
    [`${prefix}_first_median`]: metric(round1(median(firsts)), unit),
    [`${prefix}_all_median`]: metric(round1(median(alls)), unit),
    [`${prefix}_all_min`]: metric(round1(alls.length ? Math.min(...alls) : NaN), unit),
    [`${prefix}_all_max`]: metric(round1(alls.length ? Math.max(...alls) : NaN), unit),
    [`${prefix}_p50`]: metric(round1(percentile(complete.flat(), 50)), unit),
    [`${prefix}_rounds`]: metric(complete.length, 'rounds'),
  };
}

/** ours / theirs, rounded to 3 places; NaN unless both are positive finite numbers. */
export function ratio(ours: number | undefined, theirs: number | undefined): number {
  if (ours === undefined || theirs === undefined || !(ours >= 0) || !(theirs > 0) || !Number.isFinite(ours) || !Number.isFinite(theirs)) return NaN;
  return Math.round((ours / theirs) * 1000) / 1000;
}

/** Log events accusing (suspect/dead/failed) a member that was never killed: false positives. */
export function falseAccusations(events: readonly MemberLogEvent[], killed: ReadonlySet<string>): MemberLogEvent[] {
  return events.filter((e) => ACCUSING.has(e.event) && !killed.has(e.member));
}

/** Per-node gossip counters read twice, `seconds` apart. */
export interface IdleRates {
  nodes: number;
  payloadBytesPerS: number;
  wireBytesPerS: number;
  packetsPerS: number;
  pushPullsPerS: number;
}

/**
 * Mean per-node rates over the window from /status gossip counters (nodes answering both times).
 * bytesOut counts the SWIM payload; each sealed packet carries `sealOverhead` more (nonce, tag,
 * label), which wireBytesPerS adds. IP/UDP headers are in neither, as in serf's counters.
 */
export function idleRates(before: ReadonlyMap<string, Record<string, number>>, after: ReadonlyMap<string, Record<string, number>>, seconds: number, sealOverhead: number): IdleRates {
  let n = 0;
  let bytes = 0;
  let packets = 0;
  let pushPulls = 0;
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b) continue;
    n++;
    bytes += (a.bytesOut ?? 0) - (b.bytesOut ?? 0);
    packets += (a.packetsOut ?? 0) - (b.packetsOut ?? 0);
    pushPulls += (a.pushPulls ?? 0) - (b.pushPulls ?? 0);
  }
  const per = (v: number): number => (n > 0 && seconds > 0 ? round1(v / n / seconds) : NaN);
  return { nodes: n, payloadBytesPerS: per(bytes), wireBytesPerS: per(bytes + packets * sealOverhead), packetsPerS: per(packets), pushPullsPerS: Math.round((n > 0 ? pushPulls / n / seconds : NaN) * 1000) / 1000 };
}

export const round1 = (v: number): number => Math.round(v * 10) / 10;
