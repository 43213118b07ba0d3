// Coalesced continuous pushes: a turn's updates of many documents leave as one `updates` message
// per peer and come back as one `acks`; each push is still stored or refused on its own (a bad
// one is refused whole and not acknowledged, the others are), names and resends still work.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MEMORY_SCHEMA } from '../../crdt/memory-schema.js';
import { DecodeError } from '../../src/errors.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { decodeMessage, encodeMessage, peekKind, type SyncMessage } from '../../src/sync/messages.js';
import type { SyncEffect } from '../../src/sync/types.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

interface Node {
  docs: YDocSet;
  engine: SyncEngine;
}

function node(coalesce: boolean, peers: string[], opts: { maxMessageBytes?: number; word?: number } = {}): Node {
  const docs = new YDocSet(() => MEMORY_SCHEMA);
  const engine = new SyncEngine({ docs, config: { coalescePushes: coalesce, ...(opts.maxMessageBytes ? { maxMessageBytes: opts.maxMessageBytes } : {}) }, ackWord: () => opts.word ?? 0 });
  for (const p of peers) engine.addPeer(p);
  return { docs, engine };
}

function sends(effects: SyncEffect[], peer?: string): Array<{ peer: string; bytes: Uint8Array }> {
  return effects.flatMap((e) => (e.type === 'send' && (peer === undefined || e.peer === peer) ? [{ peer: e.peer, bytes: e.bytes }] : []));
}

/** A node that pushes every local write (as a node's memory service does) and keeps the effects. */
function writer(coalesce: boolean, peers: string[], opts: { maxMessageBytes?: number } = {}): Node & { effects: SyncEffect[]; write: (docId: string, i: number) => void } {
  const n = node(coalesce, peers, opts);
  const effects: SyncEffect[] = [];
  n.docs.onLocalUpdate((id, update, origin) => effects.push(...n.engine.localUpdate(id, update, origin)));
  return {
    ...n,
    effects,
    write: (docId, i) => {
      const doc = n.docs.doc(docId);
      doc.transact(() => {
        const ep = new Y.Map<unknown>();
        doc.getMap('episodes').set(`ep-${i}`, ep);
        ep.set('task', `task ${i}`);
      });
    },
  };
}

describe('updates / acks messages', () => {
  it('round-trip, by name, by number and with definitions', () => {
    const msgs: SyncMessage[] = [
      { kind: 'updates', entries: [{ requestId: 7, docId: 'agent/a', update: Uint8Array.of(0, 0) }, { requestId: 300, docId: 'agent/b', update: Uint8Array.of(1, 2, 3) }] },
      { kind: 'acks', requestIds: [1, 2, 70_000] },
      { kind: 'acks', requestIds: [5], word: 0x1234 },
    ];
    for (const m of msgs) expect(decodeMessage(encodeMessage(m))).toEqual(m);
    expect(peekKind(encodeMessage(msgs[0]!))).toBe('updates');
    expect(peekKind(encodeMessage(msgs[1]!))).toBe('acks');
  });

  it('malformed ones raise DecodeError', () => {
    const good = encodeMessage({ kind: 'updates', entries: [{ requestId: 1, docId: 'x', update: Uint8Array.of(0, 0) }] });
    const acks = encodeMessage({ kind: 'acks', requestIds: [1, 2] });
    const bad = [
      good.subarray(0, good.length - 1), // truncated update
      Uint8Array.of(...good, 0), // trailing byte
      Uint8Array.of(good[0]!, 0), // zero pushes
      Uint8Array.of(good[0]!, 200), // count beyond the message
      Uint8Array.of(acks[0]!, 0, 0), // zero acks
      acks.subarray(0, acks.length - 1),
    ];
    for (const b of bad) expect(() => decodeMessage(b)).toThrow(DecodeError);
    expect(() => encodeMessage({ kind: 'updates', entries: [] })).toThrow(RangeError);
    expect(() => encodeMessage({ kind: 'acks', requestIds: [] })).toThrow(RangeError);
  });
});

describe('coalesced pushes', () => {
  it('a turn of writes to many documents is one message per peer and one acks back', () => {
    const a = writer(true, ['b', 'c']);
    const b = node(false, ['a'], { word: 9 });
    const c = node(false, ['a']);
    for (let i = 0; i < 5; i++) a.write(`agent/x${i}`, i);
    // Staged: only the 'pushed' events so far, one per write, each naming both peers.
    expect(sends(a.effects)).toEqual([]);
    const pushed = a.effects.filter((e) => e.type === 'pushed');
    expect(pushed.map((e) => (e.type === 'pushed' ? e.peers : []))).toEqual(Array(5).fill(['b', 'c']));
    const out = a.engine.flushPushes(1);
    expect(sends(out).map((s) => s.peer).sort()).toEqual(['b', 'c']);
    expect(a.engine.stats().sent.updates?.messages).toBe(2);
    expect(a.engine.stats().sent.update).toBeUndefined();
    expect(a.engine.flushPushes(2)).toEqual([]); // nothing staged twice

    const fromB = b.engine.handle('a', sends(out, 'b')[0]!.bytes, 1);
    expect(sends(fromB)).toHaveLength(1);
    const ack = decodeMessage(sends(fromB)[0]!.bytes);
    const ids = pushed.map((e) => (e.type === 'pushed' ? e.requestId : -1));
    expect(ack).toEqual({ kind: 'acks', requestIds: ids, word: 9 });
    for (let i = 0; i < 5; i++) expect(b.docs.doc(`agent/x${i}`).getMap('episodes').has(`ep-${i}`)).toBe(true);

    const acked = a.engine.handle('b', sends(fromB)[0]!.bytes, 2);
    expect(acked).toEqual(ids.map((requestId) => ({ type: 'ack', peer: 'b', requestId, word: 9 })));
    // The definitions the message carried count as known once acked: the next push is by number (smaller).
    a.write('agent/x0', 100);
    const next = sends(a.engine.flushPushes(3), 'b')[0]!.bytes;
    expect(peekKind(next)).toBe('update');
    expect(sends(b.engine.handle('a', next, 3))).toHaveLength(1);
    expect(b.docs.doc('agent/x0').getMap('episodes').has('ep-100')).toBe(true);
    expect(sends(c.engine.handle('a', sends(out, 'c')[0]!.bytes, 1))).toHaveLength(1);
  });

  it('one push is a plain update (what an uncoalesced sender sends), and coalescing off sends at once', () => {
    const a = writer(true, ['b']);
    a.write('agent/one', 1);
    const one = sends(a.engine.flushPushes(1));
    expect(one.map((s) => peekKind(s.bytes))).toEqual(['update']);
    const plain = writer(false, ['b']);
    plain.write('agent/one', 1);
    plain.write('agent/two', 2);
    expect(sends(plain.effects).map((s) => peekKind(s.bytes))).toEqual(['update', 'update']);
    expect(plain.engine.flushPushes(1)).toEqual([]);
  });

  it('a schema-violating or malformed push is refused whole and not acknowledged; the rest of the message is stored and acked', () => {
    const b = node(false, ['a']);
    const good1 = new Y.Doc();
    good1.getMap('episodes').set('e1', 'one');
    const evil = new Y.Doc();
    evil.getMap('not-a-root').set('x', 'y'); // outside MEMORY_SCHEMA
    const good2 = new Y.Doc();
    good2.getMap('episodes').set('e2', 'two');
    const bytes = encodeMessage({
      kind: 'updates',
      entries: [
        { requestId: 1, docId: 'agent/g1', update: Y.encodeStateAsUpdate(good1) },
        { requestId: 2, docId: 'agent/evil', update: Y.encodeStateAsUpdate(evil) },
        { requestId: 3, docId: 'agent/junk', update: Uint8Array.of(9, 9, 9, 9) },
        { requestId: 4, docId: 'agent/g2', update: Y.encodeStateAsUpdate(good2) },
      ],
    });
    const out = b.engine.handle('a', bytes, 1);
    expect(sends(out).map((s) => decodeMessage(s.bytes))).toEqual([{ kind: 'acks', requestIds: [1, 4] }]);
    expect(b.engine.refusedPushes()).toBe(2);
    expect(b.docs.doc('agent/g1').getMap('episodes').get('e1')).toBe('one');
    expect(b.docs.doc('agent/g2').getMap('episodes').get('e2')).toBe('two');
    expect(b.docs.doc('agent/evil').share.size).toBe(0);
    expect(Y.encodeStateVector(b.docs.doc('agent/evil'))).toEqual(Y.encodeStateVector(new Y.Doc()));
    expect(b.docs.doc('agent/junk').store.clients.size).toBe(0);
  });

  it('a receiver that lost our numbering gets every push of the message again', () => {
    const a = writer(true, ['b']);
    let b = node(false, ['a']);
    // First round defines the names and b acks it: later pushes go by number.
    for (let i = 0; i < 3; i++) a.write(`agent/r${i}`, i);
    const first = sends(a.engine.flushPushes(1))[0]!.bytes;
    a.engine.handle('b', sends(b.engine.handle('a', first, 1))[0]!.bytes, 1);
    for (let i = 0; i < 3; i++) a.write(`agent/r${i}`, 10 + i);
    const numbered = sends(a.engine.flushPushes(2))[0]!.bytes;
    expect(numbered.byteLength).toBeLessThan(first.byteLength);
    b = node(false, ['a']); // b restarted: it cannot resolve the numbers
    const refusal = sends(b.engine.handle('a', numbered, 2));
    expect(refusal.map((s) => peekKind(s.bytes))).toEqual(['unknown-ref']);
    const resent = sends(a.engine.handle('b', refusal[0]!.bytes, 2));
    expect(resent.map((s) => peekKind(s.bytes))).toEqual(['update', 'update', 'update']);
    const acks: number[] = [];
    for (const s of resent) {
      for (const r of sends(b.engine.handle('a', s.bytes, 3))) {
        if (peekKind(r.bytes) !== 'ack') continue;
        const m = decodeMessage(r.bytes);
        if (m.kind === 'ack') acks.push(m.requestId);
      }
    }
    expect(acks).toHaveLength(3);
    // Stored (and acknowledged) while waiting on the first pushes, which the restarted b lost; once those arrive, all integrate.
    b.engine.handle('a', first, 4);
    for (let i = 0; i < 3; i++) expect(b.docs.doc(`agent/r${i}`).getMap('episodes').has(`ep-${10 + i}`)).toBe(true);
  });

  it('a coalescing receiver stages its acks until takeAcks (the group commit), then sends one per peer', () => {
    const a = writer(true, ['b']);
    const b = node(true, ['a'], { word: 3 });
    a.write('agent/k1', 1);
    a.write('agent/k2', 2);
    const first = sends(a.engine.flushPushes(1))[0]!.bytes;
    a.write('agent/k3', 3);
    const second = sends(a.engine.flushPushes(2))[0]!.bytes;
    expect(peekKind(first)).toBe('updates');
    expect(peekKind(second)).toBe('update');
    expect(sends(b.engine.handle('a', first, 2))).toEqual([]);
    expect(sends(b.engine.handle('a', second, 2))).toEqual([]);
    expect(b.engine.hasStagedAcks()).toBe(true);
    const acks = sends(b.engine.takeAcks());
    expect(b.engine.hasStagedAcks()).toBe(false);
    expect(acks.map((x) => x.peer)).toEqual(['a']);
    const ids = a.effects.flatMap((e) => (e.type === 'pushed' ? [e.requestId] : []));
    expect(decodeMessage(acks[0]!.bytes)).toEqual({ kind: 'acks', requestIds: ids, word: 3 });
    expect(b.engine.takeAcks()).toEqual([]);
  });

  it('pushes above the frame limit split into several messages, all acknowledged', () => {
    const a = writer(true, ['b'], { maxMessageBytes: 300 });
    const b = node(false, ['a'], { maxMessageBytes: 300 });
    for (let i = 0; i < 12; i++) a.write(`agent/s${i}`, i);
    const out = sends(a.engine.flushPushes(1));
    expect(out.length).toBeGreaterThan(1);
    expect(out.length).toBeLessThan(12);
    const acked = new Set<number>();
    for (const s of out) {
      expect(s.bytes.byteLength).toBeLessThanOrEqual(300);
      for (const r of sends(b.engine.handle('a', s.bytes, 1))) for (const e of a.engine.handle('b', r.bytes, 1)) if (e.type === 'ack') acked.add(e.requestId);
    }
    expect(acked.size).toBe(12);
    expect(Buffer.from(a.engine.rootDigest())).toEqual(Buffer.from(b.engine.rootDigest()));
  });
});
