// Drives a sans-IO core that exposes `nextDeadline()` and wants `tick(now)` called then: keeps
// exactly one scheduler callback armed at the earliest deadline. Shared by the SWIM, sync and
// quorum drivers.
import type { Cancel, Runtime } from './types.js';

export class DeadlineTimer {
  private cancel: Cancel | undefined;
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly nextDeadline: () => number,
    private readonly onDue: (now: number) => void,
  ) {}

  /** Call after anything that may have moved the core's deadline earlier. */
  arm(): void {
    if (this.stopped) return;
    const at = this.nextDeadline();
    if (!Number.isFinite(at)) return;
    if (this.cancel && at >= this.armedAt) return; // an earlier or equal wake-up is already set
    this.cancel?.();
    this.armedAt = at;
    this.cancel = this.runtime.scheduler.schedule(Math.max(0, at - this.runtime.clock.now()), () => {
      this.cancel = undefined;
      this.armedAt = Infinity;
      if (this.stopped) return;
      this.onDue(this.runtime.clock.now());
      this.arm();
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }
}
