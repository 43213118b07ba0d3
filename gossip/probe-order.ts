// Who we probe next. SWIM's round-robin over a shuffled list bounds the time until every member
// is probed (at most two passes) while keeping probe targets uncorrelated between nodes; new
// members go in at random positions so a join does not shift everyone's schedule the same way.
//
// On top of that, a priority lane: when we hear that someone else suspects a member, we probe
// that member at our very next period. Memberlist waits until its round-robin happens to reach
// the suspect, so the independent confirmations Lifeguard needs trickle in over several periods;
// probing at once brings them within about one period, which lets the suspicion timer fall to its
// minimum early. A healthy suspect also benefits: our ping carries the suspicion (the buddy
// rule), so it refutes immediately.

export class ProbeOrder {
  private list: string[] = [];
  private index = 0;
  private priority: string[] = [];

  constructor(private readonly random: () => number) {}

  /** Adds a member at a random position (no-op if already present). */
  add(name: string): void {
    if (this.list.includes(name)) return;
    const at = Math.floor(this.random() * (this.list.length + 1));
    this.list.splice(at, 0, name);
    if (at < this.index) this.index++; // keep the cursor on the same member
  }

  remove(name: string): void {
    const at = this.list.indexOf(name);
    if (at >= 0) {
      this.list.splice(at, 1);
      if (at < this.index) this.index--;
    }
    this.priority = this.priority.filter((n) => n !== name);
  }

  /** Probe this member before resuming the round-robin. */
  prioritise(name: string): void {
    if (!this.priority.includes(name)) this.priority.push(name);
  }

  /**
   * The next member to probe: prioritised ones passing `urgent`, else the next round-robin
   * member passing `eligible`. Undefined when nobody qualifies.
   */
  next(eligible: (name: string) => boolean, urgent: (name: string) => boolean): string | undefined {
    while (this.priority.length > 0) {
      const name = this.priority.shift()!;
      if (urgent(name)) return name;
    }
    for (let step = 0; step <= this.list.length; step++) {
      if (this.index >= this.list.length) {
        this.shuffle();
        this.index = 0;
      }
      const name = this.list[this.index++];
      if (name !== undefined && eligible(name)) return name;
    }
    return undefined;
  }

  private shuffle(): void {
    for (let i = this.list.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [this.list[i], this.list[j]] = [this.list[j]!, this.list[i]!];
    }
  }
}

/** Up to k distinct random picks from `items` (partial Fisher-Yates; does not modify the input). */
export function pickRandom<T>(items: readonly T[], k: number, random: () => number): T[] {
  const pool = [...items];
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}
