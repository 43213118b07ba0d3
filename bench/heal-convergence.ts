// heal-convergence: 5 real `tri node start` processes (127.0.11.x), a 3+2 partition made with
// iptables on loopback (LoopbackPartition; root only), 1,000 episodes written and acknowledged on
// the majority side while the minority is cut off (it is read-only, so those episodes are what
// diverges), then the partition heals: the figure is the time from removing the rules until all
// five nodes report the same memory digest (/status, polled every 20 ms). Akka's comparable test
// allows 15 s; the goal here is under 2 s. The rules are always removed (finally, and on exit).
import { LoopbackPartition } from '../src/demo/isolate.js';
import { writeResult, metric, median, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { QuorumCluster, type QStatus } from './quorum/cluster.js';
import { load1m, runLoad } from './quorum/load.js';

export const HEAL_GOAL_MS = 2_000;
const EPISODES = 1_000;

export async function runHealConvergence(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const avail = LoopbackPartition.available();
  if (!avail.ok) throw new Error(`heal-convergence needs iptables on loopback: ${avail.reason}; run as root on Linux`);
  const rounds = opts.quick ? 1 : 3;
  const heals: number[] = [];
  const membership: number[] = [];
  const roundInfo: unknown[] = [];
  // A fresh cluster per round: a round's partition leaves marks (removed voters, incarnations).
  for (let r = 0; r < rounds; r++) {
    const cluster = new QuorumCluster();
    const partition = new LoopbackPartition();
    const healOnExit = (): void => partition.heal();
    process.once('exit', healOnExit);
    try {
      await cluster.start(5);
      const majority = [0, 1, 2].map((i) => cluster.address(i));
      const minority = [3, 4].map((i) => cluster.address(i));
      const clients = [];
      for (let i = 0; i < 3; i++) clients.push(await cluster.client(i));
      partition.cut(minority, majority);
      const cutAt = performance.now();
      // Until both sides noticed: the majority writable without the minority, the minority read-only.
      const noticed = await cluster.waitAll((s) => sideNoticed(s), 45_000, 50);
      if (!noticed) throw new Error(`the 3+2 partition was not noticed by every node within 45 s: ${await describe(cluster)}`);
      const noticedMs = performance.now() - cutAt;
      const w = await runLoad({ clients, concurrency: 32, maxWrites: EPISODES, maxMs: 60_000, agents: 50, agentPrefix: `heal${r}` });
      if (w.acked !== EPISODES) throw new Error(`only ${w.acked} of ${EPISODES} episodes were acknowledged on the majority side: ${JSON.stringify(w.errors)}`);
      const before = await Promise.all([0, 3].map((i) => cluster.status(i)));
      if (before[0]?.memory?.digest === before[1]?.memory?.digest) throw new Error('minority already has the majority digest: the partition did not hold');
      const atHeal = await describe(cluster);
      const healedAt = performance.now();
      partition.heal();
      const t = await timeToHeal(cluster, healedAt, 30_000);
      const activeMs = (await cluster.waitAll((s) => s.state === 'ACTIVE' && s.members.every((m) => m.state === 'ACTIVE'), 30_000, 50)) ? performance.now() - healedAt : NaN;
      log(`heal-convergence round ${r + 1}: equal digests ${t.digestsMs.toFixed(0)} ms after heal (every member alive everywhere ${t.aliveMs.toFixed(0)} ms, all ACTIVE ${activeMs.toFixed(0)} ms; partition noticed after ${noticedMs.toFixed(0)} ms, ${EPISODES} episodes in ${w.elapsedMs.toFixed(0)} ms, load ${load1m()}; at heal: ${atHeal})`);
      heals.push(t.digestsMs);
      membership.push(t.aliveMs);
      roundInfo.push({ convergedMs: Math.round(t.digestsMs), allAliveMs: Math.round(t.aliveMs), allActiveMs: Math.round(activeMs), partitionNoticedMs: Math.round(noticedMs), writeMs: Math.round(w.elapsedMs), loadAvg1m: load1m(), atHeal });
    } finally {
      partition.heal();
      process.removeListener('exit', healOnExit);
      await cluster.stop();
    }
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
  const inMajority = ['q1', 'q2', 'q3'].includes(s.name);
  return inMajority ? q.writable && q.reachable <= 3 : !q.writable;
}

/** One line per node: lifecycle state, quorum view and what it thinks of the others. */
async function describe(cluster: QuorumCluster): Promise<string> {
  const all = await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)));
  return all
    .map((s, i) => {
      if (!s) return `${cluster.nodes[i]!.name}: no answer`;
      const q = s.quorum;
      const others = s.members.filter((m) => m.name !== s.name).map((m) => `${m.name}=${m.state}/${m.swimState}`).join(',');
      return `${s.name} ${s.state} w=${String(q?.writable)} ${q?.reachable}/${q?.voters} rm=[${(q?.removed ?? []).join(',')}] {${others}}`;
    })
    .join('; ');
}

/**
 * ms from `since` until every node's /status shows one digest, and until every node sees every
 * member alive (SWIM), polled every 20 ms; NaN for what did not happen within timeoutMs.
 */
async function timeToHeal(cluster: QuorumCluster, since: number, timeoutMs: number): Promise<{ digestsMs: number; aliveMs: number }> {
  const deadline = since + timeoutMs;
  let aliveMs = NaN;
  let digestsMs = NaN;
  while (performance.now() < deadline && (Number.isNaN(aliveMs) || Number.isNaN(digestsMs))) {
    const all = await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)));
    const now = performance.now() - since;
    if (Number.isNaN(aliveMs) && all.every((s) => s !== undefined && s.members.every((m) => m.swimState === 'alive'))) aliveMs = now;
    const digests = new Set(all.map((s) => s?.memory?.digest ?? 'none'));
    if (Number.isNaN(digestsMs) && digests.size === 1 && !digests.has('none')) digestsMs = now;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { digestsMs, aliveMs };
}
