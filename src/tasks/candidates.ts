// What routing knows about a member: its capacity, load and links, as plain data. Routing reads
// nothing else, so every strategy is a pure function of a candidate list and table-tests.
// The scheduler builds candidates from the membership view (MemberView) plus what this node
// measured itself (in-flight counts from the task table, throughput from transfers).
import type { LifecycleState } from '../vocabulary.js';

export interface Candidate {
  name: string;
  /** True for the node doing the routing: no network hop to reach it. */
  local: boolean;
  /** Free agent slots as the member last reported them (gossip metadata, may lag). */
  freeSlots: number;
  slots: number;
  /** Tasks this coordinator believes are running there (from the task table). */
  inFlight: number;
  /** Round-trip time EWMA from SWIM probes; null when not measured yet (and for the local node). */
  rttMs: number | null;
  /** Measured transfer throughput to that member; null when nothing was measured. */
  throughputBytesPerSec: number | null;
  state: LifecycleState;
}

/** Why a task could not be placed, in machine form; `detail` says it in words. */
export type NoCapacityReason = 'no-members' | 'no-active-members' | 'no-free-slots';

export type RouteChoice = { ok: true; node: string } | { ok: false; reason: NoCapacityReason; detail: string };

/**
 * Only ACTIVE members take new work: SYNCING/DEGRADED members are catching up or unhealthy,
 * JOINING ones may not hold the agents' memory yet, LEAVING/LEFT/FAILED ones will not finish.
 */
export function isEligible(c: Candidate): boolean {
  return c.state === 'ACTIVE' && c.freeSlots > 0;
}

/** Eligible candidates sorted by name: the one order every strategy starts from, so ties are stable. */
export function eligible(candidates: readonly Candidate[]): Candidate[] {
  return candidates.filter(isEligible).sort((a, b) => compareNames(a.name, b.name));
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The typed "no capacity" answer, with the reason that fits this candidate list. */
export function noCapacity(candidates: readonly Candidate[]): RouteChoice {
  if (candidates.length === 0) {
    return { ok: false, reason: 'no-members', detail: 'no members are known yet; start or join more nodes' };
  }
  const active = candidates.filter((c) => c.state === 'ACTIVE');
  if (active.length === 0) {
    const states = [...new Set(candidates.map((c) => c.state))].sort().join(', ');
    return { ok: false, reason: 'no-active-members', detail: `no member is ACTIVE (seen: ${states}); wait for nodes to finish joining or syncing` };
  }
  return {
    ok: false,
    reason: 'no-free-slots',
    detail: `all ${active.length} active members have 0 free slots; the task stays queued until a slot frees (or add nodes / --slots)`,
  };
}
