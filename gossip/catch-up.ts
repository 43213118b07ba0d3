// The catch-up push-pull. Push gossip sends each fact a bounded number of times, so after a burst
// of joins some member can miss a fact for good (measured: 1 of 400 simulated nodes forming
// together missed 1 join, and converged only at its next periodic push-pull, 14 s later at 400
// nodes and up to 150 s at 1,000 with the scaled interval). A push-pull that taught us members is
// the sign we were behind: once our table then stops growing for a while, we pull once more from a
// random member, and again while such pulls keep teaching us members. A node in step never
// arms it, so a quiet cluster pays nothing, and a join costs the joiner one or two extra pulls.

export class CatchUp {
  /** The table size last seen, and since when it has not grown; undefined while disarmed. */
  private armed: { size: number; since: number } | undefined;

  constructor(private readonly quietMs: number) {}

  /** A push-pull we asked for merged: arm if it grew our table from `before` to `after` members. */
  merged(before: number, after: number, now: number): void {
    if (after > before) this.armed = { size: after, since: now };
  }

  /** Whether the catch-up pull is due now (the table of `size` members stopped growing); disarms when it is. */
  due(size: number, now: number): boolean {
    const a = this.armed;
    if (!a) return false;
    if (size !== a.size) {
      this.armed = { size, since: now };
      return false;
    }
    if (now - a.since < this.quietMs) return false;
    this.armed = undefined;
    return true;
  }

  /** When due() may next answer true (Infinity while disarmed). */
  deadline(): number {
    return this.armed ? this.armed.since + this.quietMs : Infinity;
  }
}
