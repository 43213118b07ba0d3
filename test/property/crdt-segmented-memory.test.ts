// Segmented memory (docs/segmented-memory.md) at the CRDT level: two replicas of one agent write
// concurrently, unaware of each other (two sides of a partition), one of them splitting the agent
// past a small SPLIT_AT and the other not; some episodes are created on both sides under one
// derived id (rule 3). After exchanging every document both ways, each document's digest, the
// agent digest (rule 8) and the merged view are equal on both sides, and no acknowledged edit is
// lost: every note text appears, every counter sums every increment, every tag is present.
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { docDigestHex } from '../../crdt/doc-digest.js';
import { SegmentedMemory } from '../../crdt/segmented-memory.js';
import { segmentDocName, SEGMENT_BITS } from '../../crdt/segments.js';

const ROOT = 'agent/a';

function rng(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/** One replica: its documents by name and the agent's view over them. */
class Replica {
  readonly docs = new Map<string, Y.Doc>();
  readonly mem: SegmentedMemory;
  private readonly segments = new Map<number, AgentMemoryDoc>();

  constructor(name: string, split: boolean, seed: number) {
    const random = rng(seed);
    const segment = (k: number, create: boolean): AgentMemoryDoc | undefined => {
      const docName = segmentDocName(ROOT, k, SEGMENT_BITS);
      if (!create && !this.docs.has(docName)) return undefined;
      let s = this.segments.get(k);
      if (!s) this.segments.set(k, (s = new AgentMemoryDoc({ node: name, random, doc: this.doc(docName) })));
      return s;
    };
    this.mem = new SegmentedMemory({ node: name, random, doc: this.doc(ROOT), split, splitAt: 6, segments: { open: (k) => segment(k, true)!, peek: (k) => segment(k, false) } });
  }

  doc(name: string): Y.Doc {
    let d = this.docs.get(name);
    if (!d) this.docs.set(name, (d = new Y.Doc()));
    return d;
  }

  digests(): Record<string, string> {
    return Object.fromEntries([...this.docs].map(([n, d]) => [n, docDigestHex(d)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
  }
}

function exchange(a: Replica, b: Replica): void {
  for (const name of new Set([...a.docs.keys(), ...b.docs.keys()])) {
    const [da, db] = [a.doc(name), b.doc(name)];
    Y.applyUpdate(db, Y.encodeStateAsUpdate(da, Y.encodeStateVector(db)));
    Y.applyUpdate(da, Y.encodeStateAsUpdate(db, Y.encodeStateVector(da)));
  }
}

type Op =
  | { kind: 'add'; side: number; derived: number | undefined }
  | { kind: 'note' | 'tag' | 'count' | 'field'; side: number; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), side: fc.integer({ min: 0, max: 1 }), derived: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }),
  fc.record({ kind: fc.constantFrom('note' as const, 'tag' as const, 'count' as const, 'field' as const), side: fc.integer({ min: 0, max: 1 }), pick: fc.nat() }),
);

/** Derived ids spread over the segments (top bits differ), as task ids are. */
const derivedId = (n: number): string => `${(n * 0x2b00 + 0x0100).toString(16).padStart(4, '0')}00000000abcd`.slice(0, 16);

describe('segmented memory: concurrent writers, one side splitting', () => {
  it('converges to equal documents, digests and views, losing no edit', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 60 }), fc.integer({ min: 1, max: 1_000_000 }), (ops, seed) => {
        const sides = [new Replica('n1', true, seed), new Replica('n2', false, seed + 7)];
        const [a, b] = [sides[0]!, sides[1]!];
        // Both start from one shared history at SPLIT_AT (then the partition); n1's next write splits.
        for (let i = 0; i < 6; i++) a.mem.addEpisode({ task: `shared ${i}`, outcome: 'ok' }, { now: i });
        exchange(a, b);
        a.mem.addEpisode({ task: 'first after the split', outcome: 'ok' }, { now: 50 });
        expect([a.mem.segmentBits(), b.mem.segmentBits()]).toEqual([SEGMENT_BITS, 0]);
        const notes: Array<{ id: string; text: string }> = [];
        const counts = new Map<string, number>();
        const tags: Array<{ id: string; tag: string }> = [];
        let now = 100;
        // Twice: concurrent writes, then an exchange (the second round edits rule-3 duplicates too).
        for (const round of [1, 2]) {
          for (const [n, o] of ops.entries()) {
            const side = sides[o.side]!;
            if (o.kind === 'add') {
              side.mem.addEpisode({ task: `t${round}.${n}`, outcome: 'ok' }, { now: now++, id: o.derived === undefined ? undefined : derivedId(o.derived) });
              continue;
            }
            const known = side.mem.list();
            const target = known[o.pick % known.length]!;
            const text = `|${round}.${o.side}.${n}|`;
            if (o.kind === 'note') {
              notes.push({ id: target.id, text });
              side.mem.appendNote(target.id, text);
            } else if (o.kind === 'count') {
              counts.set(target.id, (counts.get(target.id) ?? 0) + 1);
              side.mem.increment(target.id, 'uses');
            } else if (o.kind === 'tag') {
              tags.push({ id: target.id, tag: `g${text}` });
              side.mem.tag(target.id, `g${text}`);
            }
            if (o.kind === 'field') side.mem.set(target.id, 'f', o.side);
          }
          exchange(a, b);
        }
        expect(b.mem.segmentBits()).toBe(a.mem.segmentBits());
        expect(a.digests()).toEqual(b.digests());
        expect(Buffer.from(a.mem.digest())).toEqual(Buffer.from(b.mem.digest()));
        const view = a.mem.list();
        expect(b.mem.list()).toEqual(view);
        expect(new Set(view.map((e) => e.id)).size).toBe(view.length); // a rule-3 duplicate reads once
        const byId = new Map(view.map((e) => [e.id, e]));
        for (const { id, text } of notes) expect(byId.get(id)?.notes).toContain(text);
        for (const [id, c] of counts) expect(byId.get(id)?.counters.uses).toBe(c);
        for (const { id, tag } of tags) expect(byId.get(id)?.tags).toContain(tag);
        for (const e of view) expect(a.mem.get(e.id)).toEqual(e);
      }),
      { numRuns: 60 },
    );
  });
});
