// One Lifeguard suspicion timer. It starts at `max` and every *independent* confirmation (another
// member that also failed to reach the suspect and said so) pulls the deadline down the log curve
// of remainingSuspicionTime, reaching `min` after k confirmations. Many accusers are unlikely to
// share a local fault, so agreement earns a quick verdict; a lone accuser has to wait long enough
// for the suspect to hear about it and refute. Sans-IO: the owner polls `deadline()`.

import { remainingSuspicionTime } from './math.js';

export class Suspicion {
  private readonly confirmers = new Set<string>();

  /**
   * @param origin the member whose suspicion started this timer; it never counts as a confirmation.
   * @param k confirmations that drive the timeout down to min (0: it starts at min).
   */
  constructor(
    readonly origin: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly startedAt: number,
  ) {}

  /** Independent confirmations so far. */
  confirmations(): number {
    return this.confirmers.size;
  }

  /**
   * Records that `from` suspects the member too. Returns true when this is new information worth
   * re-broadcasting (a new confirmer while we still want more), false for repeats.
   */
  confirm(from: string): boolean {
    if (this.confirmers.size >= this.k) return false;
    if (from === this.origin || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    return true;
  }

  /** Absolute time at which the suspect should be declared dead. */
  deadline(): number {
    const timeout = this.k < 1 ? this.minMs : remainingSuspicionTime(this.confirmers.size, this.k, 0, this.minMs, this.maxMs);
    return this.startedAt + timeout;
  }
}
