// Who we probe next. SWIM's round-robin over a shuffled list bounds the time until every member
// is probed (at most two passes) while keeping probe targets uncorrelated between nodes; new
// members go in at random positions so a join does not shift everyone's schedule the same way.
// Suspects jump this queue; prober.ts decides when.

export class ProbeOrder {
  private list: string[] = [];
  /** Who is in `list`: a join must not scan the whole list (1,000 members). */
  private readonly present = new Set<string>();
  private index = 0;

  constructor(private readonly random: () => number) {}

  /** Adds a member at a random position (no-op if already present). */
  add(name: string): void {
    if (this.present.has(name)) return;
    this.present.add(name);
    const at = Math.floor(this.random() * (this.list.length + 1));
    this.list.splice(at, 0, name);
    if (at < this.index) this.index++; // keep the cursor on the same member
  }

  remove(name: string): void {
    if (!this.present.delete(name)) return;
    const at = this.list.indexOf(name);
    if (at >= 0) {
      this.list.splice(at, 1);
      if (at < this.index) this.index--;
    }
  }

  /** The next round-robin member passing `eligible`; undefined when nobody qualifies. */
  next(eligible: (name: string) => boolean): string | undefined {
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

/**
 * Up to k distinct random picks from `items` (partial Fisher-Yates; does not modify the input).
 * The swaps are kept in a small map instead of a copy of `items`: callers pick 1-3 of up to
 * 1,000 members several times a second, and copying the list each time was O(N) per pick.
 */
export function pickRandom<T>(items: readonly T[], k: number, random: () => number): T[] {
  const len = items.length;
  const n = Math.min(k, len);
  const out: T[] = [];
  if (n <= 0) return out;
  const moved = new Map<number, T>();
  const at = (i: number): T => (moved.has(i) ? moved.get(i)! : items[i]!);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (len - i));
    const picked = at(j);
    moved.set(j, at(i));
    moved.set(i, picked);
    out.push(picked);
  }
  return out;
}
