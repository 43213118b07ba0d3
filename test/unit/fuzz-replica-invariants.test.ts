// The fuzzer's replica-set invariants (issue 21 item 9): each must catch the planted bug it exists
// for (src/fuzz/planted-bugs.ts), and a few seeded runs per replication-factor mode hold them all.
//   ack-majority      short-ack: writes resolve one acknowledgement short
//   early-drop        handoff-drops-unacked: handoff drops a document as soon as it pushed it
//   move-incomplete   handoff-stalls: handoff never pushes
//   read-after-write  read-one-replica: a non-replica read merges from the first answer only
//   quiet-join        the checker on writes that move bytes to non-joiners, and on joins that do not
//                     (full replication; replica sets, where handoff confirms continuing replicas by
//                     snapshot and pushes only to the joiner)
import { describe, expect, it } from 'vitest';
import { runFuzz, runScenario, sampleRun, scenarioConfig, withPlantedBug } from '../../src/fuzz/index.js';
import { Violation } from '../../src/fuzz/invariants.js';
import { QuietJoinChecker } from '../../src/fuzz/move-check.js';
import { ReadAfterWriteChecker } from '../../src/fuzz/read-check.js';
import { replicaDivergence } from '../../src/fuzz/replica-check.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();
/** Known open bugs the fuzzer skips by default (DEFAULT_SKIPPED): none since quiet-join was fixed. */
const KNOWN_OPEN = [] as const;

describe('replica-set invariants catch their planted bugs', () => {
  it('early-drop: a document dropped before a majority of its new set holds it', async () => {
    // A run of seed 21 where the planted bug breaks early-drop (run 7 did until session 12, when a
    // joiner's pre-warm changed the timing); which run moves with the node's timing, so the test
    // searches, as for short-ack below. The same run holds without the bug.
    const config = scenarioConfig({ nodes: 7, skipInvariants: [...KNOWN_OPEN] });
    let found: { run: ReturnType<typeof sampleRun>; message: string } | undefined;
    for (let i = 0; i < 30 && !found; i++) {
      const run = sampleRun(21, i, 7);
      const buggy = await withPlantedBug('handoff-drops-unacked', () => runScenario(run, config));
      if (buggy.violation?.invariant === 'early-drop') found = { run, message: buggy.violation.message };
    }
    expect(found, 'the planted handoff-drops-unacked bug found within 30 runs').toBeDefined();
    expect(found!.message).toMatch(/dropped agent\/\S+ on configuration \d+ while only \{[^}]*\} of its replica set \{[^}]+\} held everything it held/);
    const clean = await runScenario(found!.run, config);
    expect(clean.violation?.message).toBeUndefined();
  }, 300_000);

  it('the replay command of a failure repeats which invariants were checked', async () => {
    const r = await runFuzz({ seed: 21, runs: 1, nodes: 7, plantedBug: 'handoff-stalls', skipInvariants: [...KNOWN_OPEN], maxShrinkRuns: 0 });
    const f = r.failures[0];
    expect(f?.replay).toBe(`tri fuzz --seed 21 --runs 1 --nodes 7 --planted-bug handoff-stalls --replay ${f?.path}`);
    const strict = await runFuzz({ seed: 21, runs: 1, nodes: 7, plantedBug: 'handoff-stalls', skipInvariants: ['move-incomplete'], maxShrinkRuns: 0 });
    expect(strict.failures[0]?.replay).toMatch(/--planted-bug handoff-stalls --skip-invariant move-incomplete --replay /);
  }, 120_000);

  it('move-incomplete: a move that never completes after the last change', async () => {
    const r = await runFuzz({ seed: 21, runs: 1, nodes: 7, plantedBug: 'handoff-stalls', skipInvariants: [...KNOWN_OPEN], maxShrinkRuns: 0 });
    expect(r.failures[0]?.invariant).toBe('move-incomplete');
    // Any placed document: agent memories, and task shards since tasks are sharded with their agents.
    expect(r.failures[0]?.message).toMatch(/every member ACTIVE for 3\d\.\d s, and still (agent|tasks)\/\S+ is still held by n\d+, not in its replica set/);
  }, 120_000);

  it('ack-majority: a write acknowledged while no majority of a replica set in play stores it', async () => {
    // The first run of seed 21 (of at most 60, as `tri fuzz --seed 21 --runs 60 --planted-bug
    // short-ack` searches) where the planted bug breaks ack-majority; which run it is moves with
    // any change to the node's timing, so the test searches rather than naming one. The same run
    // holds without the bug.
    const config = scenarioConfig({ nodes: 7, skipInvariants: [...KNOWN_OPEN, 'move-incomplete'] });
    let found: { run: ReturnType<typeof sampleRun>; message: string } | undefined;
    for (let i = 0; i < 60 && !found; i++) {
      const run = sampleRun(21, i, 7);
      const buggy = await withPlantedBug('short-ack', () => runScenario(run, config));
      if (buggy.violation?.invariant === 'ack-majority') found = { run, message: buggy.violation.message };
    }
    expect(found, 'the planted short-ack bug found within 60 runs').toBeDefined();
    expect(found!.message).toMatch(/is not stored by a majority of any replica set in play.*: 1 of 3/);
    const clean = await runScenario(found!.run, config);
    expect(clean.violation?.message).toBeUndefined();
  }, 300_000);

  it('read-after-write: a non-replica read that merged from one replica only', async () => {
    for (const planted of [true, false]) {
      const c = track(new SimCluster({ seed: 'raw-one-replica', nodes: 7, replicationFactor: 3, profile: 'local' }));
      await withReplay(c, async () => {
        await c.start();
        expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000, 50)).toBe(true);
        const agent = 'raw';
        const set = c.node(0).memoryService.replicas.view.current().replicasOf(`agent/${agent}`)!.map((n) => Number(n.slice(1)));
        const [a, , lagging] = set as [number, number, number];
        const reader = [0, 1, 2, 3, 4, 5, 6].find((i) => !set.includes(i))!;
        const seen: Violation[] = [];
        const checker = new ReadAfterWriteChecker(c, () => false);
        // First complete the agent's move off the founder's one-voter configuration (a write with
        // everyone reachable settles it on the writer): until then each write also needs that
        // set's majority (joint quorum, src/memory/replica-moves.ts), and the founder may be the
        // replica cut off below.
        await c.settle(c.node(a).memory(agent).addEpisode({ task: 'before the split', outcome: 'ok' }), 10_000);
        expect(await c.runUntil(() => c.node(a).memoryService.replicas.view.previousSets(`agent/${agent}`).length === 0, 10_000, 50)).toBe(true);
        // The lagging replica and the reader on one side: the write is acknowledged by the other two,
        // and the reader's pulls reach the lagging replica only.
        c.partition([lagging, reader]);
        const id = await c.settle(c.node(a).memory(agent).addEpisode({ task: 'raw', outcome: 'ok' }), 10_000);
        checker.acknowledged(agent, id, a);
        await withPlantedBug(planted ? 'read-one-replica' : undefined, async () => {
          checker.read(reader, agent, (v) => seen.push(v));
          await c.runFor(300);
          c.heal();
          await c.runFor(3_000);
        });
        if (planted) {
          expect(seen[0]?.invariant).toBe('read-after-write');
          expect(seen[0]?.message).toMatch(new RegExp(`a read of ${agent} through n${reader} \\(not a replica.*does not see it`));
        } else {
          expect(seen).toEqual([]);
          expect(checker.checked).toBe(1); // the read waited for a majority and saw the write
        }
      });
      await c.destroy();
    }
  }, 120_000);

  it('quiet-join: fails when a node already there receives agent-document bytes, passes when only the joiner does', async () => {
    // Replica sets (RF 3 on 5 nodes): a write through a replica while watching pushes bytes to its co-replicas.
    const c = track(new SimCluster({ seed: 'quiet-join-check', nodes: 5, replicationFactor: 3, profile: 'local' }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 60_000, 50)).toBe(true);
      const checker = new QuietJoinChecker(c);
      expect(await c.runUntil(() => checker.isQuiet(), 60_000, 50)).toBe(true); // no move in flight: the join would be judged
      checker.begin(99);
      await c.settle(c.node(0).memory('q').addEpisode({ task: 'q', outcome: 'ok' }), 10_000);
      expect(() => checker.end()).toThrow(/quiet-join: n99 joined a quiet cluster and nodes already in it received agent-document bytes: n\d \d+ B/);
    });
    await c.destroy();
    // Full replication (RF 9 >= N): a joiner pulls what it will hold; nobody else receives anything.
    const full = track(new SimCluster({ seed: 'quiet-join-full', nodes: 5, replicationFactor: 9, profile: 'local' }));
    await withReplay(full, async () => {
      await full.start();
      expect(await full.runUntil(() => full.allSeeAlive(5), 60_000, 50)).toBe(true);
      await full.settle(full.node(0).memory('q').addEpisode({ task: 'q', outcome: 'ok' }), 10_000);
      expect(await full.runUntil(() => replicaDivergence(full) === undefined, 60_000, 50)).toBe(true);
      await full.runFor(2_000);
      const checker = new QuietJoinChecker(full);
      checker.begin(5);
      const k = full.addNode(0);
      expect(await full.runUntil(() => full.live().every((i) => full.node(i).gate.isVoter(full.node(k).name)) && replicaDivergence(full) === undefined, 60_000, 50)).toBe(true);
      expect(full.node(k).memoryService.docs.has('agent/q')).toBe(true);
      expect(() => checker.end()).not.toThrow();
    });
  }, 120_000);

  it('quiet-join holds with replica sets: a join moves document bytes to the joiner only, continuing replicas confirm by snapshot', async () => {
    // RF 3 on 7 nodes, 24 agents: the 8th node becomes a replica of some of them; each displaced
    // replica pushes to the joiner and asks the two continuing ones (memory.hold-check).
    const c = track(new SimCluster({ seed: 'quiet-join-rf3', nodes: 7, replicationFactor: 3, profile: 'local' }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7), 60_000, 50)).toBe(true);
      for (let a = 0; a < 24; a++) await c.settle(c.node(a % 7).memory(`a${a}`).addEpisode({ task: 't', outcome: `ok ${a}` }), 10_000);
      expect(await c.runUntil(() => replicaDivergence(c) === undefined, 60_000, 50)).toBe(true);
      const checker = new QuietJoinChecker(c);
      expect(await c.runUntil(() => checker.isQuiet(), 60_000, 50)).toBe(true); // the moves of forming the cluster are done
      checker.begin(7);
      const k = c.addNode(0);
      expect(await c.runUntil(() => c.live().every((i) => c.node(i).gate.isVoter(c.node(k).name)) && replicaDivergence(c) === undefined, 60_000, 50)).toBe(true);
      const joinerDocs = c.node(k).memoryService.docs.ids().filter((id) => id.startsWith('agent/'));
      expect(joinerDocs.length).toBeGreaterThan(0);
      expect(() => checker.end()).not.toThrow();
      expect([checker.watched, checker.overlapped]).toEqual([1, 0]); // judged, not skipped
      const confirmed = c.live().reduce((n, i) => n + c.node(i).memoryService.replicas.status().handoffConfirmed, 0);
      expect(confirmed).toBeGreaterThan(0); // continuing replicas answered by snapshot, not by receiving the document
    });
  }, 120_000);
});

describe('tri fuzz with replica-set steps, seeded, per replication-factor mode', () => {
  for (const [rf, seed] of [
    [3, 2101],
    [5, 2105],
    [7, 2107], // RF >= N: every voter holds everything until a member joins
  ] as const) {
    it(`holds every invariant with RF ${rf} on 7 nodes, 2 runs of seed ${seed}`, async () => {
      const r = await runFuzz({ seed, runs: 2, nodes: 7, replicationFactor: rf, skipInvariants: [...KNOWN_OPEN] });
      const f = r.failures[0];
      expect(r.failures, f ? `${f.invariant}: ${f.message}\nreplay: ${f.replay}` : '').toEqual([]);
      expect(r.totals.writesAcked).toBeGreaterThan(0);
    }, 120_000);
  }
});
