// Lifeguard local health awareness. A node that misses its own acks and nacks, or keeps having to
// refute suspicions about itself, is more likely slow itself (CPU starvation, a full socket
// buffer) than surrounded by dead peers. Instead of accusing others at full speed it stretches its
// own probe interval and timeout, which is what keeps a sick node from spreading false suspicions.

export class Awareness {
  private score = 0;

  /** @param maxMultiplier timeouts grow to at most this multiple (score runs 0 .. max-1). */
  constructor(private readonly maxMultiplier: number) {}

  /** Positive deltas for evidence of our own trouble, -1 for each clean probe. Clamped. */
  applyDelta(delta: number): void {
    this.score = Math.min(this.maxMultiplier - 1, Math.max(0, this.score + delta));
  }

  /** 0 means healthy; higher means we distrust our own view of the network. */
  healthScore(): number {
    return this.score;
  }

  /** A base timeout stretched by our current health: base * (score + 1). */
  scale(baseMs: number): number {
    return baseMs * (this.score + 1);
  }
}
