// What a deleted entry of a root Y.Map keeps for ever: a forgotten episode (retention policy,
// `tri memory forget`) and a trimmed task (task retention) are deletes of one key of their
// document's root map, and Yjs keeps the deleted Item in the map (and in the struct store) so it
// can order a concurrent set of that key; its content is collected, the Item and its key are not.
// So a document under a steady write rate and a retention policy still grows with everything ever
// written, in heap while resident and on disk. Measured here: N episodes written one per
// transaction through AgentMemoryDoc and all but the newest KEEP forgotten through forgetEpisodes
// (as a policy of maxEpisodes KEEP does); the same for task-shaped maps under a root map, deleted
// as a trim does. Heap after a full collection and the encoded size, per entry ever written,
// without folding (Yjs as is) and with the node's folding (src/storage/tombstone-fold.ts, run after
// every delete as the node's reclaim does, here every FOLD_EVERY writes), in the same run.
//   node --expose-gc dist/bench/tombstone-cost.js [--out bench/results]
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../crdt/index.js';
import { forgetEpisodes } from '../src/memory/forget.js';
import { foldTombstones } from '../src/storage/tombstone-fold.js';
import { metric, writeResult } from './lib/result.js';
import { heapAfterGc, lehmerSequence } from './lib/heap.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench/results' } } });
const KEEP = 100;
const SIZES = [5_000, 20_000];
/** The node folds a second after a burst of deletes; here: once every this many writes. */
const FOLD_EVERY = 50;



interface Row {
  kind: 'episodes' | 'tasks';
  folded: boolean;
  written: number;
  live: number;
  mapEntries: number;
  heapBytesPerWritten: number;
  encodedBytesPerWritten: number;
}

function episodes(n: number, fold: boolean): Row {
  const h0 = heapAfterGc();
  const mem = new AgentMemoryDoc({ node: 'n1', random: lehmerSequence(n), agentId: 'agent/echo' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `echo ${i}` }, { now: 1_800_000_000_000 + i }));
    if (ids.length > KEEP) forgetEpisodes(mem, ids.splice(0, ids.length - KEEP));
    if (fold && i % FOLD_EVERY === 0) foldTombstones(mem.doc, ['episodes']);
  }
  if (fold) foldTombstones(mem.doc, ['episodes']);
  const heap = heapAfterGc() - h0;
  const root = mem.doc.getMap('episodes') as unknown as { size: number; _map: Map<string, unknown> };
  return { kind: 'episodes', folded: fold, written: n, live: root.size, mapEntries: root._map.size, heapBytesPerWritten: Math.round(heap / n), encodedBytesPerWritten: Math.round(Y.encodeStateAsUpdate(mem.doc).length / n) };
}

function tasks(n: number, fold: boolean): Row {
  const h0 = heapAfterGc();
  const doc = new Y.Doc();
  const root = doc.getMap<Y.Map<unknown>>('tasks');
  const rnd = lehmerSequence(n + 7);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = Math.floor(rnd() * 2 ** 52).toString(16).padStart(16, '0');
    ids.push(id);
    doc.transact(() => {
      const m = new Y.Map<unknown>();
      root.set(id, m);
      m.set('spec', { id, type: 'echo', input: { n: i } });
      m.set('status', 'done');
      m.set('result', { ok: true, n: i });
    });
    if (ids.length > KEEP) doc.transact(() => ids.splice(0, ids.length - KEEP).forEach((k) => root.delete(k)));
    if (fold && i % FOLD_EVERY === 0) foldTombstones(doc, ['tasks']);
  }
  if (fold) foldTombstones(doc, ['tasks']);
  const heap = heapAfterGc() - h0;
  const map = root as unknown as { size: number; _map: Map<string, unknown> };
  return { kind: 'tasks', folded: fold, written: n, live: map.size, mapEntries: map._map.size, heapBytesPerWritten: Math.round(heap / n), encodedBytesPerWritten: Math.round(Y.encodeStateAsUpdate(doc).length / n) };
}

const rows: Row[] = [];
for (const n of SIZES) for (const fold of [false, true]) rows.push(episodes(n, fold), tasks(n, fold));
for (const r of rows) console.log(`${r.kind}${r.folded ? ' (folded)' : ''}: ${r.written} written, ${r.live} live, ${r.mapEntries} map entries kept; ${r.heapBytesPerWritten} B heap and ${r.encodedBytesPerWritten} B encoded per entry ever written`);
const last = (kind: Row['kind'], folded = false) => rows.filter((r) => r.kind === kind && r.folded === folded).at(-1)!;
/** Heap added per entry between the smallest and the largest size: the cost of one more forgotten entry, live ones aside. */
const marginal = (kind: Row['kind'], folded: boolean): number => {
  const [a, b] = [rows.find((r) => r.kind === kind && r.folded === folded)!, last(kind, folded)];
  return Math.round((b.heapBytesPerWritten * b.written - a.heapBytesPerWritten * a.written) / (b.written - a.written));
};
for (const kind of ['episodes', 'tasks'] as const) console.log(`${kind}: ${marginal(kind, false)} B heap per further forgotten entry without folding, ${marginal(kind, true)} B with folding`);
const { path } = writeResult(
  values.out!,
  'tombstone-cost',
  {
    episode_heap_per_forgotten: metric(last('episodes').heapBytesPerWritten, 'B'),
    episode_encoded_per_forgotten: metric(last('episodes').encodedBytesPerWritten, 'B'),
    task_heap_per_trimmed: metric(last('tasks').heapBytesPerWritten, 'B'),
    task_encoded_per_trimmed: metric(last('tasks').encodedBytesPerWritten, 'B'),
    episode_heap_marginal: metric(marginal('episodes', false), 'B'),
    episode_heap_marginal_folded: metric(marginal('episodes', true), 'B'),
    task_heap_marginal: metric(marginal('tasks', false), 'B'),
    task_heap_marginal_folded: metric(marginal('tasks', true), 'B'),
    episode_heap_per_forgotten_folded: metric(last('episodes', true).heapBytesPerWritten, 'B'),
    episode_encoded_per_forgotten_folded: metric(last('episodes', true).encodedBytesPerWritten, 'B'),
    task_heap_per_trimmed_folded: metric(last('tasks', true).heapBytesPerWritten, 'B'),
    task_encoded_per_trimmed_folded: metric(last('tasks', true).encodedBytesPerWritten, 'B'),
  },
  { keep: KEEP, rows },
);
console.log(`wrote ${path}`);
