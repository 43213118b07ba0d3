// Where a quorum write waits (diagnostics, off by default). TRI_WRITE_TRACE=DIR makes every node
// process append, once a second, one JSON line per interval to DIR/<pid>.jsonl: per phase of the
// write path (own fsync, the log's fdatasync, the majority's acks, ...) how many, mean, p50, p99
// and max in ms, the batch sizes of group commits, and the event loop's delay. With the variable
// unset `writeTrace` is undefined and the write path pays one comparison per mark.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const SAMPLES = 4096;

class Series {
  n = 0;
  sum = 0;
  max = 0;
  readonly samples: number[] = [];
  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
    // Reservoir: a bounded, uniform sample of the interval.
    if (this.samples.length < SAMPLES) this.samples.push(v);
    else {
      const j = Math.floor(Math.random() * this.n);
      if (j < SAMPLES) this.samples[j] = v;
    }
  }
  summary(): { n: number; mean: number; p50: number; p99: number; max: number } {
    const s = [...this.samples].sort((a, b) => a - b);
    const at = (q: number): number => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    const r = (x: number): number => Math.round(x * 100) / 100;
    return { n: this.n, mean: r(this.sum / Math.max(1, this.n)), p50: r(at(0.5)), p99: r(at(0.99)), max: r(this.max) };
  }
}

export class WriteTrace {
  private series = new Map<string, Series>();
  /** Writes slower than TRI_WRITE_TRACE_SLOW_MS (default 250): one record each, at most 200 an interval. */
  private slowWrites: unknown[] = [];
  readonly slowMs = Number(process.env.TRI_WRITE_TRACE_SLOW_MS ?? 250);
  private readonly loop = monitorEventLoopDelay({ resolution: 5 });

  constructor(private readonly file: string) {
    this.loop.enable();
    setInterval(() => this.dump(), 1_000).unref();
  }

  /** Records one value (ms, or a count) of `phase`. */
  add(phase: string, v: number): void {
    let s = this.series.get(phase);
    if (!s) this.series.set(phase, (s = new Series()));
    s.add(v);
  }

  /** Records the ms since `t0` (a performance.now()) under `phase`. */
  since(phase: string, t0: number): void {
    this.add(phase, performance.now() - t0);
  }

  /** Keeps the record of one slow write (who acked when, when our own copy was durable). */
  slow(record: unknown): void {
    if (this.slowWrites.length < 200) this.slowWrites.push(record);
  }

  /** Writes the interval's line now (the timer does it every second). */
  dump(): void {
    if (this.series.size === 0) return;
    const line: Record<string, unknown> = { t: Date.now(), loopDelayMs: { p50: this.loop.percentile(50) / 1e6, p99: this.loop.percentile(99) / 1e6, max: this.loop.max / 1e6 } };
    for (const [k, s] of this.series) line[k] = s.summary();
    if (this.slowWrites.length > 0) line.slow = this.slowWrites;
    this.slowWrites = [];
    this.series = new Map();
    this.loop.reset();
    try {
      appendFileSync(this.file, `${JSON.stringify(line)}\n`);
    } catch {
      // diagnostics only: a full disk must not stop the node
    }
  }
}

function open(): WriteTrace | undefined {
  const dir = process.env.TRI_WRITE_TRACE;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  return new WriteTrace(join(dir, `${process.pid}.jsonl`));
}

export const writeTrace: WriteTrace | undefined = open();
export const traceNow = (): number => performance.now();

/** `p`, its wait recorded under `phase` when tracing. */
export function timed<T>(phase: string, p: Promise<T>): Promise<T> {
  if (!writeTrace) return p;
  const t0 = traceNow();
  return p.finally(() => writeTrace?.since(phase, t0));
}
