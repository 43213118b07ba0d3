// Helpers for the benchmarks that weigh what documents cost in memory.

/** Live JS heap after full collections; the process must run with `node --expose-gc`. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** A tiny deterministic sequence in [0, 1) (Lehmer), so generated documents are the same every run. */
export function lehmerSequence(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 48271) % 2147483647) / 2147483647;
}
