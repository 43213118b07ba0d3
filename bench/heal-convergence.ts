// heal-convergence: 5 real `tri node start` processes (127.0.11.x, RF 5), a 3+2 partition made with
// iptables on loopback (LoopbackPartition; root only), 1,000 episodes written and acknowledged on
// the majority side while the minority is cut off (it is read-only, so those episodes are what
// diverges), then the partition heals: the figure is the time from removing the rules until all
// five nodes report the same memory digest (/status, polled every 20 ms). Akka's comparable test
// allows 15 s; the goal here is under 2 s. The round itself is bench/lib/heal-round.ts.
import { MAJORITY, phaseLine, runHealRound } from './lib/heal-round.js';
import { writeResult, metric, median, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import type { QStatus } from './quorum/cluster.js';
import { load1m } from './quorum/load.js';

export const HEAL_GOAL_MS = 2_000;
const EPISODES = 1_000;

export async function runHealConvergence(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const rounds = opts.quick ? 1 : 3;
  const heals: number[] = [];
  const membership: number[] = [];
  const roundInfo: unknown[] = [];
  for (let r = 0; r < rounds; r++) {
    const round = await runHealRound({
      name: 'heal-convergence',
      // RF 5: every node holds every agent, so "all five digests equal" is the convergence test (with
      // the default RF 3, agents whose replica set is mostly on the minority side refuse writes).
      cluster: { triArgs: ['--replication-factor', '5'] },
      // Until both sides noticed: the majority writable without the minority, the minority read-only.
      settled: sideNoticed,
      settledWhat: 'the 3+2 partition was not noticed by every node',
      settleTimeoutMs: 45_000,
      settlePollMs: 50,
      load: { episodes: EPISODES, concurrency: 32, agents: 50, agentPrefix: `heal${r}` },
      healTimeoutMs: 30_000,
    });
    const t = round.heal;
    log(
      `heal-convergence round ${r + 1}: equal digests ${t.digestsMs.toFixed(0)} ms after heal (every member alive everywhere ${t.aliveMs.toFixed(0)} ms; ` +
        `partition noticed after ${round.settledMs.toFixed(0)} ms, ${EPISODES} episodes in ${round.writeMs.toFixed(0)} ms, load ${round.loadAvg1m}; phases: ${phaseLine(t)}; at heal: ${round.atHeal})`,
    );
    heals.push(t.digestsMs);
    membership.push(t.aliveMs);
    // Writes slower than stable-after (a loaded machine) let the majority down the minority first:
    // that round measured a heal after downing (heal-downed's scenario), not this one.
    const downed = /rm=\[q4,q5\]/.test(round.atHeal);
    if (downed) log(`heal-convergence round ${r + 1}: the minority was downed before the heal (the writes outlasted stable-after); this round is heal-downed's scenario`);
    roundInfo.push({ minorityDownedBeforeHeal: downed, convergedMs: Math.round(t.digestsMs), allAliveMs: Math.round(t.aliveMs), partitionNoticedMs: Math.round(round.settledMs), writeMs: Math.round(round.writeMs), loadAvg1m: round.loadAvg1m, nodeEqualMs: t.nodeEqualMs, atHeal: round.atHeal });
  }
  const metrics: Metrics = {
    heal_to_equal_digests_median: metric(Math.round(median(heals)), 'ms'),
    heal_to_equal_digests_max: metric(Math.round(Math.max(...heals)), 'ms'),
    heal_to_all_alive_median: metric(Math.round(median(membership)), 'ms'),
    divergent_episodes: metric(EPISODES, 'episodes'),
    rounds: metric(heals.length, 'rounds'),
    load_avg_1m: metric(load1m(), 'load'),
  };
  const peers = { goal: { heal_ms: HEAL_GOAL_MS }, akka: { allowed_ms: 15_000, note: "Akka's comparable test allows 15 s (not run here)" }, rounds: roundInfo };
  return writeResult(opts.out, 'heal-convergence', metrics, peers).result;
}

function sideNoticed(s: QStatus): boolean {
  const q = s.quorum;
  if (!q) return false;
  return MAJORITY.includes(s.name) ? q.writable && q.reachable <= 3 : !q.writable;
}
