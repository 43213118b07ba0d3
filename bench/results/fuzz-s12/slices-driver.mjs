// usage: node slices.mjs BUILD DEADLINE_EPOCH_S RUNS_PER_SLICE SEED0 N:RF[,N:RF...]
// Runs tri fuzz's runFuzz (same function as the CLI) slice after slice, one seed per slice, rotating
// over the configurations, no shrinking (a failure reports its unshrunk run index: --replay K).
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
const [build, deadline, runsPer, seed0, combos] = process.argv.slice(2);
const { runFuzz } = await import(`/tmp/fuzz12/${build}/dist/src/fuzz/index.js`);
const cfgs = combos.split(',').map((s) => s.split(':').map(Number));
mkdirSync('/tmp/fuzz12/slices', { recursive: true });
let seed = Number(seed0);
for (let k = 0; ; k++) {
  if (Date.now() / 1000 > Number(deadline)) break;
  const [nodes, rf] = cfgs[k % cfgs.length];
  const started = new Date().toISOString();
  const r = await runFuzz({ seed, runs: Number(runsPer), nodes, replicationFactor: rf, workers: 1, maxShrinkRuns: 0, wallClock: () => performance.now() });
  const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
  const f = r.failures[0];
  const line = { build, nodes, rf, seed, runs: Number(runsPer), runsExecuted: r.runsExecuted, failed: !!f, invariant: f?.invariant, message: f?.message?.split('\n')[0], replay: f ? `tri fuzz --seed ${seed} --runs ${runsPer} --nodes ${nodes} --replication-factor ${rf} --replay ${f.path}` : undefined, started, wallMs: r.timings?.wallMs, load, digest: r.digest, totals: r.totals };
  writeFileSync(`/tmp/fuzz12/slices/n${nodes}rf${rf}-s${seed}.json`, JSON.stringify(r, null, 1));
  console.log(JSON.stringify(line));
  seed++;
}
