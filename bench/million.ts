// One node holding about 1,000,000 stored episodes over 10,000 agents (issue 14's goal: RSS under
// 300 MB with the default budget, `tri memory show --agent A --limit 50` on an agent of 100,000
// episodes under 200 ms, a restart writable within 2 s). Bounded in time: the data is written
// straight into the node's store while it is stopped, not through the network:
//  - the node is started once (founding a one-voter cluster) and stopped, so its data directory
//    holds its identity and voter configuration;
//  - 9,999 agents get one template document of 90 episodes (the same bytes under each agent's id:
//    episode ids repeat across agents, which changes nothing for residency or paging) and one agent
//    of 100,000 episodes, each with its residency record (state vector, digest), as a node that
//    unloaded them would have stored;
//  - the node is started again: time to /health 200 (writable), RSS at intervals, and the latency
//    of `tri memory show --agent big --limit 50` (the first call loads the document);
//  - then SIGKILLed and started a second time, the restart an operator sees (index in step).
// The recall index (recall.db) is not built here: the restarted node rebuilds it in the background
// (every agent's digest differs from the index's), in ~20 ms slices (src/recall/recall-rebuild.ts),
// which the RSS samples include; large agents are decoded in a worker thread (src/recall/agent-decoder.ts).
// Meanwhile /health is asked every 100 ms: its slowest answers show how long the event loop was
// held, as seen from outside; /metrics (prom-client's nodejs_eventloop_lag_max_seconds, from
// perf_hooks.monitorEventLoopDelay, reset at every scrape) gives the longest delay inside the node
// every 10 s; /status gives the rebuild's progress.
// `memory show` is timed as the CLI (a new process per call) and split: the CLI process starting
// (`tri memory show --help`), and the library's NodeClient in this process, with a new connection per call
// (what the CLI does after starting: TLS-PSK handshake, one RPC) and on an open connection.
//   node dist/bench/million.js [--agents 10000] [--per-agent 90] [--big 100000] [--address 127.0.45.41] [--minutes 10] [--out bench/results]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { AgentMemoryDoc, docDigest } from '../crdt/index.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import { NodeClient } from '../src/client/node-client.js';
import { defaultTriPath } from './lib/proc-cluster.js';
import { metric, percentile, writeResult } from './lib/index.js';
import { lehmerSequence } from './lib/heap.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '10000' },
    'per-agent': { type: 'string', default: '90' },
    big: { type: 'string', default: '100000' },
    address: { type: 'string', default: '127.0.45.41' },
    minutes: { type: 'string', default: '10' },
    // Writes the data directory, prints its path and stops (to profile a restart by hand).
    'write-only': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
  },
});
const AGENTS = Number(values.agents);
const PER_AGENT = Number(values['per-agent']);
const BIG = Number(values.big);
const address = values.address!;
const MINUTES = Number(values.minutes);
const root = mkdtempSync(join(tmpdir(), 'tri-million-'));
const dataDir = join(root, 'data');
const keyFile = join(root, 'cluster.key');
writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (path: string) =>
  new Promise<number | undefined>((resolve) => {
    const req = http.get(`http://${address}:10080${path}`, { timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
/** GET `path` as JSON with its latency (ms); undefined body on any failure. */
const getJson = (path: string) =>
  new Promise<{ ms: number; body: unknown }>((resolve) => {
    const t = performance.now();
    const done = (body: unknown) => resolve({ ms: performance.now() - t, body });
    const req = http.get(`http://${address}:10080${path}`, { timeout: 10_000, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          done(JSON.parse(text));
        } catch {
          done(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(undefined));
  });
/** Asks /health every 100 ms for `ms`: the answers' latencies (the event loop's stalls show as slow answers). */
async function probe(ms: number): Promise<number[]> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    lat.push((await getJson('/health')).ms);
    await sleep(100);
  }
  return lat;
}
const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const start = (): ChildProcess => spawn(process.execPath, [defaultTriPath(), 'node', 'start', '--name', 'm1', '--bind', address, '--key-file', keyFile, '--data', dataDir, '--log-level', 'warn'], { stdio: 'ignore' });
async function untilHealthy(timeoutMs: number): Promise<number> {
  const t = performance.now();
  while (performance.now() - t < timeoutMs) {
    if ((await status('/health')) === 200) return performance.now() - t;
    await sleep(50);
  }
  throw new Error(`node not writable within ${timeoutMs} ms`);
}
function build(n: number, seed: number): Y.Doc {
  const mem = new AgentMemoryDoc({ node: 'gen', random: lehmerSequence(seed), agentId: 'agent/template' });
  for (let i = 0; i < n; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `bulk episode ${i}`, tags: ['bulk'] }, { now: 1_800_000_000_000 + i * 1000 });
  return mem.doc;
}

let child: ChildProcess | undefined;
try {
  // 1. Found the one-voter cluster, then stop it.
  // Its time to writable is the peer of the restarts' (same command, no data held).
  child = start();
  const emptyWritableMs = await untilHealthy(60_000);
  child.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
  // 2. Write the documents straight into its store.
  const t0 = performance.now();
  const template = build(PER_AGENT, 1);
  const big = build(BIG, 2);
  const genMs = performance.now() - t0;
  const store = SqliteStore.open({ dir: dataDir, name: 'm1' });
  const docs: Array<{ id: string; doc: Y.Doc }> = [{ id: 'agent/big', doc: big }];
  for (let a = 1; a < AGENTS; a++) docs.push({ id: `agent/a${a}`, doc: template });
  const encoded = new Map<Y.Doc, { update: Uint8Array; sv: string; digest: string }>();
  for (const d of [template, big]) encoded.set(d, { update: Y.encodeStateAsUpdate(d), sv: Buffer.from(Y.encodeStateVector(d)).toString('base64'), digest: Buffer.from(docDigest(d)).toString('base64') });
  for (let i = 0; i < docs.length; i += 500) store.appendMany(docs.slice(i, i + 500).map(({ id, doc }) => ({ docId: id, update: encoded.get(doc)!.update })));
  const db = (store as unknown as { db: { transaction(fn: () => void): () => void; prepare(sql: string): { run(...a: unknown[]): unknown } } }).db;
  const put = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  db.transaction(() => {
    for (const { id, doc } of docs) put.run(`docmeta/${id}`, JSON.stringify({ seq: store.docStats(id).lastSeq, sv: encoded.get(doc)!.sv, digest: encoded.get(doc)!.digest }));
  })();
  store.close();
  const writeMs = performance.now() - t0 - genMs;
  const episodes = BIG + (AGENTS - 1) * PER_AGENT;
  console.log(`${episodes} episodes over ${AGENTS} agents written in ${(writeMs / 1000).toFixed(1)} s (generated in ${(genMs / 1000).toFixed(1)} s)`);
  if (values['write-only']) {
    console.log(`data directory ${dataDir}, key ${keyFile} (kept)`);
    process.exit(0);
  }
  // 3. Restart: time to writable, RSS, paged reads of the big agent.
  const clientKey = readFileSync(keyFile, 'utf8').trim();
  const libShow = async (agent: string, reuse?: NodeClient): Promise<number> => {
    const t = performance.now();
    const c = reuse ?? (await NodeClient.connect({ at: address, key: clientKey, timeoutMs: 120_000 }));
    try {
      await c.memoryPage(agent, { limit: 50 });
    } finally {
      if (!reuse) await c.close();
    }
    return performance.now() - t;
  };
  const cliStart = (): number => {
    const t = performance.now();
    // `memory show --help`: the modules `memory show` loads, no connection. (`tri --version` names
    // no command, so it loads every command's module: ~2x longer, not what a show pays.)
    spawnSync(process.execPath, [defaultTriPath(), 'memory', 'show', '--help'], { encoding: 'utf8' });
    return performance.now() - t;
  };
  /** The longest event-loop delay inside the node since the previous scrape (ms), from /metrics. */
  const loopMaxMs = () =>
    new Promise<number | undefined>((resolve) => {
      const req = http.get(`http://${address}:10080/metrics`, { timeout: 10_000, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m.exec(text);
          resolve(m ? Number(m[1]) * 1000 : undefined);
        });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(undefined));
    });
  child = start();
  const writableMs = await untilHealthy(120_000);
  console.log(`restart writable (/health 200) in ${writableMs.toFixed(0)} ms (the same node with an empty data directory: ${emptyWritableMs.toFixed(0)} ms)`);
  const rss: Array<{ t: number; rssMB: number }> = [{ t: 0, rssMB: rssMB(child.pid!) }];
  const show = (agent = 'big') => {
    const t = performance.now();
    const r = spawnSync(process.execPath, [defaultTriPath(), 'memory', 'show', '--at', address, '--agent', agent, '--limit', '50', '--json', '--key-file', keyFile, '--timeout', '120000'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`memory show failed: ${r.stderr}`);
    return performance.now() - t;
  };
  // The node may not answer RPC yet although /health says writable (it is rebuilding its recall
  // index on the event loop): retry for up to 5 minutes and report how long that took.
  const asked = performance.now();
  let firstShowMs = NaN;
  let refused = 0;
  /** Why the first calls failed (the CLI's message). */
  const refusals: string[] = [];
  while (Number.isNaN(firstShowMs)) {
    try {
      firstShowMs = show();
    } catch (err) {
      if (performance.now() - asked > 300_000) throw err;
      refused++;
      refusals.push((err as Error).message.slice(0, 300));
    }
  }
  const firstAnswerMs = performance.now() - asked;
  const shows: number[] = [];
  for (let i = 0; i < 5; i++) {
    try {
      shows.push(show());
    } catch {
      refused++;
    }
  }
  // A peer in the same run: the CLI's own start-up, on an agent of 90 episodes.
  const smallShows: number[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      smallShows.push(show('a1'));
    } catch {
      refused++;
    }
  }
  console.log(`memory show: big first ${firstShowMs.toFixed(0)} ms (answered after ${firstAnswerMs.toFixed(0)} ms), then ${shows.map((m) => m.toFixed(0)).join(', ')} ms; a1 ${smallShows.map((m) => m.toFixed(0)).join(', ')} ms`);
  const healthLatency: number[] = [];
  const rebuild: Array<{ t: number; progress: unknown }> = [];
  const loopMax: Array<{ t: number; ms: number | undefined }> = [{ t: 0, ms: await loopMaxMs() }];
  let inStepAtS: number | undefined;
  for (let s = 10; s <= MINUTES * 60; s += 10) {
    healthLatency.push(...(await probe(10_000)));
    rss.push({ t: s, rssMB: rssMB(child.pid!) });
    loopMax.push({ t: s, ms: await loopMaxMs() });
    const progress = ((await getJson('/status')).body as { recallIndex?: { state?: string } } | undefined)?.recallIndex;
    rebuild.push({ t: s, progress });
    console.log(`t=${s}s rss ${rss.at(-1)!.rssMB.toFixed(0)} MB; /health max ${Math.max(...healthLatency).toFixed(0)} ms; event loop max ${loopMax.at(-1)!.ms?.toFixed(0)} ms; recall index ${JSON.stringify(progress)}`);
    if (progress?.state === 'in-step') {
      inStepAtS = s;
      if (s >= 60) break;
    }
  }
  const showsAfterRebuild: number[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      showsAfterRebuild.push(show());
    } catch {
      refused++;
    }
  }
  console.log(`memory show --agent big after the rebuild: ${showsAfterRebuild.map((m) => m.toFixed(0)).join(', ')} ms`);
  // The same page split into its parts, in the same minute: the CLI process starting, a new
  // connection + one RPC from a process already running, and the RPC alone.
  const cliStarts: number[] = [];
  const libFresh: number[] = [];
  const libOpen: number[] = [];
  const open = await NodeClient.connect({ at: address, key: clientKey, timeoutMs: 120_000 });
  try {
    for (let i = 0; i < 5; i++) {
      cliStarts.push(cliStart());
      libFresh.push(await libShow('big'));
      libOpen.push(await libShow('big', open));
    }
  } finally {
    await open.close();
  }
  const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown';
  const load = (await import('node:os')).loadavg();
  console.log(`split: tri memory show --help ${cliStarts.map((m) => m.toFixed(0)).join(', ')} ms; library, new connection ${libFresh.map((m) => m.toFixed(0)).join(', ')} ms; open connection ${libOpen.map((m) => m.toFixed(1)).join(', ')} ms; load average ${load.map((l) => l.toFixed(1)).join(' ')}`);
  // 4. Restart again, SIGKILL first (a crash): the recall index is in step now, so this is the
  // restart an operator sees after the first one.
  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  child = start();
  const secondWritableMs = await untilHealthy(120_000);
  const secondShowMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      secondShowMs.push(show());
    } catch {
      refused++;
    }
  }
  const rss2: Array<{ t: number; rssMB: number }> = [];
  for (let s = 10; s <= 30; s += 10) {
    await sleep(10_000);
    rss2.push({ t: s, rssMB: rssMB(child.pid!) });
  }
  console.log(`second restart writable in ${secondWritableMs.toFixed(0)} ms; memory show ${secondShowMs.map((m) => m.toFixed(0)).join(', ')} ms; RSS ${rss2.map((r) => r.rssMB.toFixed(0)).join(', ')} MB`);
  const { path } = writeResult(
    values.out!,
    'million',
    {
      episodes: metric(episodes, 'episodes'),
      agents: metric(AGENTS, 'agents'),
      restart_to_writable: metric(writableMs, 'ms'),
      empty_start_to_writable: metric(emptyWritableMs, 'ms'),
      memory_show_first: metric(firstShowMs, 'ms'),
      first_memory_show_answered_after: metric(firstAnswerMs, 'ms'),
      memory_show_p50: metric(percentile(shows, 50), 'ms'),
      memory_show_after_rebuild_p50: metric(percentile(showsAfterRebuild, 50), 'ms'),
      memory_show_small_agent_p50: metric(percentile(smallShows, 50), 'ms'),
      health_latency_max_while_rebuilding: metric(Math.max(...healthLatency), 'ms'),
      event_loop_delay_max_while_rebuilding: metric(Math.max(...loopMax.map((l) => l.ms ?? 0)), 'ms'),
      cli_start_p50: metric(percentile(cliStarts, 50), 'ms'),
      library_show_new_connection_p50: metric(percentile(libFresh, 50), 'ms'),
      library_show_open_connection_p50: metric(percentile(libOpen, 50), 'ms'),
      health_latency_p99_while_rebuilding: metric(percentile(healthLatency, 99), 'ms'),
      recall_index_in_step_by: metric(inStepAtS ?? NaN, 's'),
      rss_max_first_minute: metric(Math.max(...rss.map((r) => r.rssMB)), 'MB'),
      second_restart_to_writable: metric(secondWritableMs, 'ms'),
      second_memory_show_first: metric(secondShowMs[0] ?? NaN, 'ms'),
      second_rss_max_30s: metric(Math.max(...rss2.map((r) => r.rssMB)), 'MB'),
    },
    { cpu, loadAverageAtEnd: load, loopMax, cliStarts, libFresh, libOpen, note: 'memory show timings include starting the tri CLI process (memory_show_small_agent_p50: the same on an agent of 90 episodes, a peer); the first restart rebuilds the recall index of every agent (bulk-written data is not in it): until the big agent is rebuilt its page comes from its document, afterwards from the index', rss, rss2, secondShowMs, showsAfterRebuild, smallShows, rebuild, bulkWriteMs: writeMs, refusedShows: refused, refusals },
  );
  console.log(`restart writable in ${writableMs.toFixed(0)} ms; first memory show answered after ${firstAnswerMs.toFixed(0)} ms (${refused} refused); memory show first ${firstShowMs.toFixed(0)} ms, then p50 ${percentile(shows, 50).toFixed(0)} ms; RSS max ${Math.max(...rss.map((r) => r.rssMB)).toFixed(0)} MB; wrote ${path}`);
} finally {
  child?.kill('SIGKILL');
  await sleep(300);
  rmSync(root, { recursive: true, force: true });
}
