// The latency-aware cost of sending one more task to a member, as a pure function.
//
//   cost = (rtt + SERVICE_MS) * (1 + inFlight) / freeSlots
//
// Read it as "expected wait": the round trip to reach the member, stretched by the work queued
// there (each task already in flight is one more that competes for the member's CPU and slots),
// and divided by the free slots that can absorb it in parallel. SERVICE_MS is a floor for the
// work itself: without it the local node (rtt 0) would cost 0 whatever its load, and a loaded
// local node would always beat an idle neighbour one millisecond away.

import type { Candidate } from './candidates.js';
import { compareNames } from './candidates.js';

/** A nominal per-task service time, in the same unit as RTT, so load matters at zero distance. */
export const SERVICE_MS = 1;

/**
 * RTT assumed for a remote member not probed yet when no member has a measurement. Deliberately
 * a LAN-to-WAN middle value: unknown links are neither favoured nor shunned outright.
 */
export const DEFAULT_UNKNOWN_RTT_MS = 50;

/**
 * The RTT used for costing. Local: 0. Measured: as measured. Unmeasured remote: the worst RTT
 * measured among the candidates, so a member never wins merely because nobody probed it yet.
 */
export function effectiveRtt(c: Candidate, worstKnownRttMs: number | null): number {
  if (c.local) return 0;
  if (c.rttMs !== null && Number.isFinite(c.rttMs) && c.rttMs >= 0) return c.rttMs;
  return worstKnownRttMs ?? DEFAULT_UNKNOWN_RTT_MS;
}

export function worstKnownRtt(candidates: readonly Candidate[]): number | null {
  let worst: number | null = null;
  for (const c of candidates) {
    if (c.local || c.rttMs === null || !Number.isFinite(c.rttMs) || c.rttMs < 0) continue;
    worst = worst === null ? c.rttMs : Math.max(worst, c.rttMs);
  }
  return worst;
}

/** Infinity for a member with no free slot: it can never be the cheapest choice. */
export function latencyCost(c: Candidate, worstKnownRttMs: number | null): number {
  if (c.freeSlots <= 0) return Number.POSITIVE_INFINITY;
  return ((effectiveRtt(c, worstKnownRttMs) + SERVICE_MS) * (1 + Math.max(0, c.inFlight))) / c.freeSlots;
}

/** Orders by cost, then by name so equal costs pick the same member on every coordinator. */
export function byLatencyCost(candidates: readonly Candidate[]): (a: Candidate, b: Candidate) => number {
  const worst = worstKnownRtt(candidates);
  return (a, b) => compareCosts(latencyCost(a, worst), latencyCost(b, worst)) || compareNames(a.name, b.name);
}

/** Like a - b, but two infinite costs compare equal instead of giving NaN. */
export function compareCosts(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
