// The serf reference run for the membership scenarios: start N agents on loopback, wait until
// everyone sees N alive, measure idle gossip bytes, SIGKILL one agent and time until every
// survivor reports it failed, then start one more agent and time until all see it alive.
import { metric, type Metrics } from '../lib/result.js';
import { mean, percentile } from '../lib/stats.js';
import { SerfCluster, SERF_ADDRESS_PREFIX, type SerfAgent } from './serf-cluster.js';
import { allAlive, reportedFailed, timeUntilEach } from './serf-measure.js';
import { StatsdByteCounter } from './statsd-counter.js';

export interface SerfMembershipOptions {
  agents: number;
  /** How long to count idle traffic; 0 skips it. lan pushes/pulls every 30 s, so >= 30 s covers one. */
  idleWindowMs?: number;
  /** Kill-and-replace rounds to time, one after another; default 5. */
  detectionRounds?: number;
  /** Upper bound for each wait (converge, detect, join). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface SerfMembershipResult {
  agents: number;
  metrics: Metrics;
  /** Raw per-observer times, ms: one array per round. */
  samples: { detectionMs: number[][]; joinMs: number[][] };
  notes: string[];
  /** Process ids of every agent started (all are dead when the run returns). */
  pids: number[];
}

const STATSD_PORT = 8125;

export async function runSerfMembership(serfPath: string, opts: SerfMembershipOptions): Promise<SerfMembershipResult> {
  const { agents: n, idleWindowMs = 30_000, detectionRounds = 5, timeoutMs = 60_000, log = () => undefined } = opts;
  if (n < 3) throw new Error('need at least 3 agents: a seed, a victim and another observer');
  const notes: string[] = [];
  const counter = idleWindowMs > 0 ? await StatsdByteCounter.listen(`${SERF_ADDRESS_PREFIX}250`, STATSD_PORT) : undefined;
  const cluster = new SerfCluster(serfPath, counter ? { statsdAddr: `${SERF_ADDRESS_PREFIX}250:${STATSD_PORT}` } : {});
  const metrics: Metrics = {};
  try {
    log(`starting ${n} serf agents`);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await cluster.startAgent();
    const names = cluster.agents.map((a) => a.name);
    const converge = await timeUntilEach(cluster.agents, t0, allAlive(names), timeoutMs);
    if (converge.missing.length) throw new Error(`agents ${converge.missing.join(', ')} never saw all ${n} alive`);
    metrics.startup_converged = metric(round(Math.max(...converge.times)), 'ms');

    if (counter) {
      log(`counting idle traffic for ${idleWindowMs} ms`);
      // Let join-time gossip drain first, so the window holds steady-state traffic only.
      await sleep(3_000);
      const before = counter.totalBytes;
      const udpBefore = counter.udpBytes;
      await sleep(idleWindowMs);
      const seconds = idleWindowMs / 1000;
      metrics.idle_bytes_per_node_per_s = metric(round((counter.totalBytes - before) / seconds / n), 'B/s');
      metrics.idle_udp_bytes_per_node_per_s = metric(round((counter.udpBytes - udpBefore) / seconds / n), 'B/s');
      notes.push('idle bytes: memberlist.udp.sent + memberlist.tcp.sent counters (payload bytes, no IP/UDP headers) via statsd');
    } else notes.push('idle bytes not measured (idleWindowMs = 0)');

    // Each round crash-stops the newest agent (never agent 1, the join seed), times detection,
    // then starts a replacement and times its join, so every round sees a cluster of n.
    const detectionMs: number[][] = [];
    const joinMs: number[][] = [];
    let alive = [...cluster.agents];
    for (let r = 0; r < detectionRounds; r++) {
      const victim = alive[alive.length - 1]!;
      const survivors = alive.slice(0, -1);
      log(`round ${r + 1}: SIGKILL ${victim.name}`);
      const killedAt = performance.now();
      cluster.kill(victim);
      const detect = await timeUntilEach(survivors, killedAt, reportedFailed(victim.name), timeoutMs);
      if (detect.missing.length) notes.push(`round ${r + 1}: never reported ${victim.name} failed: ${detect.missing.join(', ')}`);
      detectionMs.push(detect.times);

      const joinStart = performance.now();
      const joiner: SerfAgent = await cluster.startAgent();
      log(`round ${r + 1}: started ${joiner.name}`);
      alive = [...survivors, joiner];
      const join = await timeUntilEach(alive, joinStart, allAlive([joiner.name]), timeoutMs);
      if (join.missing.length) notes.push(`round ${r + 1}: never saw ${joiner.name} alive: ${join.missing.join(', ')}`);
      joinMs.push(join.times);
      // Spread the kills over the probe cycle instead of locking them to its phase.
      await sleep(500 + 317 * r);
    }
    addRoundMetrics(metrics, 'detection', detectionMs);
    addRoundMetrics(metrics, 'join_dissemination', joinMs);
    notes.push(
      `${detectionRounds} rounds of: SIGKILL one agent, time until survivors report it "failed"; start a replacement, ` +
        'time until all see it alive (from spawning it: process start and its join included). ' +
        '_first/_all are means over rounds of the first/last observer, _p50 over all observations, _all_max the worst round.',
    );
    return { agents: n, metrics, samples: { detectionMs, joinMs }, notes, pids: cluster.agents.map((a) => a.process.pid ?? -1) };
  } finally {
    await cluster.stopAll();
    counter?.close();
  }
}

function addRoundMetrics(metrics: Metrics, name: string, rounds: number[][]): void {
  const complete = rounds.filter((t) => t.length > 0);
  metrics[`${name}_first`] = metric(round(mean(complete.map((t) => Math.min(...t)))), 'ms');
  metrics[`${name}_p50`] = metric(round(percentile(complete.flat(), 50)), 'ms');
  metrics[`${name}_all`] = metric(round(mean(complete.map((t) => Math.max(...t)))), 'ms');
  metrics[`${name}_all_max`] = metric(round(Math.max(...complete.map((t) => Math.max(...t)))), 'ms');
}

const round = (v: number): number => Math.round(v * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
