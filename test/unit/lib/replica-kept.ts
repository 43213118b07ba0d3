// The closing check of the simulator's move tests: once the replicas converge, every acknowledged
// episode is on every member of its agent's current replica set.
import { expect } from 'vitest';
import { replicaDivergence } from '../../../src/fuzz/replica-check.js';
import type { SimCluster } from '../../../src/sim/cluster-sim.js';

export async function expectAckedOnReplicas(c: SimCluster, acked: ReadonlyArray<{ agent: string; id: string }>): Promise<void> {
  expect(await c.runUntil(() => replicaDivergence(c) === undefined, 120_000)).toBe(true);
  const scope = c.node(c.live()[0]!).memoryService.replicas.view.current();
  for (const { agent, id } of acked) {
    for (const name of scope.replicasOf(`agent/${agent}`)!) {
      const i = c.nodes.findIndex((n) => n.name === name);
      expect(c.node(i).memory(agent).get(id)?.outcome, `${agent} ${id} on ${name}`).toBe('ok');
    }
  }
}
