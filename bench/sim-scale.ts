// sim-scale: whole nodes (gossip, memory, quorum, tasks) in the deterministic simulator, joined
// through one seed, for growing cluster sizes: virtual time and gossip rounds until every node
// sees every other alive, against log2 N, and the wall time the simulation took. The full run
// ends with 1,000 nodes for 60 virtual seconds (the design's "1,000 nodes must be practical").
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SimCluster } from '../src/sim/cluster-sim.js';
import { profile } from '../gossip/config.js';
import { lineChartSvg, metric, writeChart, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './run.js';

const GOSSIP_INTERVAL_MS = profile('lan').gossipIntervalMs;

export async function runSimScale(opts: ScenarioOptions): Promise<BenchResult> {
  const sizes = opts.quick ? [25, 50, 100] : [25, 50, 100, 200, 1000];
  const metrics: Metrics = {};
  const points: Array<[number, number]> = [];
  const wall: Array<[number, number]> = [];
  for (const n of sizes) {
    const t0 = performance.now();
    const c = new SimCluster({ seed: 1000 + n, nodes: n, profile: 'lan' });
    try {
      // Virtual time starts at 0 when the first node starts; every node joins through it.
      await c.start(600_000);
      const converged = await c.runUntil(() => c.allSeeAlive(n), 120_000, 50);
      const convergeMs = c.now();
      // Keep the cluster running to 60 virtual seconds in all (idle gossip, anti-entropy).
      if (c.now() < 60_000) await c.runFor(60_000 - c.now());
      const wallS = (performance.now() - t0) / 1000;
      opts.log?.(`sim-scale: ${n} nodes converged=${converged} in ${convergeMs} virtual ms, ${wallS.toFixed(1)} s wall for 60 virtual s`);
      metrics[`converge_virtual_ms_${n}`] = metric(converged ? convergeMs : Number.NaN, 'ms');
      metrics[`converge_rounds_${n}`] = metric(converged ? Math.round(convergeMs / GOSSIP_INTERVAL_MS) : Number.NaN, 'gossip rounds');
      metrics[`log2_n_${n}`] = metric(Math.round(Math.log2(n) * 100) / 100, '');
      metrics[`wall_s_for_60_virtual_s_${n}`] = metric(Math.round(wallS * 10) / 10, 's');
      if (converged) points.push([n, convergeMs]);
      wall.push([n, wallS * 1000]);
    } finally {
      await c.destroy();
    }
  }
  writeChart(
    join(opts.out, 'sim-scale.svg'),
    lineChartSvg({ title: 'Convergence time against cluster size (simulated, lan profile)', xLabel: 'nodes', unit: 'ms', series: [{ name: 'virtual ms until all see all alive', points }, { name: 'wall ms for 60 virtual s', points: wall }] }),
  );
  return writeResult(opts.out, 'sim-scale', metrics, {}).result;
}
