// The per-document digest: equal exactly when replicas hold the same structs and deletes.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { computeDocDigest, docDigest, docDigestHex } from '../../crdt/doc-digest.js';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { seeded } from '../lib/seeded.js';

function pair(): [AgentMemoryDoc, AgentMemoryDoc, string] {
  const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
  const b = new AgentMemoryDoc({ node: 'b', random: seeded(2) });
  const id = a.addEpisode({ task: 't', outcome: 'o', note: 'hello', tags: ['x', 'y'] }, { now: 1 });
  b.applyRemote(a.deltaSince(b.stateVector()), 'a');
  return [a, b, id];
}

const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

describe('docDigest', () => {
  it('is equal for replicas in the same state and differs after a write', () => {
    const [a, b, id] = pair();
    expect(docDigestHex(a.doc)).toBe(docDigestHex(b.doc));
    b.appendNote(id, '!');
    expect(docDigestHex(a.doc)).not.toBe(docDigestHex(b.doc));
    a.applyRemote(b.deltaSince(a.stateVector()), 'b');
    expect(docDigestHex(a.doc)).toBe(docDigestHex(b.doc));
  });

  it('tells apart two docs with the same state vector but different deletes', () => {
    const [a, b, id] = pair();
    a.untag(id, 'x'); // a delete only: no new struct, so the state vector stays the same
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc));
    expect(hex(docDigest(a.doc))).not.toBe(hex(docDigest(b.doc)));
    b.applyRemote(a.deltaSince(b.stateVector()), 'a');
    expect(hex(docDigest(a.doc))).toBe(hex(docDigest(b.doc)));
  });

  it('does not depend on how text structs were split (typed in pieces vs received whole)', () => {
    const a = new Y.Doc();
    a.clientID = 7;
    const text = a.getMap('episodes').set('t', new Y.Text());
    text.insert(0, 'abcdef');
    text.delete(1, 2);
    text.delete(3, 1);
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    expect(hex(computeDocDigest(a))).toBe(hex(computeDocDigest(b)));
  });

  it('cache follows changes: always equal to an uncached computation', () => {
    const [a, , id] = pair();
    const first = hex(docDigest(a.doc));
    expect(hex(docDigest(a.doc))).toBe(first);
    a.increment(id, 'uses', 1);
    expect(hex(docDigest(a.doc))).not.toBe(first);
    expect(hex(docDigest(a.doc))).toBe(hex(computeDocDigest(a.doc)));
  });
});
