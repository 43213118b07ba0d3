// One large agent's recall rebuild in this process, both ways in the same run: its document
// decoded on the event loop (the rebuild's slices cannot split a Yjs decode) and in the worker
// thread (src/recall/agent-decoder.ts). Measures the longest event-loop delay
// (perf_hooks.monitorEventLoopDelay, 10 ms resolution), the rebuild's wall time and the process's
// RSS peak (the worker's heap counts: it holds the decoded document while it reads it).
//   node dist/bench/recall-offload.js [--episodes 30000] [--out bench/results]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../crdt/index.js';
import { silentLogger } from '../src/node/logger.js';
import { AgentDecoder } from '../src/recall/agent-decoder.js';
import { RecallService } from '../src/recall/recall-service.js';
import { DurableDocSet } from '../src/storage/durable-doc-set.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import { realRuntime } from '../src/runtime/real.js';
import { lehmerSequence } from './lib/heap.js';
import { metric, writeResult } from './lib/index.js';

const { values } = parseArgs({ options: { episodes: { type: 'string', default: '30000' }, out: { type: 'string', default: 'bench/results' } } });
const N = Number(values.episodes);
const rssMB = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

const root = mkdtempSync(join(tmpdir(), 'tri-recall-offload-'));
try {
  // The bench's episode shape (bench/million.ts), stored with its residency record (unloaded).
  const dir = join(root, 'data');
  const store = SqliteStore.open({ dir, name: 'b' });
  const mem = new AgentMemoryDoc({ node: 'gen', random: lehmerSequence(2), agentId: 'agent/big' });
  for (let i = 0; i < N; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `bulk episode ${i}`, tags: ['bulk'] }, { now: 1_800_000_000_000 + i * 1000 });
  store.append('agent/big', Y.encodeStateAsUpdate(mem.doc));
  mem.doc.destroy();
  new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => performance.now(), evictable: () => true }).evictIdle();
  const storedBytes = store.docStats('agent/big').snapshotBytes + store.docStats('agent/big').logBytes;
  store.close();

  const run = async (mode: 'event-loop' | 'worker') => {
    const s = SqliteStore.open({ dir, name: 'b' });
    const docs = new DurableDocSet(s, undefined, { budgetBytes: 256 * 1024 * 1024, now: () => performance.now(), evictable: () => true });
    const residentAtOpen = docs.residentCount();
    const file = join(root, `${mode}.db`);
    rmSync(file, { force: true });
    const recall = new RecallService({ docs, scheduler: realRuntime(silentLogger()).scheduler, file, logger: silentLogger() });
    (globalThis as { gc?: () => void }).gc?.();
    const rss0 = rssMB();
    let rssMax = rss0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMB())), 50);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t = performance.now();
    recall.openInBackground(mode === 'worker' ? { decoder: new AgentDecoder() } : {});
    while (recall.progress()?.state !== 'in-step') await new Promise((r) => setTimeout(r, 20));
    const ms = performance.now() - t;
    h.disable();
    clearInterval(sampler);
    rssMax = Math.max(rssMax, rssMB());
    const rows = recall.stats()?.episodes ?? 0;
    recall.close();
    s.close();
    const r = { residentAtOpen, ms, loopMaxMs: h.max / 1e6, loopP99Ms: h.percentile(99) / 1e6, rssBeforeMB: rss0, rssMaxMB: rssMax, rows };
    console.log(`${mode} (resident at open: ${residentAtOpen}): rebuilt ${rows} rows in ${(ms / 1000).toFixed(1)} s; longest event-loop delay ${r.loopMaxMs.toFixed(0)} ms (p99 ${r.loopP99Ms.toFixed(0)}); RSS ${rss0.toFixed(0)} -> max ${rssMax.toFixed(0)} MB`);
    return r;
  };
  // The decode itself, timed here on this thread (what the event-loop rebuild must do in one call).
  const raw = SqliteStore.open({ dir, name: 'b' });
  const parts = raw.loadDoc('agent/big');
  raw.close();
  const td = performance.now();
  const probe = new Y.Doc();
  for (const p of parts) Y.applyUpdate(probe, p);
  const decodeMs = performance.now() - td;
  probe.destroy();
  console.log(`one decode of the stored document (${parts.length} part(s), ${storedBytes} bytes): ${decodeMs.toFixed(0)} ms`);
  const load0 = loadavg();
  // Worker first: the event-loop run's garbage must not count in its RSS.
  const worker = await run('worker');
  const loop = await run('event-loop');
  const { path } = writeResult(
    values.out!,
    'recall-offload',
    {
      episodes: metric(N, 'episodes'),
      stored_bytes: metric(storedBytes, 'bytes'),
      decode_once: metric(decodeMs, 'ms'),
      worker_event_loop_delay_max: metric(worker.loopMaxMs, 'ms'),
      event_loop_decode_event_loop_delay_max: metric(loop.loopMaxMs, 'ms'),
      worker_rebuild: metric(worker.ms, 'ms'),
      event_loop_decode_rebuild: metric(loop.ms, 'ms'),
      worker_rss_max: metric(worker.rssMaxMB, 'MB'),
      event_loop_decode_rss_max: metric(loop.rssMaxMB, 'MB'),
    },
    { worker, eventLoop: loop, cpu: cpus()[0]?.model, loadAverage: { start: load0, end: loadavg() } },
  );
  console.log(`wrote ${path}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
