// The commands that only talk to a running node (no Yjs, SQLite or gossip in their process): the
// build bundles them into one file (tri-client.ts, scripts/bundle-cli.mjs) so they start fast.
// Imports nothing: tri.ts reads this before deciding what to load.
export const CLIENT_COMMANDS: readonly string[] = ['memory', 'task', 'status', 'nodes'];

/**
 * Whether `tri <command>` runs from the bundle: a client command, and a bundle built no earlier
 * than the compiled modules (a `tsc` run after the last bundling leaves it stale: the modules win).
 */
export function runsFromBundle(command: string, bundleMtimeMs: number | undefined, modulesMtimeMs: number | undefined): boolean {
  return CLIENT_COMMANDS.includes(command) && bundleMtimeMs !== undefined && modulesMtimeMs !== undefined && bundleMtimeMs >= modulesMtimeMs;
}
