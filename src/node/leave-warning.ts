// Stopping voters one by one shrinks the voter set (each leaves through a configuration change)
// down to the last one, whose disk then holds the only copy the cluster can write with. Say so
// before a graceful stop that leaves the configuration that thin, or leaves it without a majority.
import type { Logger } from '../runtime/types.js';

export interface LeaveFacts {
  self: string;
  voters: string[];
  reachable: ReadonlySet<string>;
}

/** The warning for this stop, if any (undefined when the stop leaves a healthy voter set). */
export function leaveWarning(f: LeaveFacts): string | undefined {
  if (!f.voters.includes(f.self)) return undefined; // a learner leaving changes no quorum
  const after = f.voters.filter((v) => v !== f.self);
  if (after.length === 0) return `${f.self} is the only voter: once it stops, nothing can be written until it is back (its data directory holds the only writable copy)`;
  const reachableAfter = after.filter((v) => f.reachable.has(v)).length;
  const majority = Math.floor(after.length / 2) + 1;
  if (reachableAfter < majority) {
    return `stopping ${f.self} leaves ${reachableAfter} reachable of ${after.length} remaining voters, fewer than a majority: the cluster becomes read-only until voters come back`;
  }
  if (after.length === 1) {
    return `stopping ${f.self} leaves ${after[0]} as the only voter: if its disk is lost the cluster can never write again without \`tri operator force-voters\`; start another node first to keep a copy`;
  }
  return undefined;
}

export function warnBeforeLeaving(logger: Logger, f: LeaveFacts): void {
  const w = leaveWarning(f);
  if (w) logger.warn({ voters: f.voters, reachable: [...f.reachable] }, w);
}
