// Membership benchmarks on real processes: our nodes (`tri node start --profile lan`, UDP sealed
// with AES-GCM) beside Debian's serf agents (-profile=lan), in the same run on the same machine.
// For each cluster size (5 and 32): start the cluster and wait until everyone sees everyone
// ACTIVE; at the largest size count idle gossip bytes; then R rounds of SIGKILL the newest node,
// time until every survivor reports it FAILED, start a replacement and time until all see it
// alive. Two scenarios come out of one run (the clusters are started once for both):
//   membership-detection      crash detection, ours against serf, and false positives
//   membership-dissemination  join dissemination and idle gossip bytes per node
// plus <out>/membership-raw.json (every per-observer sample) and SVG charts.
// Our runner is bench/membership/trinity-membership.ts, serf's bench/serf/serf-membership.ts; this
// file runs both per size and assembles the two results, the raw samples and the charts.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { mean, median } from './lib/stats.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { ensureSerf } from './serf/ensure-serf.js';
import { runSerfMembership, type SerfMembershipResult } from './serf/serf-membership.js';
import { snapshotCli } from './lib/proc-cluster.js';
import { planFor, ratio, round1, roundMetrics } from './membership/figures.js';
import { runOurMembership, TIMEOUT_MS, type OurMembershipRun } from './membership/trinity-membership.js';

export { falseAccusations, idleRates, planFor, ratio, roundMetrics, type IdleRates } from './membership/figures.js';
export { runOurMembership, type OurMembershipRun, type RoundDiagnostics } from './membership/trinity-membership.js';

export interface MembershipBenchOptions {
  out: string;
  /** Fewer rounds and a shorter idle window (the pair stays under ~5 minutes). */
  quick?: boolean;
  /** Cluster sizes; default [5, 32]. Idle bytes are counted at the largest. */
  sizes?: number[];
  log?: (msg: string) => void;
}

// ---- the pair: ours and serf, each size ----------------------------------------------------------

export interface MembershipPairResult {
  detection: BenchResult;
  dissemination: BenchResult;
}

interface SizeRun {
  size: number;
  ours: OurMembershipRun;
  serf?: SerfMembershipResult;
  serfError?: string;
}

const pairs = new Map<string, Promise<MembershipPairResult>>();

/** Runs both clusters once and writes both scenarios; later calls with the same options share it. */
export function runMembershipPair(opts: MembershipBenchOptions): Promise<MembershipPairResult> {
  const key = JSON.stringify([opts.out, opts.quick ?? false, opts.sizes ?? null]);
  let p = pairs.get(key);
  if (!p) {
    p = runPair(opts);
    pairs.set(key, p);
  }
  return p;
}

export async function runMembershipDetection(opts: MembershipBenchOptions): Promise<BenchResult> {
  return (await runMembershipPair(opts)).detection;
}

export async function runMembershipDissemination(opts: MembershipBenchOptions): Promise<BenchResult> {
  return (await runMembershipPair(opts)).dissemination;
}

async function runPair(opts: MembershipBenchOptions): Promise<MembershipPairResult> {
  const quick = opts.quick ?? false;
  const sizes = opts.sizes ?? [5, 32];
  const largest = Math.max(...sizes);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`));
  const serfBin = await ensureSerf();
  if (!serfBin.ok) log(`serf unavailable, running ours only: ${serfBin.reason}`);
  const started = performance.now();
  const runs: SizeRun[] = [];
  const cli = await snapshotCli();
  try {
    for (const size of sizes) {
      const plan = planFor(size, largest, quick);
      const ours = await runOurMembership(size, plan, (m) => log(`[trinity ${size}] ${m}`), cli.triPath);
      const run: SizeRun = { size, ours };
      if (serfBin.ok) {
        try {
          run.serf = await runSerfMembership(serfBin.path, {
            agents: size,
            idleWindowMs: plan.idleWindowMs,
            detectionRounds: plan.rounds,
            timeoutMs: TIMEOUT_MS,
            log: (m) => log(`[serf ${size}] ${m}`),
          });
        } catch (err) {
          run.serfError = (err as Error).message;
          log(`[serf ${size}] failed: ${run.serfError}`);
        }
      }
      runs.push(run);
    }
  } finally {
    cli.cleanup();
  }
  const wallS = Math.round((performance.now() - started) / 100) / 10;
  const load = (await import('node:os')).loadavg().map((v) => Math.round(v * 100) / 100);

  // Detection.
  const det: Metrics = {};
  const detSerf: Metrics = {};
  for (const { size, ours, serf } of runs) {
    Object.assign(det, roundMetrics(`n${size}_detection`, ours.samples.detectionMs));
    if (serf) Object.assign(detSerf, roundMetrics(`n${size}_detection`, serf.samples.detectionMs));
    det[`n${size}_detection_ratio_vs_serf`] = metric(ratio(det[`n${size}_detection_all_median`]?.value, detSerf[`n${size}_detection_all_median`]?.value), 'x');
    det[`n${size}_detection_first_ratio_vs_serf`] = metric(ratio(det[`n${size}_detection_first_median`]?.value, detSerf[`n${size}_detection_first_median`]?.value), 'x');
    det[`n${size}_detection_first_suspect_median`] = metric(round1(median(ours.diagnostics.map((d) => d.firstSuspectMs).filter(Number.isFinite))), 'ms');
    det[`n${size}_detection_all_from_logs_median`] = metric(round1(median(ours.diagnostics.map((d) => d.lastDeadMs).filter(Number.isFinite))), 'ms');
    // Rounds where no survivor had backed off (Lifeguard health 0 at the kill): the undisturbed case.
    const healthy = ours.samples.detectionMs.filter((_, i) => ours.diagnostics[i]?.healthAtKill.max === 0);
    det[`n${size}_detection_all_median_health0`] = metric(round1(median(healthy.filter((t) => t.length).map((t) => Math.max(...t)))), 'ms');
    det[`n${size}_detection_rounds_health0`] = metric(healthy.length, 'rounds');
    det[`n${size}_health_at_kill_mean`] = metric(round1(mean(ours.diagnostics.map((d) => d.healthAtKill.mean))), 'score');
    det[`n${size}_false_accusations`] = metric(ours.falseAccusations.length, 'events');
    det[`n${size}_false_states_polled`] = metric(ours.falseStates.length, 'observer-member pairs');
    det[`n${size}_refutations`] = metric(ours.refutations, 'refutations');
  }
  det.run_wall_time = metric(wallS, 's');
  det.load_avg_1m_end = metric(load[0] ?? NaN, 'load');

  // Dissemination and idle traffic.
  const dis: Metrics = {};
  const disSerf: Metrics = {};
  for (const { size, ours, serf } of runs) {
    Object.assign(dis, roundMetrics(`n${size}_join`, ours.samples.joinMs));
    Object.assign(dis, roundMetrics(`n${size}_join_from_ready`, ours.samples.joinFromReadyMs));
    if (serf) Object.assign(disSerf, roundMetrics(`n${size}_join`, serf.samples.joinMs));
    dis[`n${size}_join_all_from_logs_median`] = metric(round1(median(ours.joinAllFromLogsMs.filter(Number.isFinite))), 'ms');
    // Process start-up of the joiner (spawn until its /status answers): the part of join time that is not gossip.
    dis[`n${size}_joiner_startup_median`] = metric(round1(median(ours.joinerReadyMs.filter(Number.isFinite))), 'ms');
    dis[`n${size}_join_ratio_vs_serf`] = metric(ratio(dis[`n${size}_join_all_median`]?.value, disSerf[`n${size}_join_all_median`]?.value), 'x');
    dis[`n${size}_startup_converged`] = metric(ours.startupConvergedMs, 'ms');
    if (ours.idle) {
      dis[`n${size}_idle_udp_payload_bytes_per_node_per_s`] = metric(ours.idle.payloadBytesPerS, 'B/s');
      dis[`n${size}_idle_udp_sealed_bytes_per_node_per_s`] = metric(ours.idle.wireBytesPerS, 'B/s');
      dis[`n${size}_idle_packets_per_node_per_s`] = metric(ours.idle.packetsPerS, 'pkt/s');
      dis[`n${size}_idle_push_pulls_per_node_per_s`] = metric(ours.idle.pushPullsPerS, '1/s');
      dis[`n${size}_idle_tcp_bytes_per_node_per_s`] = metric(ours.idle.tcpBytesPerS, 'B/s');
      dis[`n${size}_idle_bytes_per_node_per_s`] = metric(round1(ours.idle.wireBytesPerS + ours.idle.tcpBytesPerS), 'B/s');
    }
    if (serf) {
      for (const k of ['startup_converged', 'idle_bytes_per_node_per_s', 'idle_udp_bytes_per_node_per_s']) {
        const m = serf.metrics[k];
        if (m) disSerf[`n${size}_${k}`] = m;
      }
      if (ours.idle) {
        dis[`n${size}_idle_udp_ratio_vs_serf`] = metric(ratio(ours.idle.wireBytesPerS, serf.metrics.idle_udp_bytes_per_node_per_s?.value), 'x');
        dis[`n${size}_idle_bytes_ratio_vs_serf`] = metric(ratio(ours.idle.wireBytesPerS + ours.idle.tcpBytesPerS, serf.metrics.idle_bytes_per_node_per_s?.value), 'x');
      }
    }
  }
  dis.run_wall_time = metric(wallS, 's');

  const serfPeer = (metrics: Metrics): Record<string, unknown> =>
    serfBin.ok
      ? {
          binary: serfBin.path,
          profile: 'lan',
          metrics,
          notes: runs.flatMap((r) => [...(r.serf?.notes.map((x) => `n${r.size}: ${x}`) ?? []), ...(r.serfError ? [`n${r.size}: failed: ${r.serfError}`] : [])]),
          falsePositives: 'not counted (its runner reads member lists only when timing; agents log at warn)',
        }
      : { unavailable: serfBin.reason };
  const detection = writeResult(opts.out, 'membership-detection', det, { serf: serfPeer(detSerf) }).result;
  const dissemination = writeResult(opts.out, 'membership-dissemination', dis, { serf: serfPeer(disSerf) }).result;

  // Raw samples of both sides, and charts.
  mkdirSync(opts.out, { recursive: true });
  const raw = {
    quick,
    wallSeconds: wallS,
    loadAvgEnd: load,
    runs: runs.map((r) => ({
      size: r.size,
      plan: planFor(r.size, largest, quick),
      trinity: { ...r.ours },
      serf: r.serf ? { metrics: r.serf.metrics, samples: r.serf.samples, notes: r.serf.notes } : { error: r.serfError ?? (serfBin.ok ? 'not run' : serfBin.reason) },
    })),
  };
  writeFileSync(join(opts.out, 'membership-raw.json'), `${JSON.stringify(raw, null, 1)}\n`);
  const categories = runs.map((r) => `${r.size} nodes`);
  const val = (m: Metrics, size: number, k: string): number => m[`n${size}_${k}`]?.value ?? NaN;
  writeChart(
    join(opts.out, 'membership-detection.svg'),
    barChartSvg({
      title: 'Crash detection time against serf (lan profile, median over rounds)',
      unit: 'ms until every survivor reports it failed',
      categories,
      series: [
        { name: 'trinity: all survivors', values: runs.map((r) => val(det, r.size, 'detection_all_median')) },
        { name: 'serf: all survivors', values: runs.map((r) => val(detSerf, r.size, 'detection_all_median')) },
        { name: 'trinity: first survivor', values: runs.map((r) => val(det, r.size, 'detection_first_median')) },
        { name: 'serf: first survivor', values: runs.map((r) => val(detSerf, r.size, 'detection_first_median')) },
      ],
    }),
  );
  writeChart(
    join(opts.out, 'membership-dissemination.svg'),
    barChartSvg({
      title: 'Join dissemination against serf (from spawn, median over rounds)',
      unit: 'ms until every member sees the new one alive',
      categories,
      series: [
        { name: 'trinity', values: runs.map((r) => val(dis, r.size, 'join_all_median')) },
        { name: 'serf', values: runs.map((r) => val(disSerf, r.size, 'join_all_median')) },
        { name: 'trinity (from process ready)', values: runs.map((r) => val(dis, r.size, 'join_from_ready_all_median')) },
      ],
    }),
  );
  return { detection, dissemination };
}
