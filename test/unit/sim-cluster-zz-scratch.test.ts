import { it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';
it('scratch scale', async () => {
  const N = Number(process.env.N ?? 200);
  const t0 = performance.now();
  const c = new SimCluster({ seed: 'scale', nodes: N });
  await c.start(600_000);
  const t1 = performance.now();
  console.log(`started: wall ${(t1 - t0).toFixed(0)} ms virtual ${c.now().toFixed(0)} ms events ${c.world.eventsRun}`);
  const ok = await c.runUntil(() => c.allSeeAlive(N), 600_000, 100);
  const t2 = performance.now();
  console.log(`converged ${ok}: wall ${(t2 - t0).toFixed(0)} ms virtual ${c.now().toFixed(0)} ms events ${c.world.eventsRun}`, JSON.stringify(c.totals()));
  await c.runFor(10_000);
  const t3 = performance.now();
  console.log(`+10s idle: wall ${(t3 - t2).toFixed(0)} ms events ${c.world.eventsRun}`);
}, 600_000);
