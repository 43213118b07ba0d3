// Property: whatever bytes a peer sends, SyncEngine.handle either processes them or throws
// DecodeError; it never throws anything else. Inputs are real protocol messages (captured from
// a sync between two nodes) with random bytes overwritten, truncated or extended, plus noise.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { LoopbackNet } from '../../src/sync/loopback.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

const SEED = Number(process.env.SYNC_PROPERTY_SEED ?? 4242);

function captureMessages(): Uint8Array[] {
  const n = new LoopbackNet<YDocSet>();
  n.add('a', new YDocSet());
  n.add('b', new YDocSet());
  const captured: Uint8Array[] = [];
  const a = n.node('a').docs;
  for (let i = 0; i < 12; i++) {
    a.doc(`d${i % 3}`).getText('t').insert(0, `hello ${i}`);
    a.doc(`d${i % 3}`).getMap('m').set(`k${i}`, i);
  }
  n.node('b').docs.doc('d9').getArray('x').push([1, 2, 3]);
  n.run((m) => (captured.push(m.bytes), 'deliver'));
  n.continuous = false;
  a.doc('d1').getText('t').delete(0, 3);
  n.effects('b', n.node('b').engine.startAntiEntropy('a', 0));
  n.effects('b', n.node('b').engine.requestFullSnapshot('a', 0));
  n.effects('b', n.node('b').engine.syncDocument('a', 'd2', 0));
  n.run((m) => (captured.push(m.bytes), 'deliver'));
  return captured;
}

it('handle throws nothing but DecodeError on mutated messages', () => {
  const corpus = captureMessages();
  expect(corpus.length).toBeGreaterThan(10);
  const edit = fc.oneof(
    fc.record({ t: fc.constant('set' as const), pos: fc.nat(), val: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ t: fc.constant('cut' as const), pos: fc.nat() }),
    fc.record({ t: fc.constant('add' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  let accepted = 0;
  fc.assert(
    fc.property(fc.nat(corpus.length - 1), fc.array(edit, { minLength: 1, maxLength: 3 }), (i, edits) => {
      let bytes = corpus[i]!.slice();
      for (const e of edits) {
        if (e.t === 'set' && bytes.length > 0) bytes[e.pos % bytes.length] = e.val;
        if (e.t === 'cut') bytes = bytes.slice(0, e.pos % (bytes.length + 1));
        if (e.t === 'add') bytes = Uint8Array.of(...bytes, ...e.extra);
      }
      const n = new LoopbackNet<YDocSet>();
      n.add('a', new YDocSet());
      n.add('b', new YDocSet()).docs.doc('d0').getText('t').insert(0, 'x');
      try {
        n.node('b').engine.handle('a', bytes, 0);
        accepted++;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }),
    { seed: SEED, numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 3000) },
  );
  expect(accepted).toBeGreaterThan(0);
});
