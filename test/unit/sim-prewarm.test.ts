// Pre-warm (docs/replica-sets.md "Pre-warm") on SimCluster (7 nodes, RF 3, an 8th joins): a
// learner pulls the documents it will hold once admitted before it says it caught up, so at the
// moment it becomes a voter it already holds each of them with every write acknowledged before the
// join, and writes that need it as a replica do not wait for it to take in whole documents. The
// control turns the joiner's pulls from further voters off: its one catch-up snapshot then carries
// only the documents its source replicates, so at its admission some are missing.
import { describe, expect, it } from 'vitest';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { holdSnapshot, holdsEverything } from '../../src/memory/hold-check.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
const AGENTS = Array.from({ length: 24 }, (_, i) => `pw${i}`);

/** Joins an 8th node into a converged cluster of 7 and returns, at the moment it is first a voter, how many of its documents it held in full. */
async function atAdmission(seed: string, prewarm: boolean): Promise<{ mine: number; full: number }> {
  const c = track(new SimCluster({ seed, nodes: 7, replicationFactor: 3, nodeOptions: { prewarm } }));
  let result = { mine: 0, full: 0 };
  await withReplay(c, async () => {
    await c.start();
    expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
    for (const [k, agent] of AGENTS.entries()) await c.settle(c.node(k % 7).memory(agent).addEpisode({ task: `w${k}`, outcome: 'ok' }), 10_000);
    expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000)).toBe(true);
    const j = c.addNode(0);
    const joiner = c.node(j);
    const isVoter = (): boolean => joiner.gate.voterConfig().voters.some((v) => v.name === joiner.name);
    // Looked at in the very turn the joiner adopts the configuration that admits it, before any move ran.
    let seen: { mine: number; full: number } | undefined;
    joiner.gate.onConfigChange(() => {
      if (seen || !isVoter()) return;
      const scope = joiner.memoryService.replicas.view.current();
      const mine = AGENTS.map((a) => `agent/${a}`).filter((d) => scope.isReplica(d));
      const full = mine.filter((d) => {
        if (!joiner.memoryService.docs.has(d)) return false;
        const other = scope.replicasOf(d)!.find((n) => n !== joiner.name)!;
        const theirs = c.nodes.find((n) => n.name === other)!.memoryService.docs.doc(d);
        return holdsEverything(joiner.memoryService.docs.doc(d), holdSnapshot(theirs)!);
      });
      seen = { mine: mine.length, full: full.length };
    });
    expect(await c.runUntil(() => seen !== undefined, 60_000)).toBe(true);
    result = seen!;
    // Either way the cluster converges: every document on exactly its replica set.
    expect(await c.runUntil(() => replicaDivergence(c) === undefined, 120_000)).toBe(true);
  });
  return result;
}

describe('pre-warm: a learner holds its documents before it is admitted (simulator, 7 nodes + 1, RF 3)', () => {
  it('warm: at its admission the joiner holds every document it is a replica of, with every acknowledged write', async () => {
    const { mine, full } = await atAdmission('prewarm-1', true);
    expect(mine).toBeGreaterThan(0);
    expect(full).toBe(mine);
  });

  it('control (no pulls from further voters): at its admission the joiner lacks some of them', async () => {
    const { mine, full } = await atAdmission('prewarm-1', false);
    expect(mine).toBeGreaterThan(0);
    expect(full).toBeLessThan(mine);
  });
});
