// heal-downed: heal after a 3+2 partition that outlasted stable-after. 5 real `tri node start`
// processes (127.0.34.x, RF 5 so every node holds every agent and "all five digests equal" is the
// convergence test), cut 3+2 with iptables on loopback (LoopbackPartition; root only). The cut
// stays until the majority has downed both minority nodes (removed from the voter configuration,
// /status quorum.removed), 500 episodes are acknowledged on the majority meanwhile, then the cut
// is removed. The figures: ms from the heal until all five /status digests are equal, and until
// all five are voters again (quorum.voters 5 with nobody removed, on every node); each round also
// keeps its phases (bench/lib/heal-round.ts). The existing heal-convergence scenario heals before
// stable-after; the goal here is the same: under 2 s.
//
// TRI_HEAL_BASELINE=PATH (another build's dist/src/cli/tri.js) alternates its rounds with this
// build's, in one run on one machine: the before/after comparison of a change.
import { benchPrefix } from './lib/bench-net.js';
import { MINORITY, phaseLine, runHealRound, type HealRound } from './lib/heal-round.js';
import { writeResult, metric, median, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import type { QStatus } from './quorum/cluster.js';
import { load1m } from './quorum/load.js';

export const HEAL_DOWNED_GOAL_MS = 2_000;
const EPISODES = 500;
const PREFIX = benchPrefix('127.0.34.');

export async function runHealDowned(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const baseline = process.env.TRI_HEAL_BASELINE || undefined;
  const rounds = (opts.quick ? 1 : 3) * (baseline ? 2 : 1);
  const runs: Record<'this' | 'baseline', { digests: number[]; voters: number[]; rounds: unknown[] }> = {
    this: { digests: [], voters: [], rounds: [] },
    baseline: { digests: [], voters: [], rounds: [] },
  };
  for (let r = 0; r < rounds; r++) {
    const which = baseline && r % 2 === 1 ? 'baseline' : 'this';
    const round: HealRound = await runHealRound({
      name: 'heal-downed',
      cluster: { prefix: PREFIX, first: 11, triArgs: ['--replication-factor', '5'], ...(which === 'baseline' ? { triPath: baseline } : {}) },
      settled: minorityDowned,
      settledWhat: 'the majority did not down q4 and q5',
      settleTimeoutMs: 90_000,
      settlePollMs: 250,
      load: { episodes: EPISODES, concurrency: 16, agents: 25, agentPrefix: `downed${r}` },
      healTimeoutMs: 45_000,
    });
    const t = round.heal;
    log(
      `heal-downed round ${r + 1}${baseline ? ` (${which})` : ''}: equal digests ${t.digestsMs.toFixed(0)} ms after heal, all 5 voters everywhere ${t.votersMs.toFixed(0)} ms ` +
        `(minority downed ${round.settledMs.toFixed(0)} ms after the cut, ${EPISODES} episodes in ${round.writeMs.toFixed(0)} ms, load ${round.loadAvg1m}; phases: ${phaseLine(t)}; at heal: ${round.atHeal}; timeline: ${t.timeline.join(' ')})`,
    );
    const run = runs[which];
    run.digests.push(t.digestsMs);
    run.voters.push(t.votersMs);
    run.rounds.push({
      convergedMs: Math.round(t.digestsMs),
      allVotersMs: Math.round(t.votersMs),
      allAliveMs: Math.round(t.aliveMs),
      downedAfterCutMs: Math.round(round.settledMs),
      loadAvg1m: round.loadAvg1m,
      phases: roundPhases(t.phases),
      nodeEqualMs: t.nodeEqualMs,
      timeline: t.timeline,
    });
  }
  const ours = runs.this;
  const metrics: Metrics = {
    heal_downed_to_equal_digests_median: metric(Math.round(median(ours.digests)), 'ms'),
    heal_downed_to_equal_digests_max: metric(Math.round(Math.max(...ours.digests)), 'ms'),
    heal_downed_to_all_voters_median: metric(Math.round(median(ours.voters)), 'ms'),
    divergent_episodes: metric(EPISODES, 'episodes'),
    rounds: metric(ours.digests.length, 'rounds'),
    load_avg_1m: metric(load1m(), 'load'),
  };
  const peers = {
    goal: { heal_ms: HEAL_DOWNED_GOAL_MS },
    rounds: ours.rounds,
    ...(baseline
      ? { baseline: { tri: baseline, equal_digests_median_ms: Math.round(median(runs.baseline.digests)), equal_digests_max_ms: Math.round(Math.max(...runs.baseline.digests)), all_voters_median_ms: Math.round(median(runs.baseline.voters)), rounds: runs.baseline.rounds } }
      : {}),
  };
  return writeResult(opts.out, 'heal-downed', metrics, peers).result;
}

/** Rounded phase times, ms after the heal. */
function roundPhases(p: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.round(v)]));
}

/** The majority removed both minority nodes from its voter configuration; the minority is read-only. */
function minorityDowned(s: QStatus): boolean {
  const q = s.quorum;
  if (!q) return false;
  if (MINORITY.includes(s.name)) return !q.writable;
  return q.writable && [...(q.removed ?? [])].sort().join() === MINORITY.join();
}
