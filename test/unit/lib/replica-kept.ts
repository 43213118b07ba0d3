// What the simulator's move tests share: steady writers during a change, and the closing check
// (once the replicas converge, every acknowledged episode is on every member of its agent's
// current replica set).
import { expect } from 'vitest';
import { QuorumError } from '../../../src/errors.js';
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

/**
 * Writers on nodes `nodes`, each adding episodes to `agentOf(w, k)` until stopped (at most 2,000
 * each): what was acknowledged, the QuorumError refusals (as `describe` words them) and how many
 * other errors (ack timeouts) there were.
 */
export function steadyWriters(c: SimCluster, nodes: number[], agentOf: (w: number, k: number) => string, describe: (w: number, err: Error) => string) {
  const acked: Array<{ agent: string; id: string }> = [];
  const refused: string[] = [];
  let other = 0;
  let stopped = false;
  const writer = async (w: number): Promise<void> => {
    for (let k = 0; !stopped && k < 2_000; k++) {
      const agent = agentOf(w, k);
      try {
        acked.push({ agent, id: await c.node(w).memory(agent).addEpisode({ task: `w${w}-${k}`, outcome: 'ok' }) });
      } catch (err) {
        if (err instanceof QuorumError) refused.push(`${c.now()} ms n${w}: ${describe(w, err)}`);
        else other++;
      }
    }
  };
  const all = Promise.all(nodes.map((w) => writer(w)));
  return {
    acked,
    refused,
    other: (): number => other,
    /** Stops the writers and runs the cluster until each finished its write in flight. */
    stop: async (): Promise<void> => {
      stopped = true;
      await c.settle(all, 30_000);
    },
  };
}
