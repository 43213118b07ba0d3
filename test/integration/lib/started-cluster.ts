// The lifecycle most real-process suites share: one TriCluster per describe block, started before
// its tests (cleaned up at once if it fails to start), and cleaned up after them, keeping the node
// logs when any test failed.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { TriCluster, type ClusterOptions } from './tri-cluster.js';

export interface StartedClusterHooks {
  /** Runs before the cluster is created (e.g. writing an --agents module its options name). */
  before?: () => void;
  /** Runs once the cluster is ACTIVE everywhere; `ms` is how long starting took. */
  started?: (ms: number) => void;
  /** Runs after cleanup. */
  after?: () => void;
}

/** Registers the hooks; `set` receives the cluster as soon as it exists. */
export function useStartedCluster(options: () => ClusterOptions, set: (c: TriCluster) => void, hooks: StartedClusterHooks = {}): void {
  let cluster: TriCluster | undefined;
  let anyFailed = false;
  beforeAll(async () => {
    hooks.before?.();
    const c = (cluster = await TriCluster.create(options()));
    set(c);
    const t0 = Date.now();
    try {
      await c.startAll(40_000);
    } catch (err) {
      await c.cleanup(true);
      throw err;
    }
    hooks.started?.(Date.now() - t0);
  }, 60_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') anyFailed = true;
  });

  afterAll(async () => {
    await cluster?.cleanup(anyFailed);
    hooks.after?.();
  });
}
