// A catch-up decodes each large document once (src/sync/validate.ts travelsAlone): delta entries
// of ALONE_UPDATE_BYTES or more travel in a doc-deltas message of their own, whose first entry
// checkPayloads leaves to DocSet.apply (which decodes it in full and changes nothing when it is
// bad); small entries still share messages. A returning node's catch-up is mostly such first
// copies, which were decoded twice (validation, then apply) when 25 of them shared one message.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DecodeError } from '../../src/errors.js';
import { batchBySize } from '../../src/sync/batch.js';
import { LoopbackNet } from '../../src/sync/loopback.js';
import { decodeMessage, encodeMessage, peekKind, type DocDeltaEntry } from '../../src/sync/messages.js';
import { ALONE_UPDATE_BYTES, checkPayloads, travelsAlone } from '../../src/sync/validate.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

function write(docs: YDocSet, docId: string, bytes: number): void {
  docs.doc(docId).getText('t').insert(0, 'x'.repeat(bytes));
}

describe('large delta entries travel alone', () => {
  it('batchBySize: an item `alone` says so of gets its own group, in order; the rest pack as before', () => {
    const groups = batchBySize([1, 2, 50, 3, 60, 4], () => 10, 100, (n) => n >= 50);
    expect(groups).toEqual([[50], [60], [1, 2, 3, 4]]);
    expect(batchBySize([1, 2, 3], () => 10, 100)).toEqual([[1, 2, 3]]);
  });

  it('a full snapshot of 5 large and 10 small documents: 5 messages of one entry, the small ones together; content equal', () => {
    const n = new LoopbackNet<YDocSet>();
    n.add('a', new YDocSet());
    n.add('b', new YDocSet());
    n.continuous = false;
    for (let i = 0; i < 5; i++) write(n.node('a').docs, `agent/big-${i}`, 2 * ALONE_UPDATE_BYTES);
    for (let i = 0; i < 10; i++) write(n.node('a').docs, `agent/small-${i}`, 20);
    const perMessage: number[] = [];
    n.effects('b', n.node('b').engine.requestFullSnapshot('a', 0));
    n.run((m) => {
      if (m.from === 'a' && peekKind(m.bytes) === 'doc-deltas') {
        const d = decodeMessage(m.bytes);
        if (d.kind === 'doc-deltas') perMessage.push(d.entries.length);
      }
      return 'deliver';
    });
    expect(perMessage.sort((x, y) => x - y)).toEqual([1, 1, 1, 1, 1, 10]);
    for (let i = 0; i < 5; i++) expect(n.node('b').docs.doc(`agent/big-${i}`).getText('t').length).toBe(2 * ALONE_UPDATE_BYTES);
    expect(Buffer.from(n.node('b').engine.rootDigest())).toEqual(Buffer.from(n.node('a').engine.rootDigest()));
    expect(n.eventsOf('b', 'synced')).toMatchObject([{ mode: 'full_snapshot' }]);
  });

  it('the lone entry is not decoded by validation, and when malformed its message changes nothing', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'y'.repeat(ALONE_UPDATE_BYTES));
    const good = Y.encodeStateAsUpdate(doc);
    const bad = good.slice(0, good.byteLength - 7);
    const entry: DocDeltaEntry = { id: 'agent/x', update: bad };
    expect(travelsAlone(entry)).toBe(true);
    expect(travelsAlone({ id: 'agent/y', update: good.subarray(0, 10) })).toBe(false);
    // Validation leaves a message's first entry to DocSet.apply...
    expect(() => checkPayloads({ kind: 'doc-deltas', session: 1, mode: 'full_snapshot', reply: true, entries: [entry] })).not.toThrow();
    // ...which refuses it whole: nothing of it is applied (DocSet.apply's contract, as for the
    // first entry of any message).
    const n = new LoopbackNet<YDocSet>();
    n.add('b', new YDocSet());
    const b = n.node('b');
    expect(() => b.engine.handle('a', encodeMessage({ kind: 'doc-deltas', session: 1, mode: 'delta_only', reply: false, entries: [entry] }), 0)).toThrow(DecodeError);
    expect(b.docs.has('agent/x') ? b.docs.doc('agent/x').getText('t').length : 0).toBe(0);
  });
});
