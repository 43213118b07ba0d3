// sim-scale: the deterministic simulator at growing cluster sizes, every node joining through one
// seed on 'lan' links and profile: virtual time and gossip rounds until every node sees every
// other alive, against log2 N, and the wall time 60 virtual seconds took. Two modes, reported
// side by side under their own metric names:
//   membership_*  the membership layer alone (issue 2): the real SWIM core, driver, RPC push-pull
//                 and seed join of every node (src/sim/membership-sim.ts);
//   whole_node_*  whole ClusterNodes: gossip + memory + quorum + tasks (src/sim/cluster-sim.ts).
// The full run ends with 1,000 nodes in each mode.
//
// One run on its own, for profiling (`node --cpu-prof dist/bench/sim-scale.js membership 1000`):
//   node dist/bench/sim-scale.js membership|whole-node NODES [VIRTUAL_MS]
// With SIM_PROFILE_STEADY=FILE it also writes a CPU profile of the steady state alone (from
// formation to the end), which a whole-run --cpu-prof buries under the formation.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SimCluster } from '../src/sim/cluster-sim.js';
import { SimMembership } from '../src/sim/membership-sim.js';
import { profile } from '../gossip/config.js';
import { lineChartSvg, metric, writeChart, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';

const GOSSIP_INTERVAL_MS = profile('lan').gossipIntervalMs;
const RUN_MS = 60_000;

export type ScaleMode = 'membership' | 'whole-node';

export interface ScaleRun {
  mode: ScaleMode;
  nodes: number;
  converged: boolean;
  /** Virtual ms from the first node's start until every node saw all N alive. */
  convergeMs: number;
  /** convergeMs in gossip intervals (lan: 200 ms), to 0.1 (joins announced directly converge within one). */
  convergeRounds: number;
  /** Virtual ms simulated in all (at least runMs). */
  virtualMs: number;
  wallS: number;
  /** CPU seconds of this process (user + system) for the whole run. */
  cpuS: number;
  /** Member events all nodes reported from the first start until every node saw all N alive. */
  formationEvents: number;
  /** CPU seconds spent until then. */
  formationCpuS: number;
  /** formationCpuS per member event, in microseconds: flat in N when no event costs O(N). */
  usPerMemberEvent: number;
  events: number;
  packets: number;
  /** CPU seconds from formation to the end of the run (the steady state). */
  steadyCpuS: number;
  /** Member events all nodes reported after formation, by kind (none in a quiet steady state). */
  steadyMemberEvents: Record<string, number>;
  /** V8 heap in use and the process's resident set when the cluster had formed, MB. */
  heapMB: number;
  rssMB: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** One cluster of `nodes` in `mode`, joined through node 0, run for `runMs` of virtual time. */
export async function runScale(mode: ScaleMode, nodes: number, runMs = RUN_MS, seed: number | string = 1000 + nodes): Promise<ScaleRun> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const membership = mode === 'membership' ? new SimMembership({ seed, nodes, profile: 'lan' }) : undefined;
  const whole = membership ? undefined : new SimCluster({ seed, nodes, profile: 'lan' });
  const c = (membership ?? whole)!;
  let wholeEvents = 0;
  const wholeKinds: Record<string, number> = {};
  whole?.onMemberEvent((_i, e) => {
    wholeEvents++;
    wholeKinds[e.kind] = (wholeKinds[e.kind] ?? 0) + 1;
  });
  const kindsNow = (): Record<string, number> => {
    if (!membership) return { ...wholeKinds };
    const out: Record<string, number> = {};
    for (const n of membership.nodes) for (const [k, v] of Object.entries(n.events)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const memberEvents = (): number => (membership ? membership.nodes.reduce((sum, n) => sum + Object.values(n.events).reduce((a, b) => a + b, 0), 0) : wholeEvents);
  try {
    // Virtual time starts at 0 when the first node starts; every node joins through it.
    await c.start(600_000);
    const converged = await c.runUntil(() => c.allSeeAlive(nodes), 120_000, 50);
    const convergeMs = c.now();
    const formationCpuS = cpuSeconds(cpu0);
    const formationEvents = memberEvents();
    const formationKinds = kindsNow();
    const steadyCpu0 = process.cpuUsage();
    const mem = process.memoryUsage();
    // SIM_PROFILE_STEADY=FILE: a CPU profile of the steady state alone (after formation).
    const profileTo = process.env.SIM_PROFILE_STEADY;
    const session = profileTo ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    // Keep the cluster running to `runMs` virtual ms in all (idle gossip, push-pull, anti-entropy).
    if (c.now() < runMs) await c.runFor(runMs - c.now());
    if (session && profileTo) {
      const { profile: cpuProfile } = await session.post('Profiler.stop');
      writeFileSync(profileTo, JSON.stringify(cpuProfile));
      session.disconnect();
    }
    const wallS = (performance.now() - t0) / 1000;
    const steadyKinds = kindsNow();
    for (const k of Object.keys(steadyKinds)) steadyKinds[k]! -= formationKinds[k] ?? 0;
    return {
      steadyCpuS: cpuSeconds(steadyCpu0),
      steadyMemberEvents: Object.fromEntries(Object.entries(steadyKinds).filter(([, v]) => v > 0)),
      mode,
      nodes,
      converged,
      convergeMs: converged ? convergeMs : Number.NaN,
      convergeRounds: converged ? Math.round((10 * convergeMs) / GOSSIP_INTERVAL_MS) / 10 : Number.NaN,
      virtualMs: c.now(),
      wallS,
      cpuS: cpuSeconds(cpu0),
      formationEvents,
      formationCpuS,
      usPerMemberEvent: formationEvents > 0 ? Math.round((formationCpuS * 1e7) / formationEvents) / 10 : Number.NaN,
      events: c.world.eventsRun,
      packets: c.totals().packetsSent,
      heapMB: Math.round(mem.heapUsed / 1e6),
      rssMB: Math.round(mem.rss / 1e6),
    };
  } finally {
    await c.destroy();
  }
}

export async function runSimScale(opts: ScenarioOptions): Promise<BenchResult> {
  const sizes = opts.quick ? [25, 50, 100] : [25, 50, 100, 250, 500, 1000];
  const metrics: Metrics = {};
  const series: Array<{ name: string; points: Array<[number, number]> }> = [];
  for (const mode of ['membership', 'whole-node'] as const) {
    const prefix = mode === 'membership' ? 'membership' : 'whole_node';
    const points: Array<[number, number]> = [];
    const wall: Array<[number, number]> = [];
    for (const n of sizes) {
      const r = await runScale(mode, n);
      opts.log?.(
        `sim-scale ${mode}: ${n} nodes converged=${r.converged} in ${r.convergeMs} virtual ms (${r.convergeRounds} rounds, log2 N ${Math.log2(n).toFixed(2)}), ` +
          `${r.wallS.toFixed(1)} s wall (${r.cpuS.toFixed(1)} s CPU) for ${r.virtualMs / 1000} virtual s, ${r.events} events; ` +
          `forming: ${r.formationEvents} member events, ${r.usPerMemberEvent} us CPU each`,
      );
      metrics[`${prefix}_converge_virtual_ms_${n}`] = metric(r.convergeMs, 'ms');
      metrics[`${prefix}_converge_rounds_${n}`] = metric(r.convergeRounds, 'gossip rounds');
      metrics[`${prefix}_wall_s_${n}`] = metric(Math.round(r.wallS * 10) / 10, 's');
      metrics[`${prefix}_virtual_s_${n}`] = metric(r.virtualMs / 1000, 's');
      metrics[`${prefix}_cpu_s_${n}`] = metric(Math.round(r.cpuS * 10) / 10, 's');
      metrics[`${prefix}_formation_member_events_${n}`] = metric(r.formationEvents, 'events');
      // CPU while the cluster forms, per member event (all nodes' events): flat in N when no event costs O(N).
      metrics[`${prefix}_us_per_member_event_${n}`] = metric(r.usPerMemberEvent, 'us');
      metrics[`${prefix}_heap_mb_${n}`] = metric(r.heapMB, 'MB');
      metrics[`log2_n_${n}`] = metric(Math.round(Math.log2(n) * 100) / 100, '');
      if (r.converged) points.push([n, r.convergeMs]);
      wall.push([n, r.wallS * 1000]);
    }
    series.push({ name: `${mode}: virtual ms until all see all alive`, points }, { name: `${mode}: wall ms for 60 virtual s`, points: wall });
  }
  writeChart(
    join(opts.out, 'sim-scale.svg'),
    lineChartSvg({ title: 'Convergence and wall time against cluster size (simulated, lan profile)', xLabel: 'nodes', unit: 'ms', series }),
  );
  return writeResult(opts.out, 'sim-scale', metrics, {}).result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, nodes, ms] = process.argv.slice(2);
  if ((mode !== 'membership' && mode !== 'whole-node') || !(Number(nodes) >= 1)) {
    console.error('usage: node dist/bench/sim-scale.js membership|whole-node NODES [VIRTUAL_MS]');
    process.exit(2);
  }
  const r = await runScale(mode, Number(nodes), ms === undefined ? RUN_MS : Number(ms));
  console.log(JSON.stringify({ ...r, log2N: Math.round(Math.log2(r.nodes) * 100) / 100, wallS: Math.round(r.wallS * 10) / 10, cpuS: Math.round(r.cpuS * 10) / 10 }));
}
