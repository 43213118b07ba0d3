// Writes during a move on SimCluster (7 nodes, replication factor 3, an 8th joins): until a
// node completed a document's move, its writes need a majority of the old replica set and of the
// new one. A crash of a minority of the old set mid-move leaves writes acknowledged and every
// acknowledged write is kept; a crash of a majority of the old set refuses the write at once with
// QuorumError naming the old set, nothing applied; a second change before the move finished keeps
// both previous sets, and they survive a restart of the writer.
import { describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import type { ReplicaScope } from '../../src/placement/replica-scope.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { expectAckedOnReplicas } from './lib/replica-kept.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = Array.from({ length: 48 }, (_, i) => `mv${i}`);
const indexOf = (c: SimCluster, name: string): number => c.nodes.findIndex((n) => n.name === name);
const sorted = (a: readonly string[]): string[] => [...a].sort();
const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((n) => b.includes(n));

/** A cluster of 7 with every agent written once, converged; `stableAfterMs` long enough that crashes in the test are not downed before it asks. */
async function formed(seed: string, stableAfterMs: number, prewarm = true): Promise<{ c: SimCluster; acked: Array<{ agent: string; id: string }> }> {
  const c = track(new SimCluster({ seed, nodes: 7, replicationFactor: 3, nodeOptions: { stableAfterMs, prewarm } }));
  await c.start();
  expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
  const acked: Array<{ agent: string; id: string }> = [];
  for (const [k, agent] of AGENTS.entries()) acked.push({ agent, id: await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `w${k}`, outcome: 'ok' }), 10_000) });
  expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
  return { c, acked };
}

/** Joins one more node and waits until every live node is on the configuration that admitted it. */
async function join(c: SimCluster, voters: number): Promise<number> {
  const j = c.addNode(0);
  expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.voterConfig().voters.length === voters), 60_000)).toBe(true);
  return j;
}

/** An agent whose set moved between `before` and `after`, and a writer in neither set, nor in `avoid`. */
function movedAgent(c: SimCluster, before: ReplicaScope, after: ReplicaScope, avoid: number[]): { agent: string; old: readonly string[]; now: readonly string[]; writer: number } {
  for (const agent of AGENTS) {
    const old = before.replicasOf(`agent/${agent}`)!;
    const now = after.replicasOf(`agent/${agent}`)!;
    if (same(old, now)) continue;
    const writer = c.live().find((i) => !avoid.includes(i) && !old.includes(c.node(i).name) && !now.includes(c.node(i).name));
    if (writer !== undefined) return { agent, old, now, writer };
  }
  throw new Error('no agent moved');
}

describe('writes during a move (simulator, 7 nodes + 1, RF 3)', () => {
  it('a minority of the old set crashes mid-move: writes need and get both majorities, nothing acknowledged is lost', async () => {
    const { c, acked } = await formed('moves-minority', 4000);
    await withReplay(c, async () => {
      const before = c.node(0).memoryService.replicas.view.current();
      const joiner = await join(c, 8);
      const after = c.node(0).memoryService.replicas.view.current();
      const { agent, old, now, writer } = movedAgent(c, before, after, [joiner]);
      const w = c.node(writer).memoryService.replicas.view;
      // (The configurations the cluster formed through are previous sets too, until the move is completed here.)
      const prev = w.previousSets(`agent/${agent}`);
      expect(prev.find((p) => p.epoch === before.epoch)?.replicas).toEqual(old);
      // Crash one replica that is in both sets (and in every earlier one with it, so only this move's old set
      // is short): the old set's majority then needs the replica that is leaving it.
      const both = old.filter((n) => now.includes(n) && prev.every((p) => p.replicas.length > 2 * p.replicas.filter((r) => r === n).length));
      expect(both.length).toBeGreaterThan(0);
      const victim = indexOf(c, both[0]!);
      c.crash(victim);
      expect(await c.runUntil(() => !c.node(writer).gate.reachableVoters().has(c.node(victim).name), 30_000)).toBe(true);
      expect(w.previousSets(`agent/${agent}`)).toEqual(prev); // the move is still incomplete on the writer
      const plan = w.planFor(`agent/${agent}`);
      // Every live replica of every set but the one leaving this move's old set: the old set lacks a majority.
      const leaving = old.filter((n) => !now.includes(n));
      const everyone = new Set([...now, ...prev.flatMap((p) => p.replicas)].filter((n) => n !== both[0]));
      expect(plan.complete(new Set([...everyone].filter((n) => !leaving.includes(n))))).toBe(false);
      expect(plan.complete(everyone)).toBe(true);
      for (let k = 0; k < 4; k++) acked.push({ agent, id: await c.settle(c.node(writer).memory(agent).addEpisode({ task: `during${k}`, outcome: 'ok' }), 10_000) });
      // Other agents keep writing too.
      for (const [k, other] of AGENTS.slice(0, 6).entries()) acked.push({ agent: other, id: await c.settle(c.node(writer).memory(other).addEpisode({ task: `o${k}`, outcome: 'ok' }), 10_000) });
      // The victim is downed after stable-after; every acknowledged write is on the final replica sets.
      expect(await c.runUntil(() => c.live().every((i) => !c.node(i).gate.isVoter(c.node(victim).name)), 120_000)).toBe(true);
      await expectAckedOnReplicas(c, acked);
    });
  });

  it('a majority of the old set crashes mid-move: the write is refused with QuorumError naming the old set, nothing applied', async () => {
    const { c, acked } = await formed('moves-majority', 60_000);
    await withReplay(c, async () => {
      const before = c.node(0).memoryService.replicas.view.current();
      const joiner = await join(c, 8);
      const after = c.node(0).memoryService.replicas.view.current();
      // Crash two of the old set, at most one of them in the new set: the new set keeps its majority, the old one does not.
      let pick: ReturnType<typeof movedAgent> | undefined;
      let crashed: string[] = [];
      for (const agent of AGENTS) {
        const old = before.replicasOf(`agent/${agent}`)!;
        const now = after.replicasOf(`agent/${agent}`)!;
        if (same(old, now)) continue;
        const leaving = old.filter((n) => !now.includes(n));
        const victims = [leaving[0]!, old.find((n) => n !== leaving[0] && n !== c.node(joiner).name)!];
        const writer = c.live().find((i) => i !== joiner && !old.includes(c.node(i).name) && !now.includes(c.node(i).name));
        if (writer === undefined || now.filter((n) => !victims.includes(n)).length < 2) continue;
        pick = { agent, old, now, writer };
        crashed = victims;
        break;
      }
      expect(pick).toBeDefined();
      const { agent, old, writer } = pick!;
      for (const n of crashed) c.crash(indexOf(c, n));
      const gate = c.node(writer).gate;
      expect(await c.runUntil(() => crashed.every((n) => !gate.reachableVoters().has(n)) && gate.verdict().writable, 30_000)).toBe(true);
      const heldBefore = c.node(writer).memoryService.docs.has(`agent/${agent}`);
      let err: unknown;
      try {
        await c.settle(c.node(writer).memory(agent).addEpisode({ task: 'refused', outcome: 'x' }), 10_000);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuorumError);
      expect(sorted((err as QuorumError).replicas!)).toEqual(sorted(old));
      expect((err as QuorumError).message).toContain(`agent ${agent} is moving from its previous replica set`);
      expect((err as QuorumError).data()).toMatchObject({ reachable: 1, voters: 3 });
      expect(c.node(writer).memoryService.docs.has(`agent/${agent}`)).toBe(heldBefore); // nothing applied
      // An agent whose sets did not move writes on.
      const calm = AGENTS.find((a) => same(before.replicasOf(`agent/${a}`)!, after.replicasOf(`agent/${a}`)!) && !after.replicasOf(`agent/${a}`)!.some((n) => crashed.includes(n)))!;
      acked.push({ agent: calm, id: await c.settle(c.node(writer).memory(calm).addEpisode({ task: 'calm', outcome: 'ok' }), 10_000) });
    });
  });

  it('a second change before the move finished: both previous sets are required, kept across a restart of the writer, nothing lost', async () => {
    // Cold joiners (no pre-warm): a warm one completes the first move before the second join is admitted.
    const { c, acked } = await formed('moves-second', 4000, false);
    await withReplay(c, async () => {
      const s7 = c.node(0).memoryService.replicas.view.current();
      const j8 = await join(c, 8);
      const s8 = c.node(0).memoryService.replicas.view.current();
      const j9 = await join(c, 9);
      const s9 = c.node(0).memoryService.replicas.view.current();
      const moved = (a: string) => !same(s8.replicasOf(`agent/${a}`)!, s9.replicasOf(`agent/${a}`)!);
      const twice = AGENTS.find((a) => moved(a) && !same(s7.replicasOf(`agent/${a}`)!, s9.replicasOf(`agent/${a}`)!) && !same(s7.replicasOf(`agent/${a}`)!, s8.replicasOf(`agent/${a}`)!));
      expect(twice).toBeDefined(); // 48 agents: a few moved at both changes (each about 1 in 8)
      const agent = twice!;
      // A writer in none of its sets (nothing but its own writes completes the move on it) that still
      // keeps both changes: a node may legitimately have released the first one already (every voter
      // of s8 told it they were done before it adopted s9), which node does depends on timing.
      const inSets = new Set([s7, s8, s9].flatMap((s) => s.replicasOf(`agent/${agent}`)!));
      const keepsBoth = (i: number): boolean => c.node(i).memoryService.replicas.view.moves.epochs().slice(-2).join() === [s7.epoch, s8.epoch].join();
      const found = c.live().find((i) => i !== j8 && i !== j9 && !inSets.has(c.node(i).name) && keepsBoth(i));
      expect(found).toBeDefined();
      const writer = found!;
      const view = c.node(writer).memoryService.replicas.view;
      const kept = view.moves.epochs();
      const previous = view.previousSets(`agent/${agent}`).map((p) => p.epoch);
      expect(previous.slice(0, 2)).toEqual([s8.epoch, s7.epoch]);
      // The writer restarts before it writes: the previous configurations come back from its store.
      c.crash(writer);
      await c.runFor(1000);
      const started = c.restart(writer);
      expect(c.node(writer).memoryService.replicas.view.moves.epochs()).toEqual(kept); // read from the store, before it hears anyone
      // Catching up takes one snapshot (not a retry per source that still numbers documents for its previous life), so the move is still open here.
      expect(await c.runUntil(() => c.node(writer).gate.verdict().writable, 60_000)).toBe(true);
      await c.settle(started, 10_000);
      expect(c.node(writer).memoryService.replicas.view.moves.epochs()).toEqual(kept);
      expect(c.node(writer).memoryService.replicas.view.previousSets(`agent/${agent}`).map((p) => p.epoch)).toEqual(previous);
      for (let k = 0; k < 3; k++) acked.push({ agent, id: await c.settle(c.node(writer).memory(agent).addEpisode({ task: `second${k}`, outcome: 'ok' }), 10_000) });
      // Writing completes the move on the writer: later writes need the current set only.
      expect(await c.runUntil(() => c.node(writer).memoryService.replicas.view.previousSets(`agent/${agent}`).length === 0, 30_000)).toBe(true);
      expect(c.node(writer).memoryService.replicas.status().movesSettled).toBeGreaterThan(0);
      await expectAckedOnReplicas(c, acked);
    });
  });
});
