// What `tri memory show --agent A --limit 50` costs as a command (issue 14's goal: under 200 ms),
// against its floor in the same run: one node, one agent of --episodes episodes written through
// the library, then rounds that each start, in turn,
//  - `node -e 0` (the floor: a Node.js process that does nothing),
//  - `tri memory show` as installed (dist/src/cli/tri.js: the client bundle, scripts/bundle-cli.mjs),
//  - `tri memory show` from the modules (dist/src/cli/tri-full.js: what tri ran before the bundle),
// each child reporting its own CPU time (user + system, from process.cpuUsage at exit), beside the
// wall time seen from here. The node's share (the page itself) is in bench/million.ts.
//   node dist/bench/million-cli.js [--episodes 2000] [--rounds 15] [--address 127.0.55.61] [--out bench/results]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeClient } from '../src/client/node-client.js';
import { defaultTriPath } from './lib/proc-cluster.js';
import { metric, percentile, writeResult } from './lib/index.js';

const { values } = parseArgs({
  options: {
    episodes: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '15' },
    address: { type: 'string', default: '127.0.55.61' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const EPISODES = Number(values.episodes);
const ROUNDS = Number(values.rounds);
const address = values.address!;
const root = mkdtempSync(join(tmpdir(), 'tri-million-cli-'));
const keyFile = join(root, 'cluster.key');
writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
const tri = defaultTriPath();
const triFull = join(dirname(tri), 'tri-full.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The child writes its own CPU time (ms) to fd 3 as it exits. */
const REPORT_CPU = 'data:text/javascript,' + encodeURIComponent("import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); writeSync(3, String((u.user + u.system) / 1000)); });");

function timed(args: readonly string[]): { wallMs: number; cpuMs: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', REPORT_CPU, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wallMs, cpuMs: Number(r.output[3]) };
}

function healthy(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${address}:10080/health`, { timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

let child: ChildProcess | undefined;
try {
  child = spawn(process.execPath, [tri, 'node', 'start', '--name', 'c1', '--bind', address, '--key-file', keyFile, '--data', join(root, 'data'), '--log-level', 'warn'], { stdio: 'ignore' });
  const deadline = performance.now() + 60_000;
  while (!(await healthy())) {
    if (performance.now() > deadline) throw new Error(`the node at ${address} did not become healthy in 60 s`);
    await sleep(200);
  }
  const client = await NodeClient.connect({ at: address, key: (await import('node:fs')).readFileSync(keyFile, 'utf8').trim(), timeoutMs: 60_000 });
  try {
    for (let i = 0; i < EPISODES; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, EPISODES - i) }, (_, j) => client.addEpisode({ agent: 'big', task: `task ${i + j}`, outcome: 'ok', tags: ['bench'] })));
    }
  } finally {
    await client.close();
  }
  const show = ['memory', 'show', '--at', address, '--key-file', keyFile, '--agent', 'big', '--limit', '50'];
  type Run = { wallMs: number; cpuMs: number };
  const runs: Record<'bare' | 'bundled' | 'modules', Run[]> = { bare: [], bundled: [], modules: [] };
  const loads: number[][] = [loadavg()];
  for (let r = 0; r < ROUNDS; r++) {
    runs.bare.push(timed(['-e', '0']));
    runs.bundled.push(timed([tri, ...show]));
    runs.modules.push(timed([triFull, ...show]));
  }
  loads.push(loadavg());
  const p50 = (k: keyof typeof runs, f: 'wallMs' | 'cpuMs') => percentile(runs[k].map((x) => x[f]), 50);
  const line = (k: keyof typeof runs) => `${k}: wall p50 ${p50(k, 'wallMs').toFixed(0)} ms, cpu p50 ${p50(k, 'cpuMs').toFixed(0)} ms`;
  console.log(`${EPISODES} episodes, limit 50, ${ROUNDS} rounds; ${line('bare')}; ${line('bundled')}; ${line('modules')}; load average ${loads.map((l) => l.map((x) => x.toFixed(1)).join(' ')).join(' -> ')}`);
  const { path } = writeResult(
    values.out!,
    'million-cli',
    {
      memory_show_wall_p50: metric(p50('bundled', 'wallMs'), 'ms'),
      memory_show_cpu_p50: metric(p50('bundled', 'cpuMs'), 'ms'),
      memory_show_modules_wall_p50: metric(p50('modules', 'wallMs'), 'ms'),
      memory_show_modules_cpu_p50: metric(p50('modules', 'cpuMs'), 'ms'),
      node_e0_wall_p50: metric(p50('bare', 'wallMs'), 'ms'),
      node_e0_cpu_p50: metric(p50('bare', 'cpuMs'), 'ms'),
      memory_show_cpu_over_floor_p50: metric(p50('bundled', 'cpuMs') - p50('bare', 'cpuMs'), 'ms'),
    },
    { cpu: cpus()[0]?.model ?? 'unknown', loadAverage: loads, node: process.version, episodes: EPISODES, runs, note: 'each child reports its own CPU (user + system) at exit; wall is spawn to exit as seen by the parent; rounds interleave the three so load hits them alike' },
  );
  console.log(`wrote ${path}`);
} finally {
  child?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
