// What one micro-benchmark suite is: a name, and a build step that makes its seeded inputs and
// returns the cases, each a synchronous function benny times. Suites live one per file in
// suites/ and are found by listing that folder (registry.ts), so a new subsystem's benchmarks are
// one new file there and nothing else.

export interface MicroCase {
  /** Unique within the suite; `--only` matches it as "suite/case" or by a part of it. */
  name: string;
  /** One operation. Each call must do fresh work (a new update, the next packet), not a cached no-op. */
  fn: () => void;
}

export interface BuiltSuite {
  cases: MicroCase[];
  /** Closes what build() opened (SQLite stores, temporary directories). */
  teardown?: () => void;
}

export interface BuildContext {
  /**
   * Smaller inputs (fewer pregenerated writes, documents of hundreds rather than ten thousand
   * episodes) for the CI smoke pass, which only checks that every case runs.
   */
  small: boolean;
}

export interface MicroSuite {
  /** Short, lower-case: the key in results and in `--only`. */
  name: string;
  /** One line: what the suite measures. */
  title: string;
  /** Makes the inputs (seeded, so every run measures the same bytes) and the cases. */
  build(ctx: BuildContext): BuiltSuite | Promise<BuiltSuite>;
}

/** The items in turn, wrapping at the end: how cases walk a pool of pregenerated inputs. */
export function cycling<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new RangeError('cycling() needs at least one item');
  let i = 0;
  return () => {
    const x = items[i]!;
    i = i + 1 === items.length ? 0 : i + 1;
    return x;
  };
}

/** Keeps a value alive so V8 cannot drop the work that made it as dead code. */
export let sink: unknown;
export function consume(x: unknown): void {
  sink = x;
}
