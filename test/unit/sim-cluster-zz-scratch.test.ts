import { it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
it('scratch scale', async () => {
  const N = Number(process.env.N ?? 200);
  const MAXV = Number(process.env.MAXV ?? 600_000);
  const t0 = performance.now();
  const c = new SimCluster({ seed: 'scale', nodes: N });
  await c.start(600_000);
  const t1 = performance.now();
  console.log(`started: wall ${(t1 - t0).toFixed(0)} ms virtual ${c.now().toFixed(0)} ms events ${c.world.eventsRun}`);
  let last = performance.now();
  const ok = await c.runUntil(() => {
    if (performance.now() - last > 5000) {
      last = performance.now();
      const seen = c.live().map((i) => c.node(i).swim.members().filter((m) => m.state === 'alive').length);
      console.log(`  t=${c.now().toFixed(0)} wall=${(last - t0).toFixed(0)} events=${c.world.eventsRun} min seen=${Math.min(...seen)} avg=${(seen.reduce((a, b) => a + b, 0) / seen.length).toFixed(0)}`);
    }
    return c.allSeeAlive(N);
  }, MAXV, 100);
  const t2 = performance.now();
  console.log(`converged ${ok}: wall ${(t2 - t0).toFixed(0)} ms virtual ${c.now().toFixed(0)} ms events ${c.world.eventsRun}`, JSON.stringify(c.totals()));
}, 900_000);
