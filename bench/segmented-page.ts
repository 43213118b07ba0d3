// A page of 50 on a 100,000-episode agent, cold, as one document (today) and split into a root of
// SPLIT_AT episodes plus 64 segments (docs/segmented-memory.md), in one process, no network:
//  - doc-page: the stored bytes decoded into Y.Docs, then the newest 50 read from the documents
//    (the library's page(), and the RPC's fallback while the index cannot vouch for the agent);
//  - index-rebuild: a recall index built from those documents (what a node without recall.db in step
//    does before `memory show` can answer from the index), then the page from the index;
//  - the largest single decode (the longest the event loop is held by one document; today that one
//    is sent to a worker thread) and the heap the decoded documents keep.
// Same episodes and ids in both layouts. Bounded: one agent, `--runs` repetitions (median kept).
//   node --expose-gc dist/bench/segmented-page.js [--episodes 100000] [--runs 3] [--out bench/results/seg-s12]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../crdt/index.js';
import { SegmentedMemory } from '../crdt/segmented-memory.js';
import { segmentDocName, SEGMENT_BITS, SPLIT_AT } from '../crdt/segments.js';
import { episodePage } from '../src/memory/episode-page.js';
import { silentLogger } from '../src/node/logger.js';
import { RecallService } from '../src/recall/recall-service.js';
import type { Scheduler } from '../src/runtime/types.js';
import { DurableDocSet } from '../src/storage/durable-doc-set.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { metric, writeResult } from './lib/index.js';

const { values } = parseArgs({ options: { episodes: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/seg-s12' } } });
const EPISODES = Number(values.episodes);
const RUNS = Number(values.runs);
const ROOT = 'agent/big';

function lehmer(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/** The agent written both ways with the same episodes: stored bytes per document. */
function build(): { whole: Map<string, Uint8Array>; split: Map<string, Uint8Array> } {
  const wholeDoc = new Y.Doc();
  const whole = new AgentMemoryDoc({ node: 'n1', random: lehmer(7), doc: wholeDoc });
  const docs = new Map<string, Y.Doc>([[ROOT, new Y.Doc()]]);
  const doc = (name: string) => docs.get(name) ?? docs.set(name, new Y.Doc()).get(name)!;
  const random = lehmer(11);
  const open = new Map<number, AgentMemoryDoc>(); // one writer (one Yjs client id) per document, as AgentDocs keeps
  const seg = (k: number) => open.get(k) ?? open.set(k, new AgentMemoryDoc({ node: 'n1', random, doc: doc(segmentDocName(ROOT, k, SEGMENT_BITS)) })).get(k)!;
  const split = new SegmentedMemory({ node: 'n1', random, doc: doc(ROOT), split: true, segments: { open: seg, peek: (k) => (docs.has(segmentDocName(ROOT, k, SEGMENT_BITS)) ? seg(k) : undefined) } });
  for (let i = 0; i < EPISODES; i++) {
    const ep = { task: `task ${i} of the big agent`, outcome: i % 7 ? 'ok' : 'failed', note: `note ${i}: what was learned`, tags: i % 10 ? [] : ['tenth'] };
    const id = whole.addEpisode(ep, { now: 1_700_000_000_000 + i });
    split.addEpisode(ep, { now: 1_700_000_000_000 + i, id });
  }
  return { whole: new Map([[ROOT, Y.encodeStateAsUpdate(wholeDoc)]]), split: new Map([...docs].map(([n, d]) => [n, Y.encodeStateAsUpdate(d)])) };
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => (gc?.(), process.memoryUsage().heapUsed);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Decodes every stored document (timing each), reads the newest 50 from them. */
function docPage(stored: Map<string, Uint8Array>): { ms: number; maxDecodeMs: number; heapBytes: number; first: string } {
  const before = heap();
  const t0 = performance.now();
  const docs = new Map<string, Y.Doc>();
  let maxDecodeMs = 0;
  for (const [name, bytes] of stored) {
    const t = performance.now();
    const d = new Y.Doc();
    Y.applyUpdate(d, bytes);
    docs.set(name, d);
    maxDecodeMs = Math.max(maxDecodeMs, performance.now() - t);
  }
  const segs = new Map<number, AgentMemoryDoc>();
  const peek = (k: number) => {
    const d = docs.get(segmentDocName(ROOT, k, SEGMENT_BITS));
    if (d && !segs.has(k)) segs.set(k, new AgentMemoryDoc({ node: 'r', random: Math.random, doc: d }));
    return segs.get(k);
  };
  const mem = new SegmentedMemory({ node: 'r', random: Math.random, doc: docs.get(ROOT)!, split: false, segments: { open: (k) => peek(k)!, peek } });
  const page = episodePage(mem, { limit: 50 });
  const ms = performance.now() - t0;
  const heapBytes = heap() - before;
  if (page.items.length !== 50) throw new Error('short page');
  return { ms, maxDecodeMs, heapBytes, first: page.items[0]!.id };
}

const scheduler = { schedule: () => () => undefined, immediate: (fn: () => void) => fn() } as unknown as Scheduler;

/** Loads the documents into a node's document set, builds the recall index from them, pages from it. */
function indexRebuild(stored: Map<string, Uint8Array>): { ms: number; pageMs: number; first: string } {
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1' });
  for (const [name, bytes] of stored) store.append(name, bytes);
  const t0 = performance.now();
  const docs = new DurableDocSet(store);
  const recall = new RecallService({ docs, scheduler, file: ':memory:', logger: silentLogger() });
  recall.open();
  const t1 = performance.now();
  const page = recall.page('big', { limit: 50 });
  const pageMs = performance.now() - t1;
  recall.close();
  if (page?.items.length !== 50) throw new Error('short index page');
  return { ms: performance.now() - t0, pageMs, first: page.items[0]!.id };
}

const t = performance.now();
const { whole, split } = build();
const buildMs = performance.now() - t;
const bytes = (m: Map<string, Uint8Array>) => [...m.values()].reduce((a, b) => a + b.byteLength, 0);
const largest = (m: Map<string, Uint8Array>) => Math.max(...[...m.values()].map((b) => b.byteLength));
const runs = { whole: [] as ReturnType<typeof docPage>[], split: [] as ReturnType<typeof docPage>[], wholeIndex: [] as ReturnType<typeof indexRebuild>[], splitIndex: [] as ReturnType<typeof indexRebuild>[] };
for (let r = 0; r < RUNS; r++) {
  runs.whole.push(docPage(whole));
  runs.split.push(docPage(split));
  runs.wholeIndex.push(indexRebuild(whole));
  runs.splitIndex.push(indexRebuild(split));
}
const firsts = new Set([...runs.whole, ...runs.split, ...runs.wholeIndex, ...runs.splitIndex].map((x) => x.first));
if (firsts.size !== 1) throw new Error('the layouts disagree on the newest episode');
const m = (xs: Array<Record<string, unknown>>, k: string) => median(xs.map((x) => x[k] as number));
const metrics = {
  episodes: metric(EPISODES, 'episodes'),
  split_documents: metric(split.size, 'documents'),
  whole_bytes: metric(bytes(whole), 'bytes'),
  split_bytes: metric(bytes(split), 'bytes'),
  split_largest_document_bytes: metric(largest(split), 'bytes'),
  whole_doc_page_ms: metric(m(runs.whole, 'ms'), 'ms'),
  split_doc_page_ms: metric(m(runs.split, 'ms'), 'ms'),
  whole_max_decode_ms: metric(m(runs.whole, 'maxDecodeMs'), 'ms'),
  split_max_decode_ms: metric(m(runs.split, 'maxDecodeMs'), 'ms'),
  whole_decoded_heap_bytes: metric(m(runs.whole, 'heapBytes'), 'bytes'),
  split_decoded_heap_bytes: metric(m(runs.split, 'heapBytes'), 'bytes'),
  whole_index_rebuild_then_page_ms: metric(m(runs.wholeIndex, 'ms'), 'ms'),
  split_index_rebuild_then_page_ms: metric(m(runs.splitIndex, 'ms'), 'ms'),
  whole_index_page_ms: metric(m(runs.wholeIndex, 'pageMs'), 'ms'),
  split_index_page_ms: metric(m(runs.splitIndex, 'pageMs'), 'ms'),
  build_ms: metric(buildMs, 'ms'),
};
const { path } = writeResult(values.out!, `segmented-page-${EPISODES}`, metrics, { splitAt: SPLIT_AT, segmentBits: SEGMENT_BITS, runs: RUNS, gc: Boolean(gc) });
process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Math.round(v.value * 10) / 10])), null, 1)}\n${path}\n`);
