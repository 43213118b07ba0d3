// The scenario runner behind test/property/sim-quorum.test.ts (kept apart so a failing
// counterexample can be replayed from a scratch test): runs steps of faults and writes on a
// 5-node SimCluster and checks the three invariants described there.
import fc from 'fast-check';
import { expect } from 'vitest';
import { isVoter } from '../../src/quorum/rules.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';

export const NODES = 5;

export type Op =
  | { kind: 'partition'; sides: number[] }
  | { kind: 'heal' }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'write'; node: number; agent: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('partition' as const), sides: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: NODES, maxLength: NODES }) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'heal' as const }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('crash' as const), node: fc.integer({ min: 0, max: NODES - 1 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.integer({ min: 0, max: NODES - 1 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('write' as const), node: fc.integer({ min: 0, max: NODES - 1 }), agent: fc.integer({ min: 0, max: 2 }) }), weight: 5 },
);
export const stepArb = fc.record({ op: opArb, waitMs: fc.integer({ min: 50, max: 6_000 }) });

/** The voters node i can reach as it sees them (itself included), mirroring ClusterNode.quorumMembers. */
function reachableVoters(c: SimCluster, i: number): Set<string> {
  const node = c.node(i);
  const removed = new Set(node.gate.removedMembers());
  const out = new Set<string>();
  for (const m of node.members()) {
    const self = m.name === node.name;
    if (!isVoter({ name: m.name, role: m.role, state: m.state, removed: removed.has(m.name) })) continue;
    if (self || m.swimState === 'alive') out.add(m.name);
  }
  return out;
}

/** Invariant 1 at this instant; returns a description of the violation, if any. */
function splitBrain(c: SimCluster): string | undefined {
  const writable = c.live().filter((i) => c.node(i).gate.verdict().writable);
  const groups = writable.map((i) => ({ i, group: reachableVoters(c, i) }));
  for (let a = 0; a < groups.length; a++) {
    for (let b = a + 1; b < groups.length; b++) {
      const ga = groups[a]!;
      const gb = groups[b]!;
      if (![...ga.group].some((n) => gb.group.has(n))) {
        const view = (i: number) => {
          const removed = new Set(c.node(i).gate.removedMembers());
          return c.node(i).members().map((m) => `${m.name}=${m.state}/${m.swimState}${removed.has(m.name) ? '/removed' : ''}`).join(' ');
        };
        return (
          `t=${c.now()}: n${ga.i} writable reaching voters {${[...ga.group]}} and n${gb.i} writable reaching voters {${[...gb.group]}}` +
          `\n    n${ga.i} (${c.node(ga.i).gate.verdict().reason}) sees ${view(ga.i)}\n    n${gb.i} (${c.node(gb.i).gate.verdict().reason}) sees ${view(gb.i)}`
        );
      }
    }
  }
  return undefined;
}

export async function runScenario(simSeed: number, steps: Array<{ op: Op; waitMs: number }>, replay = ''): Promise<void> {
  const c = new SimCluster({ seed: simSeed, nodes: NODES, link: { latencyMs: 1, jitterMs: 3, loss: 0.02 } });
  const acked: Array<{ agent: string; id: string; via: number }> = [];
  let writes = 0;
  const check = (): void => {
    const v = splitBrain(c);
    if (v) throw new Error(`split brain: ${v}`);
  };
  try {
    await c.start();
    // The cluster has formed: everyone sees everyone ACTIVE, so all hold the same voter set.
    const formed = () => c.allSee((ms) => ms.length === NODES && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE'));
    expect(await c.runUntil(formed, 120_000, 100)).toBe(true);
    for (const { op, waitMs } of steps) {
      switch (op.kind) {
        case 'partition': {
          const groups = [0, 1, 2].map((s) => op.sides.flatMap((side, i) => (side === s ? [i] : []))).filter((g) => g.length > 0);
          c.partition(...groups);
          break;
        }
        case 'heal':
          c.heal();
          break;
        case 'crash':
          // At most two down at once, so a majority can always come back.
          if (!c.isDown(op.node) && c.live().length > NODES - 2) c.crash(op.node);
          break;
        case 'restart':
          if (c.isDown(op.node)) void c.restart(op.node).catch(() => undefined);
          break;
        case 'write': {
          if (c.isDown(op.node)) break;
          const agent = `agent-${op.agent}`;
          const n = writes++;
          c.node(op.node)
            .memory(agent)
            .addEpisode({ task: `w${n}`, outcome: 'ok' })
            .then(
              (id) => acked.push({ agent, id, via: op.node }),
              () => undefined, // QuorumError / WriteTimeoutError: not acknowledged
            );
          break;
        }
      }
      check();
      // Check the invariant every 100 ms of virtual time while waiting.
      for (let t = 0; t < waitMs; t += 100) {
        await c.runFor(Math.min(100, waitMs - t));
        check();
      }
    }
    // The last heal: every partition goes, every crashed node comes back.
    c.heal();
    for (let i = 0; i < NODES; i++) if (c.isDown(i)) void c.restart(i).catch(() => undefined);
    const converged = await c.runUntil(
      () => c.live().length === NODES && c.allSee((ms) => ms.length === NODES && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE')) && c.digestsEqual(),
      300_000,
      100,
    );
    check();
    if (!converged) {
      const docs = (i: number) => c.node(i).memoryService.agentIds().map((a) => `${a}:${c.node(i).memory(a).list().length}`).join(',');
      const views = c.nodes.map((n, i) => `n${i}: ${c.isDown(i) ? 'down' : `${n.state} ${n.members().map((m) => `${m.name}=${m.state}/${m.swimState}`).join(' ')} digest=${n.memoryService.digest().digest.slice(0, 8)} episodes=${docs(i)}`}`);
      if (process.env.SIM_QUORUM_DEBUG) {
        for (const i of c.live()) {
          const n = c.node(i);
          console.log(`n${i} peers=${n.memoryService.engine.peerList().join(',')} sync=${JSON.stringify(n.memoryService.engine.stats())} rpc=${JSON.stringify(n.rpc.stats)}`);
        }
      }
      throw new Error(`no convergence 300 s after the last heal:\n  ${views.join('\n  ')}`);
    }
    for (let i = 0; i < NODES; i++) {
      for (const a of acked) {
        const have = c.node(i).memory(a.agent).get(a.id);
        if (!have) throw new Error(`acknowledged write lost: ${a.agent}/${a.id} (via n${a.via}) is missing on n${i}`);
      }
    }
  } catch (err) {
    if (err instanceof Error) err.message += `\n  replay: ${replay} (sim ${c.replayHint()})`;
    throw err;
  } finally {
    await c.destroy();
  }
}

