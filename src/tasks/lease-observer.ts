// Times leases on this replica's own clock. Node clocks are monotonic and private (see
// src/runtime/types.ts), so an "expires at" written on one node means nothing on another.
// The table therefore replicates lease *durations*, and each replica starts the timer when it
// first observes a version of the lease (a new assignment or a renewal). This errs on the long
// side: a lease can only look younger than it is, so nothing is reassigned early. A replica
// that restarts observes every lease afresh, which gives the holders one extra lease of grace.

import type { TaskState } from './task-state.js';

export class LeaseObserver {
  /** Task id -> the lease version last observed and when it runs out on this clock. Never replicated. */
  private readonly seen = new Map<string, { version: string; expiresAt: number }>();

  /** The expiry of the task's current lease, starting the timer at `now` if this version is new. */
  observe(s: TaskState, now: number): number | null {
    const id = s.spec.id;
    if (s.leaseVersion === undefined || s.leaseMs === undefined) {
      this.seen.delete(id); // finished or never assigned: nothing to time
      return null;
    }
    const prev = this.seen.get(id);
    if (prev && prev.version === s.leaseVersion) return prev.expiresAt;
    const expiresAt = now + s.leaseMs;
    this.seen.set(id, { version: s.leaseVersion, expiresAt });
    return expiresAt;
  }

  /** The expiry if this replica already observed the current version, else null (read-only). */
  expiry(s: TaskState): number | null {
    const prev = this.seen.get(s.spec.id);
    return prev && prev.version === s.leaseVersion ? prev.expiresAt : null;
  }
}
