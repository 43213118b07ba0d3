// The catch-up push-pull. Push gossip sends each fact a bounded number of times, so after a burst
// of joins some member can miss a fact for good (measured: 1 of 400 simulated nodes forming
// together missed 1 join, and converged only at its next periodic push-pull, 14 s later at 400
// nodes and up to 150 s at 1,000 with the scaled interval). A push-pull that taught us members is
// the sign we were behind: once our table then stops growing for a while, we pull once more from a
// random member, and again while such pulls keep teaching us members. A node in step never
// arms it, so a quiet cluster pays nothing, and a join costs the joiner one or two extra pulls.
//
// A join storm (many nodes joining through one seed at once) is the other case: an early joiner's
// answer held only the few members the seed knew then, and gossip then brings the rest a few facts
// per packet, each fact sent ~12 times by every node (O(N) rounds at 1,000 nodes). When gossip
// teaches us BURST members within a round or two of a pull, the member that answered it (the
// seed) has most likely heard of them too and more: we pull from it again at once, one stream
// carrying the whole table instead of N facts over many gossip rounds.

/** Members learnt by gossip since a push-pull that make a join storm's second pull worth it. */
export const CATCH_UP_BURST = 16;

export type CatchUpReason = 'quiet' | 'burst';

export class CatchUp {
  /**
   * The table size last seen and since when it has not grown; `base` and `mergedAt` the size and
   * time of the last pull that taught us or burst pull; `teacher` who answered it. Undefined while disarmed.
   */
  private armed: { size: number; since: number; base: number; mergedAt: number; teacher: string | undefined } | undefined;

  constructor(
    private readonly quietMs: number,
    /** Least time between a pull and a burst pull (the teacher needs a moment to hear the storm). */
    private readonly burstGapMs = 0,
  ) {}

  /** A push-pull we asked for merged: arm if it grew our table from `before` to `after` members, `teacher` answering. */
  merged(before: number, after: number, now: number, teacher?: string): void {
    if (after > before) this.armed = { size: after, since: now, base: after, mergedAt: now, teacher };
  }

  /** The member whose answer armed us (for a burst pull). */
  teacher(): string | undefined {
    return this.armed?.teacher;
  }

  /**
   * Whether a catch-up pull is due now: 'quiet' once the table of `size` members stopped growing
   * (disarms), 'burst' when gossip taught us CATCH_UP_BURST members since the last pull (stays
   * armed, so a quiet pull still follows); undefined otherwise.
   */
  due(size: number, now: number): CatchUpReason | undefined {
    const a = this.armed;
    if (!a) return undefined;
    if (size !== a.size) {
      a.size = size;
      a.since = now;
      if (size - a.base >= CATCH_UP_BURST && now - a.mergedAt >= this.burstGapMs) {
        a.base = size;
        a.mergedAt = now;
        return 'burst';
      }
      return undefined;
    }
    if (now - a.since < this.quietMs) return undefined;
    this.armed = undefined;
    return 'quiet';
  }

  /** When due() may next answer 'quiet' (Infinity while disarmed); a burst is noticed when the table grows. */
  deadline(): number {
    return this.armed ? this.armed.since + this.quietMs : Infinity;
  }
}
