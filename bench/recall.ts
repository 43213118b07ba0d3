// Benchmark `recall` (issue "Agents reach their memory through MCP"): recall latency on one node
// at 10,000 and 100,000 episodes (goal p50 < 5 ms at 100,000), the index build time from a data
// directory, and the index size per episode; `search_nodes` on 10,000 entities through `tri mcp`
// against the reference memory server (@modelcontextprotocol/server-memory) on the same data in the
// same run; and the bytes and CPU of one `remember` through MCP against the same write through the
// library. Node on 127.0.19.60 (one-node cluster, plaintext, so only the MCP layer differs).
//
// Run after compiling: node dist/bench/run.js --only recall --out bench/out [--quick]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { AgentMemoryDoc } from '../crdt/index.js';
import { silentLogger } from '../src/node/logger.js';
import { startNode } from '../src/node/start-node.js';
import { RecallService } from '../src/recall/recall-service.js';
import { realRuntime } from '../src/runtime/real.js';
import { createPrng } from '../src/sim/prng.js';
import { DurableDocSet } from '../src/storage/durable-doc-set.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import * as Y from 'yjs';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { summarize } from './lib/stats.js';

export interface RecallBenchOptions {
  out: string;
  quick: boolean;
  log?: (msg: string) => void;
}

const TRI = resolve(fileURLToPath(import.meta.url), '../../src/cli/tri.js');
const HOST = '127.0.19.60';
const AGENTS = 50;
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** A vocabulary with a Zipf-like use: a few common words, many rare ones (as in real notes). */
function vocabulary(n: number): string[] {
  const rng = createPrng('vocab');
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(rng.next() * 6) }, () => letters[Math.floor(rng.next() * 26)]).join(''));
}
function zipf(rng: { next(): number }, n: number): number {
  return Math.min(n - 1, Math.floor(Math.exp(rng.next() * Math.log(n + 1)) - 1));
}

/** Writes `episodes` episodes over AGENTS agents into a fresh data directory, as a node stores them. */
function populate(dir: string, episodes: number, words: string[]): void {
  const store = SqliteStore.open({ dir, name: 'bench' });
  const docs = new DurableDocSet(store);
  docs.hold();
  const rng = createPrng(`episodes-${episodes}`);
  const random = () => rng.next();
  const mems = Array.from({ length: AGENTS }, (_, i) => new AgentMemoryDoc({ node: 'bench', random, doc: docs.doc(`agent/agent-${i}`) }));
  const text = (k: number) => Array.from({ length: k }, () => words[zipf(rng, words.length)]).join(' ');
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < episodes; i++) {
    mems[i % AGENTS]!.addEpisode(
      { task: text(4), outcome: rng.next() < 0.8 ? 'ok' : 'failed', note: text(12), tags: [`t${Math.floor(rng.next() * 20)}`], fields: { grade: ['A', 'B', 'C'][i % 3]! } },
      { now: t0 + i * 1000 },
    );
    if (i % 5000 === 4999) docs.commit();
  }
  docs.release();
  store.close();
}

async function recallAt(episodes: number, words: string[], metrics: Metrics, log: (m: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tri-bench-recall-'));
  try {
    let t = performance.now();
    populate(dir, episodes, words);
    log(`recall: ${episodes} episodes written in ${Math.round(performance.now() - t)} ms`);
    const store = SqliteStore.open({ dir, name: 'bench' });
    t = performance.now();
    const docs = new DurableDocSet(store);
    const loadMs = performance.now() - t;
    const runtime = realRuntime(silentLogger());
    const file = join(dir, 'recall.db');
    const first = new RecallService({ docs, scheduler: runtime.scheduler, file, logger: silentLogger() });
    t = performance.now();
    first.open();
    const buildMs = performance.now() - t;
    const stats = first.stats()!;
    first.close();
    const again = new RecallService({ docs, scheduler: runtime.scheduler, file, logger: silentLogger() });
    t = performance.now();
    again.open();
    const reopenMs = performance.now() - t;
    const rng = createPrng(`queries-${episodes}`);
    const word = () => words[Math.min(words.length - 1, zipf(rng, words.length) + 20)]!; // skip the 20 commonest: queries name something
    const kinds: Record<string, () => [string | undefined, object]> = {
      one_agent_text: () => [`agent-${Math.floor(rng.next() * AGENTS)}`, { text: `${word()} ${word()}` }],
      all_agents_text: () => [undefined, { text: `${word()} ${word()}` }],
      text_and_filters: () => [`agent-${Math.floor(rng.next() * AGENTS)}`, { text: word(), tags: [`t${Math.floor(rng.next() * 20)}`], outcome: 'ok' }],
      filters_only: () => [`agent-${Math.floor(rng.next() * AGENTS)}`, { fields: { grade: 'B' }, since: Date.UTC(2026, 0, 1) + 1000 * Math.floor(rng.next() * episodes) }],
    };
    const n = 400;
    for (const [kind, make] of Object.entries(kinds)) {
      const samples: number[] = [];
      for (let i = 0; i < n + 20; i++) {
        const [agent, q] = make();
        const s = performance.now();
        again.recall(agent, q);
        if (i >= 20) samples.push(performance.now() - s); // the first ones warm the page cache
      }
      const sum = summarize(samples);
      metrics[`recall_${kind}_p50_${episodes}`] = metric(r2(sum.p50), 'ms');
      metrics[`recall_${kind}_p99_${episodes}`] = metric(r2(sum.p99), 'ms');
    }
    again.close();
    store.close();
    metrics[`recall_index_build_${episodes}`] = metric(Math.round(buildMs), 'ms');
    metrics[`recall_index_reopen_in_step_${episodes}`] = metric(r2(reopenMs), 'ms');
    metrics[`recall_docs_load_${episodes}`] = metric(Math.round(loadMs), 'ms');
    metrics[`recall_index_bytes_per_episode_${episodes}`] = metric(Math.round(stats.bytes / stats.episodes), 'bytes');
    log(`recall: ${episodes} episodes: build ${Math.round(buildMs)} ms, ${metrics[`recall_one_agent_text_p50_${episodes}`]!.value} ms p50 (one agent, text)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A client whose transport counts the JSON-RPC bytes each way. */
async function countingClient(command: string, args: string[], env?: Record<string, string>): Promise<{ client: Client; bytes: () => number; pid: () => number | null }> {
  const transport = new StdioClientTransport({ command, args, env, stderr: 'ignore' });
  let bytes = 0;
  const send = transport.send.bind(transport);
  transport.send = (m: JSONRPCMessage) => {
    bytes += Buffer.byteLength(JSON.stringify(m)) + 1;
    return send(m);
  };
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  const onmessage = transport.onmessage!;
  transport.onmessage = (m: JSONRPCMessage) => {
    bytes += Buffer.byteLength(JSON.stringify(m)) + 1;
    onmessage(m);
  };
  return { client, bytes: () => bytes, pid: () => transport.pid };
}

/** user + system CPU of a process so far, in ms (Linux /proc; NaN elsewhere). */
function procCpuMs(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function mcpCases(quick: boolean, metrics: Metrics, peers: Record<string, unknown>, log: (m: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tri-bench-mcp-'));
  const node = await startNode({ name: 'bench', bind: HOST, insecure: true, httpPort: 0, dataDir: join(dir, 'data'), logger: silentLogger() });
  const require = createRequire(import.meta.url);
  const ours = await countingClient(process.execPath, [TRI, 'mcp', '--at', HOST, '--insecure']);
  const ref = await countingClient(process.execPath, [require.resolve('@modelcontextprotocol/server-memory/dist/index.js')], { ...process.env, MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } as Record<string, string>);
  try {
    // Same 10,000 entities in both, written through each server's own create_entities.
    const rng = createPrng('graph');
    const words = vocabulary(5000);
    const entities = Array.from({ length: 10_000 }, (_, i) => ({ name: `entity-${i}`, entityType: ['person', 'place', 'project', 'tool'][i % 4]!, observations: Array.from({ length: 3 }, () => Array.from({ length: 6 }, () => words[zipf(rng, words.length)]).join(' ')) }));
    for (let i = 0; i < entities.length; i += 1000) {
      for (const c of [ours.client, ref.client]) await c.callTool({ name: 'create_entities', arguments: { entities: entities.slice(i, i + 1000) } });
    }
    const queries = Array.from({ length: quick ? 30 : 100 }, () => words[Math.min(words.length - 1, zipf(rng, words.length) + 50)]!);
    const time = async (c: Client) => {
      const samples: number[] = [];
      let found = 0;
      for (const query of queries) {
        const s = performance.now();
        const r = (await c.callTool({ name: 'search_nodes', arguments: { query } })) as { structuredContent?: { entities: unknown[] } };
        samples.push(performance.now() - s);
        found += r.structuredContent?.entities.length ?? 0;
      }
      return { p50: summarize(samples).p50, found };
    };
    const [a, b] = [await time(ours.client), await time(ref.client)];
    if (a.found !== b.found) throw new Error(`search_nodes found ${a.found} entities through tri mcp but ${b.found} through the reference`);
    metrics.search_nodes_10k_p50 = metric(r2(a.p50), 'ms');
    metrics.search_nodes_10k_vs_reference = metric(r2(a.p50 / b.p50), 'x');
    peers['server-memory'] = { search_nodes_10k_p50_ms: r2(b.p50), queries: queries.length, entities_found: b.found };
    log(`recall: search_nodes on 10k entities: ${r2(a.p50)} ms vs reference ${r2(b.p50)} ms`);

    // One remember through MCP against one addEpisode through the library, on the same node.
    const n = quick ? 200 : 1000;
    const mem = node.memory('bench-lib');
    let cpu = process.cpuUsage();
    let t = performance.now();
    for (let i = 0; i < n; i++) await mem.addEpisode({ task: `task ${i} of the benchmark`, outcome: 'ok', note: 'a short note', tags: ['bench'] });
    const libMs = (performance.now() - t) / n;
    let used = process.cpuUsage(cpu);
    const libCpu = (used.user + used.system) / 1000 / n;
    const bytes0 = ours.bytes();
    const child0 = procCpuMs(ours.pid());
    cpu = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < n; i++) await ours.client.callTool({ name: 'remember', arguments: { agent: 'bench-mcp', task: `task ${i} of the benchmark`, outcome: 'ok', note: 'a short note', tags: ['bench'] } });
    const mcpMs = (performance.now() - t) / n;
    used = process.cpuUsage(cpu);
    metrics.remember_library_ms = metric(r2(libMs * 1000) / 1000, 'ms');
    metrics.remember_library_cpu = metric(r2(libCpu * 1000) / 1000, 'ms');
    metrics.remember_mcp_ms = metric(r2(mcpMs * 1000) / 1000, 'ms');
    // This process: the node and the MCP client; the `tri mcp` process on top.
    metrics.remember_mcp_cpu_node_and_client = metric(r2(((used.user + used.system) / 1000 / n) * 1000) / 1000, 'ms');
    metrics.remember_mcp_cpu_tri_mcp_process = metric(r2(((procCpuMs(ours.pid()) - child0) / n) * 1000) / 1000, 'ms');
    metrics.remember_mcp_stdio_bytes = metric(Math.round((ours.bytes() - bytes0) / n), 'bytes');
    log(`recall: remember ${r2(mcpMs)} ms through MCP vs ${r2(libMs)} ms through the library`);
  } finally {
    await ours.client.close().catch(() => undefined);
    await ref.client.close().catch(() => undefined);
    await node.stop(100);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What keeping the index in step costs a node per replicated update: the same N remote episode
 * updates applied to a document set (in memory, as the sync engine applies them) with and without
 * an open index, the index folding them in once per N/100 updates as the event loop would.
 */
export function foldCost(n: number, metrics: Metrics): void {
  const rng = createPrng('fold');
  const source = new Y.Doc();
  const w = new AgentMemoryDoc({ node: 'peer', random: () => rng.next(), doc: source });
  const updates: Uint8Array[] = [];
  source.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) w.addEpisode({ task: `task ${i} of the fold benchmark`, outcome: 'ok', note: 'a note of a few words', tags: ['bench'] }, { now: i });
  const run = (withIndex: boolean): number => {
    const docs = new DurableDocSet(new MemoryStore({ nodeId: 'b', name: 'b' }));
    const queued: Array<() => void> = [];
    const recall = new RecallService({ docs, scheduler: { schedule: () => () => undefined, immediate: (fn) => void queued.push(fn) }, file: ':memory:', logger: silentLogger() });
    if (withIndex) recall.open();
    const t = performance.now();
    updates.forEach((u, i) => {
      docs.apply('agent/fold', u, { remotePeer: 'peer' });
      if (i % 100 === 99) for (const f of queued.splice(0)) f();
    });
    for (const f of queued.splice(0)) f();
    const ms = performance.now() - t;
    recall.close();
    return ms;
  };
  run(true); // warm up
  const samples = Array.from({ length: 3 }, () => [run(false), run(true)] as const);
  const bare = Math.min(...samples.map((x) => x[0]));
  const indexed = Math.min(...samples.map((x) => x[1]));
  metrics.apply_remote_update_us = metric(r2((bare / n) * 1000), 'us');
  metrics.apply_remote_update_with_index_us = metric(r2((indexed / n) * 1000), 'us');
}

export async function runRecallBench(o: RecallBenchOptions): Promise<BenchResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  const metrics: Metrics = {};
  const peers: Record<string, unknown> = {};
  // 2-core machine shared with other work: the load says how much of the wall time was ours.
  metrics.load_average_1m_at_start = metric(r2(loadavg()[0]!), 'load');
  const words = vocabulary(20_000);
  for (const episodes of o.quick ? [10_000] : [10_000, 100_000]) await recallAt(episodes, words, metrics, log);
  foldCost(o.quick ? 2000 : 5000, metrics);
  log(`recall: applying a replicated episode ${metrics.apply_remote_update_us!.value} us, with the index ${metrics.apply_remote_update_with_index_us!.value} us`);
  await mcpCases(o.quick, metrics, peers, log);
  metrics.load_average_1m_at_end = metric(r2(loadavg()[0]!), 'load');
  const { result } = writeResult(o.out, 'recall', metrics, peers);
  return result;
}

