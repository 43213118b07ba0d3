// Replica sets on SimCluster (7 nodes, replication factor 3): each agent's memory ends up held by
// exactly its 3 replicas (writes through non-replicas leave no copy behind), a read on a
// non-replica sees every acknowledged write, a write whose replica set has no reachable majority
// fails at once with QuorumError naming the set (nothing applied), and after a replica crashes
// and is downed the new replica set holds every acknowledged episode (handoff), 3 nodes again.
import { describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = ['alpha', 'beta', 'gamma', 'delta', 'eps'];

function holders(c: SimCluster, agent: string): string[] {
  return c
    .live()
    .filter((i) => c.node(i).memoryService.docs.has(`agent/${agent}`))
    .map((i) => c.node(i).name)
    .sort();
}

function replicasOf(c: SimCluster, agent: string): string[] {
  return [...c.node(c.live()[0]!).memoryService.replicas.view.current().replicasOf(`agent/${agent}`)!].sort();
}

const indexOf = (c: SimCluster, name: string): number => c.nodes.findIndex((n) => n.name === name);

describe('replica sets (simulator, 7 nodes, RF 3)', () => {
  it('each agent is held by exactly its replica set; reads anywhere see acknowledged writes', async () => {
    const c = track(new SimCluster({ seed: 'replica-sets-7', nodes: 7, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
      const acked: Array<{ agent: string; id: string }> = [];
      for (let k = 0; k < 20; k++) {
        const agent = AGENTS[k % AGENTS.length]!;
        const id = await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `t${k}`, outcome: 'ok' }), 10_000);
        acked.push({ agent, id });
      }
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      for (const agent of AGENTS) {
        expect(replicasOf(c, agent)).toHaveLength(3);
        expect(holders(c, agent)).toEqual(replicasOf(c, agent));
      }
      // A read on a node that holds no copy pulls from a majority of the replicas first.
      for (const { agent, id } of acked) {
        const outsider = c.live().find((i) => !replicasOf(c, agent).includes(c.node(i).name))!;
        const mem = await c.settle(c.node(outsider).memory(agent).refresh(), 10_000);
        expect(mem.get(id)?.outcome).toBe('ok');
      }
      // Those reads leave copies behind for a moment; handoff gives them back and drops them.
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      for (const i of c.live()) expect(c.node(i).statusExtras()).toBeDefined();
    });
  });

  it('an 8th node joins: it ends up holding exactly the agents it is now a replica of, nothing lost', async () => {
    const c = track(new SimCluster({ seed: 'replica-sets-join', nodes: 7, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
      const agents = Array.from({ length: 20 }, (_, i) => `ag${i}`);
      const acked: Array<{ agent: string; id: string }> = [];
      for (const [k, agent] of agents.entries()) acked.push({ agent, id: await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `j${k}`, outcome: 'ok' }), 10_000) });
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      const joiner = c.addNode(0);
      expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === 8), 60_000)).toBe(true);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      const mine = agents.filter((a) => replicasOf(c, a).includes(c.node(joiner).name));
      expect(mine.length).toBeGreaterThan(0); // 20 agents, RF 3, 8 voters: ~7.5 expected
      expect(c.node(joiner).memoryService.agentIds().sort()).toEqual([...mine].sort());
      for (const { agent, id } of acked) {
        for (const name of replicasOf(c, agent)) expect(c.node(indexOf(c, name)).memory(agent).get(id)?.outcome).toBe('ok');
      }
    });
  });

  it('a replica that leaves gracefully hands its agents off before it exits', async () => {
    const c = track(new SimCluster({ seed: 'replica-sets-leave', nodes: 7, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
      const acked: Array<{ agent: string; id: string }> = [];
      for (const [k, agent] of AGENTS.entries()) acked.push({ agent, id: await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `l${k}`, outcome: 'ok' }), 10_000) });
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      const leaver = 3;
      const held = c.node(leaver).memoryService.agentIds();
      expect(held.length).toBeGreaterThan(0);
      const droppedBefore = c.node(leaver).memoryService.replicas.status().handoffDropped;
      await c.stop(leaver, 30_000);
      // It dropped each of them only after a majority of the new replica set stored it.
      expect(c.node(leaver).memoryService.replicas.status().handoffDropped - droppedBefore).toBe(held.length);
      expect(c.node(leaver).memoryService.agentIds()).toEqual([]);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      for (const { agent, id } of acked) for (const name of replicasOf(c, agent)) expect(c.node(indexOf(c, name)).memory(agent).get(id)?.outcome).toBe('ok');
    });
  });

  it('no reachable replica majority: QuorumError naming the set, nothing applied; a crashed replica is replaced with nothing lost', async () => {
    const c = track(new SimCluster({ seed: 'replica-sets-crash', nodes: 7, replicationFactor: 3, nodeOptions: { stableAfterMs: 3000 } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
      const agent = 'alpha';
      const acked: string[] = [];
      for (let k = 0; k < 6; k++) acked.push(await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `a${k}`, outcome: 'ok' }), 10_000));
      const set = replicasOf(c, agent);
      const outsider = c.live().find((i) => !set.includes(c.node(i).name))!;
      // Cut two of the three replicas off from the rest: the cluster keeps its majority (5 of 7),
      // but the agent's replica set does not.
      const cut = set.slice(0, 2).map((n) => indexOf(c, n));
      c.partition(
        cut,
        c.live().filter((i) => !cut.includes(i)),
      );
      expect(await c.runUntil(() => c.node(outsider).gate.verdict().writable && c.node(outsider).gate.reachableVoters().size === 5, 30_000)).toBe(true);
      const before = c.node(outsider).memoryService.docs.has(`agent/${agent}`);
      let err: unknown;
      try {
        await c.settle(c.node(outsider).memory(agent).addEpisode({ task: 'refused', outcome: 'x' }), 10_000);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuorumError);
      expect([...(err as QuorumError).replicas!].sort()).toEqual(set);
      expect((err as QuorumError).data()).toMatchObject({ reachable: 1, voters: 3 });
      expect((err as QuorumError).message).toContain(`replica set of agent ${agent}`);
      expect(c.node(outsider).memoryService.docs.has(`agent/${agent}`)).toBe(before); // nothing applied
      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(7), 30_000)).toBe(true);
      // Crash one replica for good: once it is downed, the next voter takes its place and catches up.
      const victim = indexOf(c, set[0]!);
      c.crash(victim);
      expect(await c.runUntil(() => c.node(outsider).gate.voterConfig().voters.length === 6, 120_000)).toBe(true);
      const after = replicasOf(c, agent);
      expect(after).toHaveLength(3);
      expect(after).not.toContain(set[0]);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
      expect(holders(c, agent)).toEqual(after);
      // The refused write never surfaces, not even after the heal and the handoff.
      for (const name of after) expect(c.node(indexOf(c, name)).memory(agent).list().some((e) => e.task === 'refused')).toBe(false);
      for (const name of after) {
        const mem = c.node(indexOf(c, name)).memory(agent);
        for (const id of acked) expect(mem.get(id)?.outcome).toBe('ok');
      }
    });
  });
});
