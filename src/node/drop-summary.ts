// Hostile or misdirected traffic is summarised, never logged per packet: a flood must not turn
// into a flood of log lines. Drops are counted by reason and source, and at most one warning per
// period reports what arrived since the last one.
import type { Logger, Scheduler } from '../runtime/types.js';

const PERIOD_MS = 10_000;
const MAX_SOURCES = 1024;

export class DropSummary {
  private counts = new Map<string, number>();
  private sources = new Map<string, number>();
  private armed = false;
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly scheduler: Scheduler,
    private readonly what: string,
  ) {}

  record(reason: string, from: string): void {
    if (this.stopped) return;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const host = from.replace(/:\d+$/, '');
    if (this.sources.has(host) || this.sources.size < MAX_SOURCES) this.sources.set(host, (this.sources.get(host) ?? 0) + 1);
    if (!this.armed) {
      this.armed = true;
      this.scheduler.schedule(PERIOD_MS, () => this.flush());
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private flush(): void {
    this.armed = false;
    if (this.stopped || this.counts.size === 0) return;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const top = [...this.sources.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([source, n]) => ({ source, n }));
    this.log.warn({ dropped: total, byReason: Object.fromEntries(this.counts), topSources: top, periodMs: PERIOD_MS }, `dropped ${total} ${this.what} in the last ${PERIOD_MS / 1000} s`);
    this.counts = new Map();
    this.sources = new Map();
  }
}
