// Routing strategies (DESIGN.md "Agents and tasks"): pure choosers over a candidate list. Each
// returns the chosen member's name or a typed "no capacity" answer; the only state, the
// round-robin cursor, is passed in and handed back, and randomness is injected.

import { eligible, noCapacity, type Candidate, type RouteChoice } from './candidates.js';
import { byLatencyCost } from './cost.js';

export const STRATEGIES = ['local-first', 'latency-aware', 'bandwidth-aware', 'round-robin'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const DEFAULT_STRATEGY: Strategy = 'local-first';

/** Payloads above this many bytes are "large" for bandwidth-aware routing. */
export const LARGE_PAYLOAD_BYTES = 64 * 1024;

export function isStrategy(s: unknown): s is Strategy {
  return typeof s === 'string' && (STRATEGIES as readonly string[]).includes(s);
}

/** local-first: a free local slot costs no network hop; otherwise the cheapest remote member. */
export function chooseLocalFirst(candidates: readonly Candidate[]): RouteChoice {
  const ok = eligible(candidates);
  const local = ok.find((c) => c.local);
  if (local) return { ok: true, node: local.name };
  const best = ok.sort(byLatencyCost(ok))[0];
  return best ? { ok: true, node: best.name } : noCapacity(candidates);
}

/**
 * local-first for a sharded task (src/tasks/task-shard.ts): "local" means a replica of the task's
 * agent, whose memory (and task shard) is on that node. This node if it is a replica with a free
 * slot, else the cheapest replica with one, else (every replica busy) local-first as usual.
 */
export function chooseDataLocal(candidates: readonly Candidate[], replicas: ReadonlySet<string>): RouteChoice {
  const ok = eligible(candidates).filter((c) => replicas.has(c.name));
  const local = ok.find((c) => c.local);
  if (local) return { ok: true, node: local.name };
  const best = ok.sort(byLatencyCost(ok))[0];
  return best ? { ok: true, node: best.name } : chooseLocalFirst(candidates);
}

/** The deterministic minimum of the latency cost (used as a fallback and by tests). */
export function chooseCheapest(candidates: readonly Candidate[]): RouteChoice {
  const ok = eligible(candidates);
  const best = ok.sort(byLatencyCost(ok))[0];
  return best ? { ok: true, node: best.name } : noCapacity(candidates);
}

/**
 * latency-aware, with the power of two choices: draw two distinct members at random and take
 * the cheaper. Always taking the global minimum would send every coordinator's burst to the
 * same member until gossip reports its slots gone (herding on stale data); two random choices
 * keep almost all of the benefit (Mitzenmacher) while spreading the load.
 */
export function chooseLatencyAware(candidates: readonly Candidate[], random: () => number): RouteChoice {
  const ok = eligible(candidates);
  if (ok.length === 0) return noCapacity(candidates);
  if (ok.length === 1) return { ok: true, node: ok[0]!.name };
  const i = pick(random, ok.length);
  let j = pick(random, ok.length - 1);
  if (j >= i) j += 1; // distinct second draw without rejection sampling
  const pair = [ok[i]!, ok[j]!].sort(byLatencyCost(ok));
  return { ok: true, node: pair[0]!.name };
}

/**
 * bandwidth-aware: a large payload's transfer time dominates, so it goes to the member with the
 * best measured throughput; the local node needs no transfer at all and counts as the best.
 * Small payloads, or no measurement at all, fall back to latency-aware.
 *
 * Throughput is only learned by sending a member large payloads (routing-throughput.ts), so a
 * member nobody measured yet would never be tried once another one is measured. While some
 * eligible members are measured and others are not, a large payload therefore goes to an
 * unmeasured one (the cheapest by latency cost): each member is tried about once, then the best
 * measured wins. Measuring costs at most one task per member on a link that may be slower.
 */
export function chooseBandwidthAware(
  candidates: readonly Candidate[],
  payloadBytes: number,
  random: () => number,
  thresholdBytes = LARGE_PAYLOAD_BYTES,
): RouteChoice {
  if (payloadBytes <= thresholdBytes) return chooseLatencyAware(candidates, random);
  const ok = eligible(candidates);
  const local = ok.find((c) => c.local);
  if (local) return { ok: true, node: local.name };
  const measured = ok.filter(isMeasured);
  if (measured.length === 0) return chooseLatencyAware(candidates, random);
  const cheaper = byLatencyCost(ok);
  const unmeasured = ok.filter((c) => !isMeasured(c));
  if (unmeasured.length > 0) return { ok: true, node: unmeasured.sort(cheaper)[0]!.name };
  // Highest throughput; equal throughput -> lower latency cost (which ends in name order).
  measured.sort((a, b) => b.throughputBytesPerSec! - a.throughputBytesPerSec! || cheaper(a, b));
  return { ok: true, node: measured[0]!.name };
}

function isMeasured(c: Candidate): boolean {
  return c.throughputBytesPerSec !== null && c.throughputBytesPerSec > 0;
}

/**
 * round-robin over eligible members in name order. The cursor is the name chosen last, not an
 * index: when members join or leave the rotation resumes after the same name instead of
 * skipping or repeating whoever shifted position.
 */
export function chooseRoundRobin(
  candidates: readonly Candidate[],
  cursor: string | null,
): { choice: RouteChoice; cursor: string | null } {
  const ok = eligible(candidates);
  if (ok.length === 0) return { choice: noCapacity(candidates), cursor };
  const next = (cursor === null ? undefined : ok.find((c) => c.name > cursor)) ?? ok[0]!;
  return { choice: { ok: true, node: next.name }, cursor: next.name };
}

export interface RouteContext {
  random: () => number;
  /** Size of the task input in bytes (UTF-8 JSON), for bandwidth-aware. */
  payloadBytes: number;
  /** Round-robin cursor from the previous call (null at first). */
  cursor: string | null;
  largePayloadBytes?: number;
  /** The replica set of the task's agent when its tasks are sharded: local-first prefers those nodes. */
  replicas?: ReadonlySet<string>;
}

/** One entry point for every strategy; returns the (possibly advanced) round-robin cursor. */
export function route(strategy: Strategy, candidates: readonly Candidate[], ctx: RouteContext): { choice: RouteChoice; cursor: string | null } {
  switch (strategy) {
    case 'local-first':
      return { choice: ctx.replicas ? chooseDataLocal(candidates, ctx.replicas) : chooseLocalFirst(candidates), cursor: ctx.cursor };
    case 'latency-aware':
      return { choice: chooseLatencyAware(candidates, ctx.random), cursor: ctx.cursor };
    case 'bandwidth-aware':
      return { choice: chooseBandwidthAware(candidates, ctx.payloadBytes, ctx.random, ctx.largePayloadBytes), cursor: ctx.cursor };
    case 'round-robin':
      return chooseRoundRobin(candidates, ctx.cursor);
  }
}

/** A uniform index in [0, n), robust to a random() that returns exactly 1 by mistake. */
function pick(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
