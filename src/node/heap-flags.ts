// V8 sizes its heap when the process starts: `v8.setFlagsFromString('--max-semi-space-size=…')`
// at run time changes nothing in Node 20 (measured: new space stays 32 MiB), so a node's heap can
// only be bounded by the flags it is started with. These are the flags a node started with
// `--memory-budget` should get. Young generation: V8's default semi-space (16 MiB, so 32 MiB of
// new space) is the churn that RSS keeps once reached; a smaller one scavenges more often. Old
// generation: a ceiling far above what the budget and the heap guard's allowance hold live, so a
// leak fails loudly instead of growing to V8's default of about 4 GiB. SQLite's page cache is
// sized from the budget too (sqliteCacheBytes), in the process itself.
const MIB = 1024 * 1024;

/** The flags this module may set; one the user already set (NODE_OPTIONS or node's own argv) is left alone. */
export const HEAP_FLAG_NAMES = ['--max-semi-space-size', '--max-old-space-size'] as const;

/** Semi-space in MiB: budget / 32, as a power of two from 1 to 16 (V8's default). */
export function semiSpaceMiB(budgetBytes: number): number {
  const want = budgetBytes / 32 / MIB;
  let s = 1;
  while (s * 2 <= want && s < 16) s *= 2;
  return s;
}

/** Old-generation ceiling in MiB: 4 x the budget + 256 MiB, at least 512 MiB. */
export function oldSpaceMiB(budgetBytes: number): number {
  return Math.max(512, Math.ceil((4 * budgetBytes) / MIB) + 256);
}

/**
 * The V8 flags for a node process with this memory budget, leaving out any of them already given
 * in `nodeOptions` (the NODE_OPTIONS text) or `execArgv` (the flags node itself was started with).
 */
export function heapFlagsForBudget(budgetBytes: number, nodeOptions = '', execArgv: readonly string[] = []): string[] {
  if (!Number.isFinite(budgetBytes) || budgetBytes <= 0) throw new RangeError(`memory budget must be a positive number of bytes, got ${budgetBytes}`);
  const given = [...nodeOptions.split(/\s+/), ...execArgv].filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!.replace(/_/g, '-'));
  const flags: string[] = [];
  if (!given.includes('--max-semi-space-size')) flags.push(`--max-semi-space-size=${semiSpaceMiB(budgetBytes)}`);
  if (!given.includes('--max-old-space-size')) flags.push(`--max-old-space-size=${oldSpaceMiB(budgetBytes)}`);
  return flags;
}

/**
 * SQLite's page cache for the node's store (native memory that RSS carries and V8 flags do not
 * bound): budget / 8, from 2 to 16 MiB (better-sqlite3's default).
 */
export function sqliteCacheBytes(budgetBytes: number): number {
  return Math.min(16 * MIB, Math.max(2 * MIB, Math.floor(budgetBytes / 8)));
}

/**
 * Heap the guard (heap-guard.ts) allows beyond the budget before it asks for a collection:
 * budget / 4, from 32 to 64 MiB, so a small budget does not carry a fixed 64 MiB of garbage.
 */
export function guardAllowanceBytes(budgetBytes: number): number {
  return Math.min(64 * MIB, Math.max(32 * MIB, Math.floor(budgetBytes / 4)));
}

/** The same for a child this process spawns: it inherits this process's NODE_OPTIONS. */
export function childHeapFlags(budgetBytes: number): string[] {
  return heapFlagsForBudget(budgetBytes, process.env.NODE_OPTIONS ?? '');
}
