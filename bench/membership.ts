// Membership benchmarks on real processes: our nodes (`tri node start --profile lan`, UDP sealed
// with AES-GCM) beside Debian's serf agents (-profile=lan), in the same run on the same machine.
// For each cluster size (5 and 32): start the cluster and wait until everyone sees everyone
// ACTIVE; at the largest size count idle gossip bytes; then R rounds of SIGKILL the newest node,
// time until every survivor reports it FAILED, start a replacement and time until all see it
// alive. Two scenarios come out of one run (the clusters are started once for both):
//   membership-detection      crash detection, ours against serf, and false positives
//   membership-dissemination  join dissemination and idle gossip bytes per node
// plus <out>/membership-raw.json (every per-observer sample) and SVG charts.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { mean, median, percentile } from './lib/stats.js';
import { barChartSvg, writeChart } from './lib/svg-chart.js';
import { ensureSerf } from './serf/ensure-serf.js';
import { runSerfMembership, type SerfMembershipResult } from './serf/serf-membership.js';
import { allInState, allInSwimState, bytesSentBetween, fetchStatus, nodeTcpBytesSent, ProcCluster, snapshotCli, timeUntilEach, type MemberLogEvent, type NodeStatus, type ProcNode } from './lib/proc-cluster.js';
import { SEAL_OVERHEAD } from '../src/security/packet-crypto.js';

export interface MembershipBenchOptions {
  out: string;
  /** Fewer rounds and a shorter idle window (the pair stays under ~5 minutes). */
  quick?: boolean;
  /** Cluster sizes; default [5, 32]. Idle bytes are counted at the largest. */
  sizes?: number[];
  log?: (msg: string) => void;
}

interface Plan {
  rounds: number;
  idleWindowMs: number;
}

/** Rounds and idle window per cluster size: the large clusters are the expensive ones. */
export function planFor(size: number, largest: number, quick: boolean): Plan {
  const rounds = quick ? 3 : size >= 20 ? 5 : 7;
  // >= 30 s covers one push-pull per node (lan: every 30 s), as serf's runner advises.
  const idleWindowMs = size === largest ? (quick ? 30_000 : 60_000) : 0;
  return { rounds, idleWindowMs };
}

const TIMEOUT_MS = 60_000;
const POLL_MS = 50;
/** Nodes spawned at once while a cluster starts (2 cores: more only queues). */
const START_BATCH = 4;
/** Log events that accuse a member. */
const ACCUSING = new Set(['suspect', 'dead', 'failed']);

// ---- pure helpers (unit-tested) -------------------------------------------------------------------

/**
 * Summary of per-round, per-observer times: `_first_median` / `_all_median` are medians over rounds
 * of the first / last observer, `_all_min` / `_all_max` the range of the last observer, `_p50` the
 * median of all observations. Rounds where nobody saw the event are left out (and counted).
 */
export function roundMetrics(prefix: string, rounds: readonly (readonly number[])[], unit = 'ms'): Metrics {
  const complete = rounds.filter((t) => t.length > 0);
  const firsts = complete.map((t) => Math.min(...t));
  const alls = complete.map((t) => Math.max(...t));
  return {
    [`${prefix}_first_median`]: metric(round1(median(firsts)), unit),
    [`${prefix}_all_median`]: metric(round1(median(alls)), unit),
    [`${prefix}_all_min`]: metric(round1(alls.length ? Math.min(...alls) : NaN), unit),
    [`${prefix}_all_max`]: metric(round1(alls.length ? Math.max(...alls) : NaN), unit),
    [`${prefix}_p50`]: metric(round1(percentile(complete.flat(), 50)), unit),
    [`${prefix}_rounds`]: metric(complete.length, 'rounds'),
  };
}

/** ours / theirs, rounded to 3 places; NaN unless both are positive finite numbers. */
export function ratio(ours: number | undefined, theirs: number | undefined): number {
  if (ours === undefined || theirs === undefined || !(ours >= 0) || !(theirs > 0) || !Number.isFinite(ours) || !Number.isFinite(theirs)) return NaN;
  return Math.round((ours / theirs) * 1000) / 1000;
}

/** Log events accusing (suspect/dead/failed) a member that was never killed: false positives. */
export function falseAccusations(events: readonly MemberLogEvent[], killed: ReadonlySet<string>): MemberLogEvent[] {
  return events.filter((e) => ACCUSING.has(e.event) && !killed.has(e.member));
}

/** Per-node gossip counters read twice, `seconds` apart. */
export interface IdleRates {
  nodes: number;
  payloadBytesPerS: number;
  wireBytesPerS: number;
  packetsPerS: number;
  pushPullsPerS: number;
}

/**
 * Mean per-node rates over the window from /status gossip counters (nodes answering both times).
 * bytesOut counts the SWIM payload; each sealed packet carries `sealOverhead` more (nonce, tag,
 * label), which wireBytesPerS adds. IP/UDP headers are in neither, as in serf's counters.
 */
export function idleRates(before: ReadonlyMap<string, Record<string, number>>, after: ReadonlyMap<string, Record<string, number>>, seconds: number, sealOverhead: number): IdleRates {
  let n = 0;
  let bytes = 0;
  let packets = 0;
  let pushPulls = 0;
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b) continue;
    n++;
    bytes += (a.bytesOut ?? 0) - (b.bytesOut ?? 0);
    packets += (a.packetsOut ?? 0) - (b.packetsOut ?? 0);
    pushPulls += (a.pushPulls ?? 0) - (b.pushPulls ?? 0);
  }
  const per = (v: number): number => (n > 0 && seconds > 0 ? round1(v / n / seconds) : NaN);
  return { nodes: n, payloadBytesPerS: per(bytes), wireBytesPerS: per(bytes + packets * sealOverhead), packetsPerS: per(packets), pushPullsPerS: Math.round((n > 0 ? pushPulls / n / seconds : NaN) * 1000) / 1000 };
}

// ---- our cluster ----------------------------------------------------------------------------------

export interface OurMembershipRun {
  nodes: number;
  startupConvergedMs: number;
  samples: { detectionMs: number[][]; joinMs: number[][]; joinFromReadyMs: number[][] };
  /** Per join round: from spawning the joiner until its /status answered (process start-up, before it joins). */
  joinerReadyMs: number[];
  /** Per detection round: what the survivors' logs and counters say happened. */
  diagnostics: RoundDiagnostics[];
  /** Per round: from spawning the joiner until the last survivor logged "member join" for it (NaN if one never did). */
  joinAllFromLogsMs: number[];
  /** Log events accusing a live member, over the whole run (startup included). */
  falseAccusations: MemberLogEvent[];
  /** Polls that showed a live member suspect/dead. */
  falseStates: { observer: string; member: string; swimState: string }[];
  /** Sum of the `refutations` counters of the nodes alive at the end. */
  refutations: number;
  idle?: IdleRates & { tcpBytesPerS: number; windowMs: number };
  notes: string[];
}

export async function runOurMembership(n: number, plan: Plan, log: (m: string) => void, triPath?: string): Promise<OurMembershipRun> {
  if (n < 3) throw new Error('need at least 3 nodes: a seed, a victim and another observer');
  const cluster = new ProcCluster({ profile: 'lan', ...(triPath ? { triPath } : {}) });
  const notes: string[] = [];
  const killed = new Set<string>();
  const falseStates: OurMembershipRun['falseStates'] = [];
  const inspect = (o: ProcNode, s: NodeStatus): void => {
    for (const m of s.members) {
      if ((m.swimState === 'suspect' || m.swimState === 'dead') && !killed.has(m.name)) falseStates.push({ observer: o.name, member: m.name, swimState: m.swimState });
    }
  };
  try {
    log(`starting ${n} nodes`);
    const t0 = performance.now();
    await cluster.startNode();
    while (cluster.nodes.length < n) {
      const batch = Math.min(START_BATCH, n - cluster.nodes.length);
      await Promise.all(Array.from({ length: batch }, () => cluster.startNode()));
    }
    const names = cluster.nodes.map((x) => x.name);
    const converge = await timeUntilEach(cluster.nodes, t0, allInState(names, 'ACTIVE'), { timeoutMs: TIMEOUT_MS, pollMs: 250, inspect });
    if (converge.missing.length) throw new Error(`nodes ${converge.missing.join(', ')} never saw all ${n} ACTIVE`);
    const startupConvergedMs = round1(Math.max(...converge.times));
    log(`all ${n} see all ACTIVE after ${startupConvergedMs} ms`);

    let idle: OurMembershipRun['idle'];
    if (plan.idleWindowMs > 0) {
      await sleep(3_000); // let join-time gossip drain, as serf's runner does
      log(`counting idle gossip for ${plan.idleWindowMs} ms`);
      const [before, tcpBefore] = await Promise.all([gossipCounters(cluster.nodes), nodeTcpBytesSent()]);
      const start = performance.now();
      await sleep(plan.idleWindowMs);
      const [after, tcpAfter] = await Promise.all([gossipCounters(cluster.nodes), nodeTcpBytesSent()]);
      const seconds = (performance.now() - start) / 1000;
      const udp = idleRates(before, after, seconds, SEAL_OVERHEAD);
      const tcpBytesPerS = tcpBefore && tcpAfter ? round1(bytesSentBetween(tcpBefore, tcpAfter) / n / seconds) : NaN;
      idle = { ...udp, tcpBytesPerS, windowMs: Math.round(seconds * 1000) };
      notes.push(
        `idle bytes: UDP from /status gossip bytesOut (SWIM payload) plus packetsOut x ${SEAL_OVERHEAD} B seal overhead (nonce, tag, label); ` +
          'TCP from `ss` bytes_sent on node-to-node stream sockets (ports 9999/10000: push-pull and memory anti-entropy, TLS records included); no IP/UDP/TCP headers',
      );
    } else await sleep(2_000);

    const detectionMs: number[][] = [];
    const diagnostics: RoundDiagnostics[] = [];
    const joinMs: number[][] = [];
    const joinFromReadyMs: number[][] = [];
    const joinerReadyMs: number[] = [];
    const joinAllFromLogsMs: number[] = [];
    let alive = [...cluster.nodes];
    for (let r = 0; r < plan.rounds; r++) {
      const gone = alive.filter((x) => !cluster.isRunning(x));
      if (gone.length) {
        const why = gone.map((x) => `${x.name} (exit ${String(x.process.exitCode ?? x.process.signalCode)}: ${x.logTail.slice(-1).join('')})`);
        throw new Error(`nodes this benchmark did not kill have exited, so the run is void: ${why.join('; ')}`);
      }
      const victim = alive[alive.length - 1]!;
      const survivors = alive.slice(0, -1);
      const countersBefore = await gossipCounters(survivors);
      log(`round ${r + 1}: SIGKILL ${victim.name}`);
      killed.add(victim.name);
      const killedAt = performance.now();
      const killedWall = Date.now();
      cluster.kill(victim);
      const detect = await timeUntilEach(survivors, killedAt, allInState([victim.name], 'FAILED'), { timeoutMs: TIMEOUT_MS, pollMs: POLL_MS, inspect });
      if (detect.missing.length) {
        const dead = survivors.filter((x) => !cluster.isRunning(x)).map((x) => `${x.name} exited ${String(x.process.exitCode ?? x.process.signalCode)}: ${x.logTail.slice(-3).join(' | ')}`);
        notes.push(`round ${r + 1}: never reported ${victim.name} FAILED: ${detect.missing.join(', ')}${dead.length ? `; ${dead.join('; ')}` : ''}`);
        log(notes[notes.length - 1]!);
      }
      detectionMs.push(detect.times);
      await sleep(300); // let the last "member dead" log lines arrive
      const diag = roundDiagnostics(survivors, victim, killedWall, killedAt, countersBefore, await gossipCounters(survivors));
      diagnostics.push(diag);
      log(
        `round ${r + 1}: first ${fmt(Math.min(...detect.times))} ms, all ${fmt(Math.max(...detect.times))} ms ` +
          `(logs: first suspect ${fmt(diag.firstSuspectMs)} ms, first dead ${fmt(diag.firstDeadMs)} ms, last dead ${fmt(diag.lastDeadMs)} ms; ` +
          `victim up ${fmt(diag.victimUpMs)} ms; health at kill mean ${diag.healthAtKill.mean} max ${diag.healthAtKill.max}; confirmations ${diag.counters.confirmations ?? 0})`,
      );

      const joinStart = performance.now();
      const joinStartWall = Date.now();
      const joiner = await cluster.startNode();
      alive = [...survivors, joiner];
      const join = await timeUntilEach(alive, joinStart, allInSwimState([joiner.name], 'alive'), { timeoutMs: TIMEOUT_MS, pollMs: POLL_MS, inspect });
      if (join.missing.length) notes.push(`round ${r + 1}: never saw ${joiner.name} alive: ${join.missing.join(', ')}`);
      joinMs.push(join.times);
      await sleep(300); // let the last "member join" log lines arrive
      const joinLogged = survivors.flatMap((x) => x.events).filter((e) => e.member === joiner.name && e.event === 'join' && e.at >= joinStartWall - 5);
      joinAllFromLogsMs.push(joinLogged.length === survivors.length ? Math.max(...joinLogged.map((e) => e.at - joinStartWall)) : NaN);
      const readyAfter = joiner.readyAt - joinStart;
      joinFromReadyMs.push(join.times.map((t) => Math.max(0, t - readyAfter)));
      joinerReadyMs.push(round1(readyAfter));
      log(`round ${r + 1}: ${joiner.name} up after ${fmt(readyAfter)} ms, seen by all after ${fmt(Math.max(...join.times))} ms`);
      // Spread the kills over the probe cycle instead of locking them to its phase (as serf's runner).
      await sleep(500 + 317 * r);
    }
    let refutations = 0;
    for (const s of (await gossipCounters(cluster.nodes.filter((x) => cluster.isRunning(x)))).values()) refutations += s.refutations ?? 0;
    const events = cluster.nodes.flatMap((x) => x.events);
    notes.push(
      `${plan.rounds} rounds of: SIGKILL the newest node, time until every survivor's /status lists it FAILED (polled every ${POLL_MS} ms); ` +
        'start a replacement, time until all see it alive (from spawning it: process start and its join included; _from_ready: from its /status first answering).',
    );
    return {
      nodes: n,
      startupConvergedMs,
      samples: { detectionMs, joinMs, joinFromReadyMs },
      joinerReadyMs,
      diagnostics,
      joinAllFromLogsMs,
      falseAccusations: falseAccusations(events, killed),
      falseStates: dedupeStates(falseStates),
      refutations,
      ...(idle ? { idle } : {}),
      notes,
    };
  } finally {
    await cluster.stopAll();
  }
}

/** One detection round as the survivors' logs and gossip counters tell it. */
export interface RoundDiagnostics {
  victim: string;
  /** How long the victim had been up (its /status answering) when it was killed. */
  victimUpMs: number;
  /** From the kill to the first survivor logging "member suspect" / "member dead" about it, and to the last "member dead". */
  firstSuspectMs: number;
  firstDeadMs: number;
  lastDeadMs: number;
  /** Survivors that logged it dead. */
  deadLogged: number;
  /** Lifeguard local health scores of the survivors at the kill (0 = healthy; >0 stretches their probe period). */
  healthAtKill: { mean: number; max: number };
  /** Sum over survivors of the growth of these gossip counters during the round. */
  counters: Record<string, number>;
}

const DIAG_COUNTERS = ['suspicions', 'confirmations', 'probeFailures', 'indirectProbes', 'nacks', 'refutations', 'deaths'];

function roundDiagnostics(
  survivors: readonly ProcNode[],
  victim: ProcNode,
  killedWall: number,
  killedAt: number,
  before: ReadonlyMap<string, Record<string, number>>,
  after: ReadonlyMap<string, Record<string, number>>,
): RoundDiagnostics {
  const evs = survivors.flatMap((s) => s.events).filter((e) => e.member === victim.name && e.at >= killedWall - 5);
  const at = (kind: string): number[] => evs.filter((e) => e.event === kind).map((e) => e.at - killedWall);
  const suspects = at('suspect');
  const deads = at('dead');
  const health = [...before.values()].map((c) => c.localHealth ?? 0);
  const counters: Record<string, number> = {};
  for (const k of DIAG_COUNTERS) {
    counters[k] = 0;
    for (const [name, a] of after) counters[k] += (a[k] ?? 0) - (before.get(name)?.[k] ?? 0);
  }
  return {
    victim: victim.name,
    victimUpMs: Math.round(killedAt - victim.readyAt),
    firstSuspectMs: suspects.length ? Math.min(...suspects) : NaN,
    firstDeadMs: deads.length ? Math.min(...deads) : NaN,
    lastDeadMs: deads.length ? Math.max(...deads) : NaN,
    deadLogged: new Set(evs.filter((e) => e.event === 'dead').map((e) => e.observer)).size,
    healthAtKill: { mean: round1(mean(health)), max: health.length ? Math.max(...health) : NaN },
    counters,
  };
}

async function gossipCounters(nodes: readonly ProcNode[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  await Promise.all(
    nodes.map(async (x) => {
      const s = await fetchStatus(x.address, 2_000);
      if (s) out.set(x.name, s.gossip);
    }),
  );
  return out;
}

function dedupeStates(xs: OurMembershipRun['falseStates']): OurMembershipRun['falseStates'] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = `${x.observer}/${x.member}/${x.swimState}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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

const round1 = (v: number): number => Math.round(v * 10) / 10;
const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : String(v));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
