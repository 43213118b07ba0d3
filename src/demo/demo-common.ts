// What the demo's steps share: how they report, how they fail, and waiting for convergence. Kept
// apart from scenario.ts (which runs the steps) so the steps do not import their runner.
import { waitFor, type ProcessCluster } from './process-cluster.js';

export type Say = (line: string) => void;

export class DemoFailure extends Error {}

/** Waits until every listed node reports the same memory digest; returns it. */
export async function convergedDigest(c: ProcessCluster, nodes: number[], timeoutMs = 20_000): Promise<string> {
  const d = await waitFor(async () => {
    const ds = await Promise.all(nodes.map(async (i) => (await c.client(i)).memoryDigest().then((x) => x.digest).catch(() => undefined)));
    return ds.every((x) => x !== undefined && x === ds[0]) ? ds[0] : undefined;
  }, timeoutMs, 250);
  if (!d) throw new DemoFailure(`memory did not converge within ${timeoutMs / 1000} s`);
  return d;
}
