// heal-downed: heal after a 3+2 partition that outlasted stable-after. 5 real `tri node start`
// processes (127.0.34.x, RF 5 so every node holds every agent and "all five digests equal" is the
// convergence test), cut 3+2 with iptables on loopback (LoopbackPartition; root only). The cut
// stays until the majority has downed both minority nodes (removed from the voter configuration,
// /status quorum.removed), 500 episodes are acknowledged on the majority meanwhile, then the cut
// is removed. The figures: ms from the heal until all five /status digests are equal, and until
// all five are voters again (quorum.voters 5 with nobody removed, on every node). The existing
// heal-convergence scenario heals before stable-after; the goal here is the same: under 2 s.
import { LoopbackPartition } from '../src/demo/isolate.js';
import { benchPrefix } from './lib/bench-net.js';
import { writeResult, metric, median, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { QuorumCluster, type QStatus } from './quorum/cluster.js';
import { load1m, runLoad } from './quorum/load.js';

export const HEAL_DOWNED_GOAL_MS = 2_000;
const EPISODES = 500;
const PREFIX = benchPrefix('127.0.34.');

export async function runHealDowned(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const avail = LoopbackPartition.available();
  if (!avail.ok) throw new Error(`heal-downed needs iptables on loopback: ${avail.reason}; run as root on Linux`);
  const rounds = opts.quick ? 1 : 3;
  const digests: number[] = [];
  const voters: number[] = [];
  const roundInfo: unknown[] = [];
  for (let r = 0; r < rounds; r++) {
    const cluster = new QuorumCluster({ prefix: PREFIX, first: 11, triArgs: ['--replication-factor', '5'] });
    const partition = new LoopbackPartition();
    const healOnExit = (): void => partition.heal();
    process.once('exit', healOnExit);
    try {
      await cluster.start(5);
      const clients = [];
      for (let i = 0; i < 3; i++) clients.push(await cluster.client(i));
      partition.cut([3, 4].map((i) => cluster.address(i)), [0, 1, 2].map((i) => cluster.address(i)));
      const cutAt = performance.now();
      const downed = await cluster.waitAll((s) => minorityDowned(s), 90_000, 250);
      if (!downed) throw new Error(`the majority did not down q4 and q5 within 90 s: ${await describe(cluster)}`);
      const downedMs = performance.now() - cutAt;
      const w = await runLoad({ clients, concurrency: 16, maxWrites: EPISODES, maxMs: 60_000, agents: 25, agentPrefix: `downed${r}` });
      if (w.acked !== EPISODES) throw new Error(`only ${w.acked} of ${EPISODES} episodes were acknowledged on the majority side: ${JSON.stringify(w.errors)}`);
      const atHeal = await describe(cluster);
      const healedAt = performance.now();
      partition.heal();
      const t = await timeToHeal(cluster, healedAt, 45_000);
      log(
        `heal-downed round ${r + 1}: equal digests ${t.digestsMs.toFixed(0)} ms after heal, all 5 voters everywhere ${t.votersMs.toFixed(0)} ms ` +
          `(minority downed ${downedMs.toFixed(0)} ms after the cut, ${EPISODES} episodes in ${w.elapsedMs.toFixed(0)} ms, load ${load1m()}; at heal: ${atHeal}; timeline: ${t.timeline.join(' ')})`,
      );
      digests.push(t.digestsMs);
      voters.push(t.votersMs);
      roundInfo.push({ convergedMs: Math.round(t.digestsMs), allVotersMs: Math.round(t.votersMs), downedAfterCutMs: Math.round(downedMs), loadAvg1m: load1m(), timeline: t.timeline });
    } finally {
      partition.heal();
      process.removeListener('exit', healOnExit);
      await cluster.stop();
    }
  }
  const metrics: Metrics = {
    heal_downed_to_equal_digests_median: metric(Math.round(median(digests)), 'ms'),
    heal_downed_to_equal_digests_max: metric(Math.round(Math.max(...digests)), 'ms'),
    heal_downed_to_all_voters_median: metric(Math.round(median(voters)), 'ms'),
    divergent_episodes: metric(EPISODES, 'episodes'),
    rounds: metric(digests.length, 'rounds'),
    load_avg_1m: metric(load1m(), 'load'),
  };
  const peers = { goal: { heal_ms: HEAL_DOWNED_GOAL_MS }, rounds: roundInfo };
  return writeResult(opts.out, 'heal-downed', metrics, peers).result;
}

/** The majority removed both minority nodes from its voter configuration; the minority is read-only. */
function minorityDowned(s: QStatus): boolean {
  const q = s.quorum;
  if (!q) return false;
  if (['q4', 'q5'].includes(s.name)) return !q.writable;
  return q.writable && [...(q.removed ?? [])].sort().join() === 'q4,q5';
}

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
 * ms from `since` until every node's /status shows one digest, and until every node has all five
 * voters and nobody removed; polled every 20 ms. The timeline records each change of the compact
 * view (state, voters, writable per node), so where the time goes is in the result.
 */
async function timeToHeal(cluster: QuorumCluster, since: number, timeoutMs: number): Promise<{ digestsMs: number; votersMs: number; timeline: string[] }> {
  const deadline = since + timeoutMs;
  let votersMs = NaN;
  let digestsMs = NaN;
  const timeline: string[] = [];
  let last = '';
  while (performance.now() < deadline && (Number.isNaN(votersMs) || Number.isNaN(digestsMs))) {
    const all = await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)));
    const now = performance.now() - since;
    const view = all.map((s) => (s ? `${s.name}:${s.state[0]}${s.quorum?.voters}${s.quorum?.writable ? 'w' : 'r'}` : '?')).join(',');
    if (view !== last) timeline.push(`${now.toFixed(0)}ms=${view}`);
    last = view;
    if (Number.isNaN(votersMs) && all.every((s) => s?.quorum !== undefined && s.quorum.voters === 5 && (s.quorum.removed ?? []).length === 0)) votersMs = now;
    const ds = new Set(all.map((s) => s?.memory?.digest ?? 'none'));
    if (Number.isNaN(digestsMs) && ds.size === 1 && !ds.has('none')) digestsMs = now;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { digestsMs, votersMs, timeline };
}
