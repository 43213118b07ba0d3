// The recall index of a split agent (docs/segmented-memory.md rule 4): rows are fed per document
// (root and segments), an agent's page and recall cover all of them and answer exactly what the
// merged document view answers, a rule-3 duplicate (one derived id in the root and in a segment)
// reads once with both copies' edits, hits name the agent (never a segment), and a reopened index
// file rebuilds the segments' rows like any document.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { SegmentedMemory } from '../../crdt/segmented-memory.js';
import { segmentDocName, segmentOf, SEGMENT_BITS } from '../../crdt/segments.js';
import { episodePage } from '../../src/memory/episode-page.js';
import { silentLogger } from '../../src/node/logger.js';
import { RecallService } from '../../src/recall/recall-service.js';
import type { Scheduler } from '../../src/runtime/types.js';
import { createPrng } from '../../src/sim/prng.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const scheduler: Scheduler = { schedule: () => () => undefined, immediate: () => undefined } as unknown as Scheduler;

function split(docs: DurableDocSet, agent: string, node: string, seed: string): SegmentedMemory {
  const rng = createPrng(seed);
  const random = () => rng.next();
  const root = `agent/${agent}`;
  const open = new Map<number, AgentMemoryDoc>(); // one writer per document, as AgentDocs keeps
  const seg = (k: number, create: boolean) => {
    const id = segmentDocName(root, k, SEGMENT_BITS);
    if (!open.has(k) && (create || docs.has(id))) open.set(k, new AgentMemoryDoc({ node, random, doc: docs.doc(id) }));
    return open.get(k);
  };
  return new SegmentedMemory({ node, random, doc: docs.doc(root), split: true, splitAt: 10, segments: { open: (k) => seg(k, true)!, peek: (k) => seg(k, false) } });
}

describe('recall index of a split agent', () => {
  it('pages and recalls over root and segments exactly as the merged view reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-recall-seg-'));
    dirs.push(dir);
    const file = join(dir, 'recall.db');
    const docs = new DurableDocSet(new MemoryStore({ nodeId: 'n1', name: 'n1' }));
    const recall = new RecallService({ docs, scheduler, file, logger: silentLogger() });
    recall.open();
    const m = split(docs, 'big', 'n1', 'seg-a');
    const other = split(docs, 'big-2', 'n1', 'seg-b'); // a neighbour whose name extends "big": never mixed in
    other.addEpisode({ task: 'neighbour', outcome: 'ok' }, { now: 1 });
    for (let k = 0; k < 40; k++) m.addEpisode({ task: `task ${k}`, outcome: k % 3 ? 'ok' : 'failed', note: `note ${k}`, tags: k % 5 ? [] : ['five'] }, { now: 1000 + k });
    expect(m.segmentBits()).toBe(SEGMENT_BITS);
    // A rule-3 duplicate: the derived id written into the root too, as a node that had not seen the split would.
    const dup = 'c0ffee0000000001';
    m.addEpisode({ task: 'derived', outcome: 'ok', note: 'in segment' }, { now: 5000, id: dup });
    const plain = new AgentMemoryDoc({ node: 'n2', random: () => 0.5, doc: docs.doc('agent/big') });
    plain.addEpisode({ task: 'derived', outcome: 'ok', note: 'in root' }, { now: 5000, id: dup });
    expect(docs.has(segmentDocName('agent/big', segmentOf(dup, SEGMENT_BITS), SEGMENT_BITS))).toBe(true);
    m.tag(dup, 'both'); // edits go to the root copy (rule 2)

    const fromIndex = (q: { limit: number; tag?: string; outcome?: string }) => {
      const out = [];
      let after: string | undefined;
      for (;;) {
        const p = recall.page('big', { ...q, after })!;
        out.push(...p.items);
        if (p.next === undefined) return out;
        after = p.next;
      }
    };
    const fromDocs = (q: { limit: number; tag?: string; outcome?: string }) => {
      const out = [];
      let after: string | undefined;
      for (;;) {
        const p = episodePage(m, { ...q, after });
        out.push(...p.items);
        if (p.next === undefined) return out;
        after = p.next;
      }
    };
    for (const q of [{ limit: 7 }, { limit: 50 }, { limit: 3, tag: 'five' }, { limit: 4, outcome: 'failed' }]) expect(fromIndex(q)).toEqual(fromDocs(q));
    expect(fromIndex({ limit: 100 })).toHaveLength(41);
    const merged = m.get(dup)!;
    expect(merged.notes).toBe('in rootin segment');
    expect(merged.tags).toEqual(['both']);
    expect(fromIndex({ limit: 1 })[0]).toEqual(merged);

    const hits = recall.recall('big', { text: 'derived' });
    expect(hits.map((h) => [h.agent, h.episode])).toEqual([['big', merged]]);
    const all = recall.recall(undefined, { text: 'task', limit: 100 });
    expect(all).toHaveLength(40);
    expect(new Set(all.map((h) => h.agent))).toEqual(new Set(['big']));
    expect(recall.recall('big', { tags: ['five'], limit: 100 }).map((h) => h.episode.id).sort()).toEqual(m.list().filter((e) => e.tags.includes('five')).map((e) => e.id).sort());
    recall.close();

    // Reopened after a change made while closed: the segment's rows are rebuilt like a document's.
    const late = m.addEpisode({ task: 'while closed', outcome: 'ok' }, { now: 9000, id: 'fc00000000000009' }); // segment 63
    expect(docs.has(segmentDocName('agent/big', 63, SEGMENT_BITS))).toBe(true);
    const again = new RecallService({ docs, scheduler, file, logger: silentLogger() });
    again.open();
    expect(again.recall('big', { text: 'closed' }).map((h) => h.episode.id)).toEqual([late]);
    expect(again.page('big', { limit: 100 })!.items).toHaveLength(42);
    again.close();
  });
});
