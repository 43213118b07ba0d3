// SegmentedMemory (crdt/segmented-memory.ts) on its own: below the split threshold, or with the
// node option off, it writes exactly the bytes an AgentMemoryDoc writes (today's format); the split
// happens in the write that finds the root full, and bad input at that point changes nothing; a
// derived id is written once whichever document holds it; rule 2 routes edits.
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { SegmentedMemory } from '../../crdt/segmented-memory.js';
import { segmentDocName, segmentOf, SEGMENT_BITS } from '../../crdt/segments.js';
import { createPrng } from '../../src/sim/prng.js';

function rnd(seed: string): () => number {
  const r = createPrng(seed);
  return () => r.next();
}

function segmented(split: boolean, splitAt = 5) {
  const docs = new Map<string, Y.Doc>([['agent/a', new Y.Doc()]]);
  const random = rnd('seg');
  const open = new Map<number, AgentMemoryDoc>(); // one writer per document, as AgentDocs keeps
  const seg = (k: number, create: boolean) => {
    const name = segmentDocName('agent/a', k, SEGMENT_BITS);
    if (!create && !docs.has(name)) return undefined;
    if (!docs.has(name)) docs.set(name, new Y.Doc());
    if (!open.has(k)) open.set(k, new AgentMemoryDoc({ node: 'n1', random, doc: docs.get(name)! }));
    return open.get(k);
  };
  const mem = new SegmentedMemory({ node: 'n1', random, doc: docs.get('agent/a')!, split, splitAt, segments: { open: (k) => seg(k, true)!, peek: (k) => seg(k, false) } });
  return { mem, docs };
}

const ep = (i: number) => ({ task: `t${i}`, outcome: 'ok', note: `n${i}`, tags: ['x'], fields: { f: i }, counters: { c: 1 } });

describe('SegmentedMemory', () => {
  it('writes the same bytes as an AgentMemoryDoc below the threshold, and with splitting off past it', () => {
    for (const split of [true, false]) {
      const { mem, docs } = segmented(split, split ? 1_000 : 5);
      const plain = new AgentMemoryDoc({ node: 'n1', random: rnd('seg'), doc: new Y.Doc() });
      for (let i = 0; i < 20; i++) {
        const id = mem.addEpisode(ep(i), { now: i });
        expect(plain.addEpisode(ep(i), { now: i })).toBe(id);
        mem.appendNote(id, '+');
        plain.appendNote(id, '+');
      }
      expect(docs.size).toBe(1);
      expect(mem.segmentBits()).toBe(0);
      expect(Buffer.from(Y.encodeStateAsUpdate(mem.doc))).toEqual(Buffer.from(Y.encodeStateAsUpdate(plain.doc)));
      expect(Buffer.from(mem.digest())).toEqual(Buffer.from(plain.digest()));
    }
  });

  it('splits in the write that finds the root full; bad input there changes nothing', () => {
    const { mem, docs } = segmented(true);
    const before = Array.from({ length: 5 }, (_, i) => mem.addEpisode(ep(i), { now: i }));
    const root = Y.encodeStateAsUpdate(mem.doc);
    expect(() => mem.addEpisode({ task: 5 as unknown as string, outcome: 'ok' }, { now: 9 })).toThrow(/task and an outcome/);
    expect(() => mem.addEpisode({ task: 't', outcome: 'ok', tags: [''] }, { now: 9 })).toThrow();
    expect(() => mem.addEpisode(ep(9), { now: 9, id: 'NOT-HEX' })).toThrow(/16 lowercase hex/);
    expect(Buffer.from(Y.encodeStateAsUpdate(mem.doc))).toEqual(Buffer.from(root));
    expect(mem.segmentBits()).toBe(0);
    const after = mem.addEpisode(ep(5), { now: 5 });
    expect(mem.segmentBits()).toBe(SEGMENT_BITS);
    const home = docs.get(segmentDocName('agent/a', segmentOf(after, SEGMENT_BITS), SEGMENT_BITS))!;
    expect(home.getMap('episodes').has(after)).toBe(true);
    expect(mem.doc.getMap('episodes').has(after)).toBe(false); // rule 1
    expect(mem.list().map((e) => e.id)).toEqual([...before, after]);
    // Rule 2: an edit of a root episode stays in the root, of a segment episode in its segment.
    const rootBytes = Y.encodeStateAsUpdate(home).byteLength;
    mem.appendNote(before[0]!, ' more');
    expect(Y.encodeStateAsUpdate(home).byteLength).toBe(rootBytes);
    mem.tag(after, 'y');
    expect(mem.get(after)?.tags).toEqual(['x', 'y']);
    expect(mem.get(before[0]!)?.notes).toBe('n0 more');
    expect(() => mem.appendNote('00000000000000ff', 'x')).toThrow(/does not exist/);
    expect(mem.has(after) && mem.has(before[1]!) && !mem.has('00000000000000ff')).toBe(true);
  });

  it('writes a derived id once, whichever document holds it', () => {
    const { mem } = segmented(true, 2);
    const early = 'aaaa000000000001';
    expect(mem.addEpisode(ep(0), { now: 0, id: early })).toBe(early);
    mem.addEpisode(ep(1), { now: 1 });
    const late = 'bbbb000000000002';
    expect(mem.addEpisode(ep(2), { now: 2, id: late })).toBe(late);
    expect(mem.segmentBits()).toBe(SEGMENT_BITS);
    const bytes = [mem.doc, ...mem.heldDocs().slice(1).map((d) => d.doc)].map((d) => Y.encodeStateAsUpdate(d).byteLength);
    expect(mem.addEpisode(ep(3), { now: 3, id: early })).toBe(early);
    expect(mem.addEpisode(ep(4), { now: 4, id: late })).toBe(late);
    expect([mem.doc, ...mem.heldDocs().slice(1).map((d) => d.doc)].map((d) => Y.encodeStateAsUpdate(d).byteLength)).toEqual(bytes);
    expect(mem.list()).toHaveLength(3);
  });
});
