import type { Cancel, Scheduler } from '../../../src/runtime/types.js';

/** Runs scheduled work only when the test says so (one due callback per `runOne`). */
export class StepScheduler implements Scheduler {
  readonly due: Array<() => void> = [];
  schedule(_ms: number, fn: () => void): Cancel {
    this.due.push(fn);
    return () => {
      const i = this.due.indexOf(fn);
      if (i >= 0) this.due.splice(i, 1);
    };
  }
  runOne(): void {
    this.due.shift()?.();
  }
}
