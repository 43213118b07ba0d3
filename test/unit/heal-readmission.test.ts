// Heal after a partition that outlasted stable-after (src/node/join-loop.ts pullOnReturn,
// src/node/return-sync.ts): 5 simulated nodes, RF 5, cut 3|2 until the majority has downed both
// minority nodes (removed from the numbered voter configuration), episodes acknowledged on the
// majority meanwhile, then the heal. A removed node starts pulling what it missed as soon as it
// learns its removal, before the writable side has admitted it again (reading needs no vote), and
// it is admitted again only through a new numbered configuration; nothing acknowledged is lost.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/runtime/types.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

interface Line {
  at: number;
  node: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps the info lines of every node, stamped with the cluster's virtual time. */
function recorder(now: () => number): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const keep = (obj: object, msg?: string): void => {
      const fields = { ...bindings, ...(obj as Record<string, unknown>) };
      lines.push({ at: now(), node: String(fields.node ?? ''), msg: msg ?? '', fields });
    };
    return { debug: () => undefined, info: keep, warn: keep, error: keep, child: (b) => make({ ...bindings, ...(b as Record<string, unknown>) }) };
  };
  return { logger: make({}), lines };
}

const { track } = simClusterPerTest();

describe('heal after the minority was downed (simulator, 5 nodes, RF 5)', () => {
  it('a removed node pulls before its re-admission, is admitted by a numbered configuration, and nothing acknowledged is lost', { timeout: 180_000 }, async () => {
    const clock = { now: (): number => 0 };
    const rec = recorder(() => clock.now());
    const sim = track(new SimCluster({ seed: 'heal-readmission', nodes: 5, replicationFactor: 5, logger: rec.logger }));
    clock.now = () => sim.now();
    await withReplay(sim, async () => {
      await sim.start();
      expect(await sim.runUntil(() => sim.allSeeAlive(5) && sim.node(0).gate.voterConfig().voters.length === 5, 60_000)).toBe(true);
      const acked: Array<{ agent: string; id: string }> = [];
      for (let k = 0; k < 4; k++) acked.push({ agent: `a${k}`, id: await sim.settle(sim.node(0).memory(`a${k}`).addEpisode({ task: `before ${k}`, outcome: 'ok' }), 10_000) });

      sim.partition([0, 1, 2], [3, 4]);
      const minority = ['n3', 'n4'];
      const downed = (): boolean => [0, 1, 2].every((i) => minority.every((n) => sim.node(i).gate.voterConfig().removed.includes(n)));
      expect(await sim.runUntil(downed, 120_000, 100)).toBe(true);
      const removalEpoch = sim.node(0).gate.voterConfig().epoch;
      // Divergence: agents the minority has never seen, and more on the ones it has.
      for (let k = 0; k < 8; k++) acked.push({ agent: `a${k}`, id: await sim.settle(sim.node(k % 3).memory(`a${k}`).addEpisode({ task: `during ${k}`, outcome: 'ok' }), 10_000) });

      const healedAt = sim.now();
      sim.heal();
      const back = (): boolean => [0, 1, 2, 3, 4].every((i) => sim.node(i).gate.voterConfig().voters.length === 5);
      expect(await sim.runUntil(() => back() && sim.digestsEqual(), 60_000, 50)).toBe(true);

      // Re-admitted only through a numbered configuration, later than the one that removed them.
      const config = sim.node(3).gate.voterConfig();
      expect(config.epoch).toBeGreaterThan(removalEpoch);
      expect(config.removed).toEqual([]);
      for (const i of [0, 1, 2, 3, 4]) expect(sim.node(i).gate.voterConfig().id).toBe(config.id);
      // Every acknowledged episode on every node.
      for (const i of [0, 1, 2, 3, 4]) for (const { agent, id } of acked) expect(sim.node(i).memory(agent).get(id), `n${i} ${agent} ${id}`).toBeDefined();

      // Each removed node began its pull before the writable side chose its re-admission.
      const after = rec.lines.filter((l) => l.at >= healedAt);
      const admittedAt = after.find((l) => l.msg === 'voter set changed' && l.node === 'n0' && ((l.fields.admitted as string[] | undefined) ?? []).length > 0)?.at;
      expect(admittedAt).toBeDefined();
      for (const n of minority) {
        const pull = after.find((l) => l.node === n && l.msg === 'removed from the voter set while away: pulling a full snapshot');
        expect(pull, `${n} pulled`).toBeDefined();
        expect(pull!.fields.early).toBe(true);
        expect(pull!.at).toBeLessThan(admittedAt!);
        // The notice after the admission found that pull recent: no second full snapshot.
        expect(after.filter((l) => l.node === n && l.msg === 'removed from the voter set while away: pulling a full snapshot')).toHaveLength(1);
      }
    });
  });

  it('a second downing on a later configuration pulls early again (the pull is keyed by the removal epoch)', { timeout: 240_000 }, async () => {
    const clock = { now: (): number => 0 };
    const rec = recorder(() => clock.now());
    const sim = track(new SimCluster({ seed: 'heal-readmission-twice', nodes: 5, replicationFactor: 5, logger: rec.logger }));
    clock.now = () => sim.now();
    await withReplay(sim, async () => {
      await sim.start();
      expect(await sim.runUntil(() => sim.allSeeAlive(5) && sim.node(0).gate.voterConfig().voters.length === 5, 60_000)).toBe(true);
      const minority = ['n3', 'n4'];
      const acked: Array<{ agent: string; id: string }> = [];
      const pulls = (since: number): Line[] => rec.lines.filter((l) => l.at >= since && l.msg === 'removed from the voter set while away: pulling a full snapshot' && l.fields.early === true);
      for (let round = 0; round < 2; round++) {
        sim.partition([0, 1, 2], [3, 4]);
        const downed = (): boolean => [0, 1, 2].every((i) => minority.every((n) => sim.node(i).gate.voterConfig().removed.includes(n)));
        expect(await sim.runUntil(downed, 120_000, 100), `round ${round} downed`).toBe(true);
        for (let k = 0; k < 3; k++) acked.push({ agent: `b${k}`, id: await sim.settle(sim.node(k).memory(`b${k}`).addEpisode({ task: `round ${round} ${k}`, outcome: 'ok' }), 10_000) });
        const healedAt = sim.now();
        sim.heal();
        const back = (): boolean => [0, 1, 2, 3, 4].every((i) => sim.node(i).gate.voterConfig().voters.length === 5 && sim.node(i).gate.voterConfig().removed.length === 0);
        expect(await sim.runUntil(() => back() && sim.digestsEqual(), 60_000, 50), `round ${round} healed`).toBe(true);
        // Each removal is a new configuration: the second one must not look "already pulled".
        for (const n of minority) expect(pulls(healedAt).filter((l) => l.node === n), `${n} early pull in round ${round}`).toHaveLength(1);
        for (const i of [0, 1, 2, 3, 4]) for (const { agent, id } of acked) expect(sim.node(i).memory(agent).get(id), `n${i} ${agent} ${id}`).toBeDefined();
        // Past the pull-repeat window, so the second round's pull is decided by the epoch alone.
        await sim.runFor(35_000);
      }
    });
  });

  it('a removed member restarted after the heal: catches up through its start-up snapshot, with no early pull after it', { timeout: 180_000 }, async () => {
    const clock = { now: (): number => 0 };
    const rec = recorder(() => clock.now());
    const sim = track(new SimCluster({ seed: 'heal-readmission-restart', nodes: 5, replicationFactor: 5, logger: rec.logger }));
    clock.now = () => sim.now();
    await withReplay(sim, async () => {
      await sim.start();
      expect(await sim.runUntil(() => sim.allSeeAlive(5) && sim.node(0).gate.voterConfig().voters.length === 5, 60_000)).toBe(true);
      sim.partition([0, 1, 2], [3, 4]);
      expect(await sim.runUntil(() => [0, 1, 2].every((i) => ['n3', 'n4'].every((n) => sim.node(i).gate.voterConfig().removed.includes(n))), 120_000, 100)).toBe(true);
      const id = await sim.settle(sim.node(0).memory('r').addEpisode({ task: 'while n3 was away', outcome: 'ok' }), 10_000);
      sim.crash(3);
      sim.heal();
      const restartedAt = sim.now();
      void sim.restart(3).catch(() => undefined);
      expect(await sim.runUntil(() => [0, 1, 2, 3, 4].every((i) => sim.node(i).gate.voterConfig().voters.length === 5) && sim.digestsEqual(), 90_000, 50)).toBe(true);
      expect(sim.node(3).memory('r').get(id)?.task).toBe('while n3 was away');
      const early = rec.lines.filter((l) => l.at >= restartedAt && l.node === 'n3' && l.msg === 'removed from the voter set while away: pulling a full snapshot' && l.fields.early === true);
      expect(early).toEqual([]);
    });
  });
});
