// Property: whatever the writes and however the network mangles messages (drops, duplicates,
// reordering) while nodes push and run anti-entropy, a few fault-free anti-entropy rounds
// afterwards make every replica equal. fast-check prints the seed and path of a failure; replay
// with SYNC_PROPERTY_SEED=<seed> npx vitest run test/property/sync-convergence
// (SYNC_PROPERTY_RUNS=<n> for a longer run).
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { LoopbackNet, type Fate } from '../../src/sync/loopback.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

const SEED = Number(process.env.SYNC_PROPERTY_SEED ?? 20261125);
const RUNS = Number(process.env.SYNC_PROPERTY_RUNS ?? 40);

type Op =
  | { t: 'text'; node: number; doc: number; pos: number; s: string }
  | { t: 'del'; node: number; doc: number; pos: number; len: number }
  | { t: 'set'; node: number; doc: number; key: string; v: number }
  | { t: 'ae'; from: number; to: number }
  | { t: 'deliver'; steps: number };

const opArb = (nodes: number): fc.Arbitrary<Op> => {
  const node = fc.nat(nodes - 1);
  const doc = fc.nat(3);
  return fc.oneof(
    fc.record({ t: fc.constant('text' as const), node, doc, pos: fc.nat(40), s: fc.string({ minLength: 1, maxLength: 6 }) }),
    fc.record({ t: fc.constant('del' as const), node, doc, pos: fc.nat(40), len: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ t: fc.constant('set' as const), node, doc, key: fc.constantFrom('a', 'b', 'c'), v: fc.integer() }),
    fc.record({ t: fc.constant('ae' as const), from: node, to: node }),
    fc.record({ t: fc.constant('deliver' as const), steps: fc.integer({ min: 1, max: 20 }) }),
  );
};

const scenario = fc.integer({ min: 3, max: 5 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    ops: fc.array(opArb(nodes), { minLength: 5, maxLength: 60 }),
    fates: fc.array(fc.constantFrom<Fate>('deliver', 'deliver', 'deliver', 'drop', 'duplicate', 'defer'), { minLength: 1, maxLength: 50 }),
  }),
);

function apply(n: LoopbackNet<YDocSet>, names: string[], op: Op, fate: (i: number) => Fate): void {
  switch (op.t) {
    case 'text': {
      const t = n.node(names[op.node]!).docs.doc(`d${op.doc}`).getText('t');
      t.insert(Math.min(op.pos, t.length), op.s);
      return;
    }
    case 'del': {
      const t = n.node(names[op.node]!).docs.doc(`d${op.doc}`).getText('t');
      const pos = Math.min(op.pos, t.length);
      t.delete(pos, Math.min(op.len, t.length - pos));
      return;
    }
    case 'set':
      n.node(names[op.node]!).docs.doc(`d${op.doc}`).getMap('m').set(op.key, op.v);
      return;
    case 'ae':
      if (op.from !== op.to) n.effects(names[op.from]!, n.node(names[op.from]!).engine.startAntiEntropy(names[op.to]!, n.now));
      return;
    case 'deliver': {
      let i = 0;
      n.run(() => fate(i++), op.steps);
      return;
    }
  }
}

it('replicas converge after faults and anti-entropy rounds', () => {
  // Non-vacuity: count runs where the faults really left replicas apart before healing.
  let divergedRuns = 0;
  let resyncs = 0;
  fc.assert(
    fc.property(scenario, ({ nodes, ops, fates }) => {
      const n = new LoopbackNet<YDocSet>();
      const names = Array.from({ length: nodes }, (_, i) => `n${i}`);
      for (const name of names) n.add(name, new YDocSet());
      let k = 0;
      const fate = () => fates[k++ % fates.length]!;
      for (const op of ops) {
        n.now += 100;
        apply(n, names, op, fate);
      }
      // Faulty tail: whatever is still in flight meets the same faults.
      n.run(fate, 10_000);
      n.queue.length = 0;
      // Heal: fault-free rounds over every ordered pair until all roots agree.
      const roots = () => new Set(names.map((x) => Buffer.from(n.node(x).engine.rootDigest()).toString('hex')));
      if (roots().size > 1) divergedRuns++;
      for (let round = 0; round < 3 && roots().size > 1; round++) {
        for (const a of names) for (const b of names) if (a !== b) n.antiEntropy(a, b);
      }
      expect(roots().size).toBe(1);
      // Equal digests must mean equal content, and nothing may be left pending.
      for (const x of names) {
        for (let d = 0; d < 4; d++) {
          const doc = n.node(x).docs.doc(`d${d}`);
          expect(doc.getText('t').toString()).toBe(n.node(names[0]!).docs.doc(`d${d}`).getText('t').toString());
          expect(doc.getMap('m').toJSON()).toEqual(n.node(names[0]!).docs.doc(`d${d}`).getMap('m').toJSON());
          expect(doc.store.pendingStructs).toBeNull();
        }
      }
      expect(n.decodeErrors).toEqual([]);
      resyncs += n.events.filter((e) => e.event.type === 'resync').length;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  expect(divergedRuns).toBeGreaterThan(RUNS / 4);
  expect(resyncs).toBeGreaterThan(0);
  console.log(`${divergedRuns}/${RUNS} runs diverged before healing; ${resyncs} pending-triggered resyncs`);
});
