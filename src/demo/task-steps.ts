// Task steps of the demo: filled in once the task service lands.
import type { ProcessCluster } from './process-cluster.js';
import type { Say } from './scenario.js';

export async function runTaskSteps(c: ProcessCluster, say: Say, victim: number): Promise<void> {
  c.kill(victim, 'SIGKILL');
  say(`crash: SIGKILL to ${c.nodes[victim]!.name}`);
  const { waitFor } = await import('./process-cluster.js');
  const failed = await waitFor(async () => {
    const m = await c.members(0);
    return m?.find((x) => x.name === c.nodes[victim]!.name && x.state === 'FAILED');
  }, 30_000);
  if (!failed) throw new Error(`${c.nodes[victim]!.name} was not declared FAILED`);
  say(`detected: ${failed.name} is FAILED`);
}
