// Folding the tombstones of deleted root-map keys (src/storage/tombstone-fold.ts) must be
// invisible: replicas that fold at random moments, exchanging diffs in random order with replicas
// that never fold, end exactly where replicas that never fold end (same content, same digest),
// a forgotten episode never comes back, and no other write is lost. Plus the figures that make it
// worth doing: the map forgets the key and the encoding shrinks.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { computeDocDigest } from '../../crdt/doc-digest.js';
import { foldableCount, foldTombstones } from '../../src/storage/tombstone-fold.js';

const ROOT = 'episodes';
const root = (d: Y.Doc): Y.Map<Y.Map<unknown>> => d.getMap<Y.Map<unknown>>(ROOT);

function replica(client: number): Y.Doc {
  const d = new Y.Doc();
  d.clientID = client;
  return d;
}

function add(d: Y.Doc, id: string): void {
  d.transact(() => {
    const m = new Y.Map<unknown>();
    root(d).set(id, m);
    m.set('task', id);
    m.set('note', new Y.Text('n'));
  });
}

function edit(d: Y.Doc, id: string, k: number): void {
  const m = root(d).get(id);
  if (!m) return;
  d.transact(() => {
    m.set(`f${k % 3}`, k);
    (m.get('note') as Y.Text).insert(0, `e${k}`);
  });
}

function sync(from: Y.Doc, to: Y.Doc): void {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
}

function view(d: Y.Doc): Record<string, unknown> {
  return root(d).toJSON();
}

type Op =
  | { t: 'add'; r: number }
  | { t: 'edit'; r: number; pick: number }
  | { t: 'forget'; r: number; pick: number }
  | { t: 'fold'; r: number }
  | { t: 'sync'; a: number; b: number }
  | { t: 'recreate'; r: number; pick: number };

const N = 3;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('add' as const), r: fc.nat(N - 1) }),
  fc.record({ t: fc.constant('edit' as const), r: fc.nat(N - 1), pick: fc.nat(50) }),
  fc.record({ t: fc.constant('forget' as const), r: fc.nat(N - 1), pick: fc.nat(50) }),
  fc.record({ t: fc.constant('fold' as const), r: fc.nat(N - 1) }),
  fc.record({ t: fc.constant('sync' as const), a: fc.nat(N - 1), b: fc.nat(N - 1) }),
);

/** Runs `ops` on replicas that fold (replica 2 never does: a peer on an older version) and on a reference that never folds. */
function run(ops: readonly Op[]): { folding: Y.Doc[]; reference: Y.Doc[]; forgotten: Set<string>; folded: number } {
  const folding = [0, 1, 2].map((i) => replica(i + 1));
  const reference = [0, 1, 2].map((i) => replica(i + 1));
  const forgotten = new Set<string>();
  let next = 0;
  let folded = 0;
  for (const [k, op] of ops.entries()) {
    const both = (f: (d: Y.Doc) => void, r: number): void => {
      f(folding[r]!);
      f(reference[r]!);
    };
    if (op.t === 'add') {
      const id = `e${next++}`;
      both((d) => add(d, id), op.r);
    } else if (op.t === 'edit' || op.t === 'forget') {
      // Pick among the ids the reference replica sees live (the folding one sees the same).
      const live = [...root(reference[op.r]!).keys()].sort();
      expect([...root(folding[op.r]!).keys()].sort()).toEqual(live);
      if (live.length === 0) continue;
      const id = live[op.pick % live.length]!;
      if (op.t === 'edit') both((d) => edit(d, id, k), op.r);
      else {
        both((d) => root(d).delete(id), op.r);
        forgotten.add(id);
      }
    } else if (op.t === 'recreate') {
      // Not something the node does (ids are never set again once deleted); see the last test.
      const ids = [...forgotten].sort();
      if (ids.length > 0) both((d) => add(d, ids[op.pick % ids.length]!), op.r);
    } else if (op.t === 'fold') {
      if (op.r !== 2) folded += foldTombstones(folding[op.r]!, [ROOT]);
    } else {
      sync(folding[op.a]!, folding[op.b]!);
      sync(reference[op.a]!, reference[op.b]!);
    }
  }
  for (let round = 0; round < 2; round++) {
    for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) if (a !== b) {
      sync(folding[a]!, folding[b]!);
      sync(reference[a]!, reference[b]!);
    }
    folded += foldTombstones(folding[0]!, [ROOT]);
  }
  return { folding, reference, forgotten, folded };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('tombstone folding', () => {
  it('is invisible: folding replicas converge to what replicas that never fold hold (content and digest), forgotten ids stay gone', () => {
    let foldedTotal = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 80 }), (ops) => {
        const { folding, reference, forgotten, folded } = run(ops);
        foldedTotal += folded;
        const want = view(reference[0]!);
        const digest = hex(computeDocDigest(reference[0]!));
        for (let i = 0; i < N; i++) {
          expect(view(folding[i]!)).toEqual(want);
          expect(view(reference[i]!)).toEqual(want);
          expect(hex(computeDocDigest(folding[i]!))).toBe(digest);
          // A replica loaded from a folded replica's encoding holds the same state too.
          const loaded = new Y.Doc();
          Y.applyUpdate(loaded, Y.encodeStateAsUpdate(folding[i]!));
          expect(hex(computeDocDigest(loaded))).toBe(digest);
          expect(view(loaded)).toEqual(want);
        }
        for (const id of forgotten) expect(want[id]).toBeUndefined();
      }),
      { numRuns: 300, seed: 14 },
    );
    expect(foldedTotal).toBeGreaterThan(100); // the property did exercise folding
  });

  it('a replica partitioned before the forget, editing the episode meanwhile, rejoins after the others folded: the episode stays gone, its other writes survive', () => {
    const [a, b, lag] = [replica(1), replica(2), replica(3)];
    add(a, 'gone');
    add(a, 'kept');
    for (const d of [b, lag]) sync(a, d);
    // Partition: lag edits both episodes and adds one; a forgets 'gone', b folds after the merge.
    edit(lag, 'gone', 1);
    edit(lag, 'kept', 2);
    add(lag, 'new');
    a.transact(() => root(a).delete('gone'));
    sync(a, b);
    expect(foldTombstones(a, [ROOT])).toBe(1);
    expect(foldTombstones(b, [ROOT])).toBe(1);
    expect(foldableCount(root(a))).toBe(0);
    // Heal, in both directions and through the folded replicas only.
    sync(lag, b);
    sync(b, lag);
    sync(b, a);
    sync(a, lag);
    const want = { kept: { task: 'kept', note: 'e2n', f2: 2 }, new: { task: 'new', note: 'n' } };
    for (const d of [a, b, lag]) expect(view(d)).toEqual(want);
    expect(hex(computeDocDigest(a))).toBe(hex(computeDocDigest(lag)));
    expect(hex(computeDocDigest(b))).toBe(hex(computeDocDigest(lag)));
    // The lagging replica folds too once it merged the forget, and still agrees.
    expect(foldTombstones(lag, [ROOT])).toBe(1);
    expect(hex(computeDocDigest(lag))).toBe(hex(computeDocDigest(a)));
  });

  it('even a key set again after it was folded (which the node never does) converges: every replica ends the same', () => {
    const withRecreate = fc.oneof(opArb, fc.record({ t: fc.constant('recreate' as const), r: fc.nat(N - 1), pick: fc.nat(50) }));
    fc.assert(
      fc.property(fc.array(withRecreate, { minLength: 5, maxLength: 80 }), (ops) => {
        const { folding } = run(ops);
        for (let i = 1; i < N; i++) {
          expect(view(folding[i]!)).toEqual(view(folding[0]!));
          expect(hex(computeDocDigest(folding[i]!))).toBe(hex(computeDocDigest(folding[0]!)));
        }
      }),
      { numRuns: 300, seed: 1414 },
    );
  });

  it('drops the key from the map and the Items from the store; records (~ keys) and live keys stay', () => {
    const d = replica(7);
    for (let i = 0; i < 200; i++) add(d, `e${i}`);
    d.transact(() => root(d).set('~policy', new Y.Map()));
    d.transact(() => root(d).delete('~policy'));
    const before = Y.encodeStateAsUpdate(d).length;
    const digest = hex(computeDocDigest(d));
    d.transact(() => {
      for (let i = 0; i < 190; i++) root(d).delete(`e${i}`);
    });
    const internals = root(d) as unknown as { _map: Map<string, unknown> };
    expect(internals._map.size).toBe(201);
    const deletedDigest = hex(computeDocDigest(d));
    expect(deletedDigest).not.toBe(digest);
    expect(foldTombstones(d, [ROOT])).toBe(190);
    expect(internals._map.size).toBe(11); // 10 live + the deleted record key
    expect(hex(computeDocDigest(d))).toBe(deletedDigest);
    const structs = (d.store.clients.get(7) ?? []).length;
    expect(structs).toBeLessThan(60);
    expect(Y.encodeStateAsUpdate(d).length).toBeLessThan(before / 5);
    // Idempotent.
    expect(foldTombstones(d, [ROOT])).toBe(0);
    expect(() => d.transact(() => foldTombstones(d, [ROOT]))).toThrow(/inside a transaction/);
  });
});
