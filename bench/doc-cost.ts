// What a resident agent document costs in JavaScript heap, against its stored (encoded) size:
// the figures behind the residency estimate (src/storage/residency.ts, RESIDENT_FACTOR and
// RESIDENT_BASE_BYTES). 200 documents of the soak's episodes (task "wN", outcome "ok", a short
// note), built two ways: written live one episode per transaction (as a node writes them) and
// loaded from their encoded snapshot (as a node reloads an unloaded one). Heap after a full
// collection, before and after.
//   node --expose-gc dist/bench/doc-cost.js [--out bench/results]
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../crdt/index.js';
import { metric, writeResult, type Metrics } from './lib/result.js';
import { heapAfterGc, lehmerSequence } from './lib/heap.js';

const DOCS = 200;
const SIZES = [1, 10, 75, 300];

interface Row {
  episodesPerDoc: number;
  mode: 'written live' | 'loaded from snapshot';
  encodedBytesPerDoc: number;
  heapBytesPerDoc: number;
  factor: number;
  heapBytesPerEpisode: number;
}



function measure(eps: number): Row[] {
  const rnd = lehmerSequence(eps + 1);
  let h0 = heapAfterGc();
  const live = Array.from({ length: DOCS }, (_, d) => new AgentMemoryDoc({ node: 'n1', random: rnd, agentId: `agent/soak-${d}` }));
  for (let e = 0; e < eps; e++) {
    for (let d = 0; d < DOCS; d++) live[d]!.addEpisode({ task: `w${d * eps + e}`, outcome: 'ok', note: `soak write ${d * eps + e}` }, { now: 1_800_000_000_000 + e });
  }
  const liveHeap = (heapAfterGc() - h0) / DOCS;
  const encoded = live.map((m) => Y.encodeStateAsUpdate(m.doc));
  const bytes = encoded.reduce((s, u) => s + u.length, 0) / DOCS;
  for (const m of live) m.doc.destroy();
  live.length = 0;
  h0 = heapAfterGc();
  const loaded = encoded.map((u, d) => {
    const doc = new Y.Doc({ guid: `agent/soak-${d}` });
    Y.applyUpdate(doc, u);
    return doc;
  });
  const loadedHeap = (heapAfterGc() - h0) / DOCS;
  if (loaded.length !== DOCS) throw new Error('unreachable');
  const row = (mode: Row['mode'], heap: number): Row => ({
    episodesPerDoc: eps,
    mode,
    encodedBytesPerDoc: Math.round(bytes),
    heapBytesPerDoc: Math.round(heap),
    factor: Math.round((heap / bytes) * 10) / 10,
    heapBytesPerEpisode: Math.round(heap / eps),
  });
  return [row('written live', liveHeap), row('loaded from snapshot', loadedHeap)];
}

const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1]! : 'bench/results';
const rows = SIZES.flatMap(measure);
for (const r of rows) console.log(`${String(r.episodesPerDoc).padStart(4)} episodes, ${r.mode.padEnd(20)}: ${r.encodedBytesPerDoc} B stored, ${r.heapBytesPerDoc} B heap (${r.factor}x, ${r.heapBytesPerEpisode} B per episode)`);
const big = rows.filter((r) => r.episodesPerDoc >= 75);
const metrics: Metrics = {
  heap_factor_max: metric(Math.max(...big.map((r) => r.factor)), 'x stored bytes (75+ episodes per document)'),
  heap_per_episode: metric(Math.max(...big.map((r) => r.heapBytesPerEpisode)), 'bytes'),
  heap_one_episode_doc: metric(Math.max(...rows.filter((r) => r.episodesPerDoc === 1).map((r) => r.heapBytesPerDoc)), 'bytes'),
};
const { path } = writeResult(out, 'doc-cost', metrics, { rows });
console.log(`wrote ${path}`);
