// The sync engine driven through an in-process message loop: byte costs of in-sync and catch-up
// rounds, every sync mode, chunking, pending-update resync, no echo, and malformed input.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DecodeError } from '../../src/errors.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { LoopbackNet } from '../../src/sync/loopback.js';
import { decodeMessage, encodeMessage, peekKind } from '../../src/sync/messages.js';
import type { SyncEvent } from '../../src/sync/types.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

function net(names: string[]): LoopbackNet<YDocSet> {
  const n = new LoopbackNet<YDocSet>();
  for (const name of names) n.add(name, new YDocSet());
  return n;
}

/** An episode-like write: a map entry with a few fields and some text. */
function writeEpisode(docs: YDocSet, docId: string, i: number): void {
  const doc = docs.doc(docId);
  doc.transact(() => {
    const ep = new Y.Map<unknown>();
    doc.getMap('episodes').set(`ep-${i}`, ep);
    ep.set('task', `summarize report ${i}`);
    ep.set('outcome', i % 3 === 0 ? 'ok' : 'retry');
    ep.set('createdAt', 1_700_000_000_000 + i);
    const notes = new Y.Text();
    ep.set('notes', notes);
    notes.insert(0, `note ${i}: the agent read the input and wrote a summary of ${i * 7} words.`);
  });
}

function sameContent(n: LoopbackNet<YDocSet>): boolean {
  const roots = [...n.nodes.values()].map((x) => Buffer.from(x.engine.rootDigest()).toString('hex'));
  return roots.every((r) => r === roots[0]);
}

describe('anti-entropy (delta_only)', () => {
  it.each([1, 512])('an in-sync round costs under 64 bytes with %i documents', (docCount) => {
    const n = net(['a', 'b']);
    for (let i = 0; i < docCount; i++) writeEpisode(n.node('a').docs, `agent-${i}`, i);
    n.run();
    expect(sameContent(n)).toBe(true);
    const bSent = n.node('b').engine.stats().sentBytes;
    const bytes = n.antiEntropy('a', 'b');
    expect(bytes).toBeLessThan(64);
    // One message: the probe. An equal peer does not answer.
    expect(n.node('b').engine.stats().sentBytes).toBe(bSent);
    console.log(`in-sync anti-entropy round, ${docCount} docs: ${bytes} bytes`);
  });

  it.each([1, 512])('catch-up after N missed updates costs at most 1.1x their bytes (%i docs)', (docCount) => {
    const n = net(['a', 'b']);
    for (let i = 0; i < docCount; i++) writeEpisode(n.node('a').docs, `agent-${i}`, i);
    n.run();
    n.continuous = false; // b misses the next updates
    let missed = 0;
    n.node('a').docs.onLocalUpdate((_id, u) => (missed += u.byteLength));
    for (let i = 0; i < 50; i++) writeEpisode(n.node('a').docs, 'agent-0', 10_000 + i);
    const bytes = n.antiEntropy('b', 'a');
    expect(sameContent(n)).toBe(true);
    const ratio = bytes / missed;
    const sent = { ...n.node('a').engine.stats().sent, ...n.node('b').engine.stats().sent };
    const overhead = Object.entries(sent).filter(([k]) => k.startsWith('ae-') || k === 'doc-states').reduce((t, [, c]) => t + c!.bytes, 0);
    console.log(`catch-up, ${docCount} docs, 50 updates of ${missed} bytes: ${bytes} bytes on the wire, ratio ${ratio.toFixed(3)}, digest+state-vector overhead ${overhead} bytes`);
    expect(ratio).toBeLessThanOrEqual(1.1);
  });

  it('exchanges in both directions and lists only differing documents', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    for (let i = 0; i < 100; i++) {
      writeEpisode(n.node('a').docs, `agent-${i}`, i);
      writeEpisode(n.node('b').docs, `agent-${i}`, i + 1000);
    }
    n.antiEntropy('a', 'b');
    expect(sameContent(n)).toBe(true);
    writeEpisode(n.node('b').docs, 'agent-7', 5);
    writeEpisode(n.node('a').docs, 'agent-new', 5);
    n.antiEntropy('a', 'b');
    expect(sameContent(n)).toBe(true);
    const last = n.eventsOf('a', 'synced').at(-1) as Extract<SyncEvent, { type: 'synced' }>;
    expect(last.docs.sort()).toEqual(['agent-7', 'agent-new']);
  });

  it('tick starts rounds every interval, round-robin over peers', () => {
    const n = net(['a', 'b', 'c']);
    const a = n.node('a').engine;
    expect(a.nextDeadline()).toBe(0);
    n.effects('a', a.tick(0));
    expect(a.nextDeadline()).toBe(10_000);
    n.effects('a', a.tick(10_000));
    expect(n.queue.map((m) => `${peekKind(m.bytes)}>${m.to}`)).toEqual(['ae-root>b', 'ae-root>c']);
    n.run();
  });
});

describe('other modes', () => {
  it('full_snapshot pulls everything, and a 10,000-item doc over 1 MB arrives whole in chunks', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    const big = n.node('a').docs.doc('big');
    big.transact(() => {
      const arr = big.getArray<string>('items');
      for (let i = 0; i < 10_000; i++) arr.push([`item ${i} `.padEnd(120, 'x')]);
    });
    for (let i = 0; i < 20; i++) writeEpisode(n.node('a').docs, `agent-${i}`, i);
    const fullSize = Y.encodeStateAsUpdate(big).byteLength;
    expect(fullSize).toBeGreaterThan(1024 * 1024);
    n.effects('b', n.node('b').engine.requestFullSnapshot('a', 0));
    n.run();
    expect(sameContent(n)).toBe(true);
    expect(n.node('b').docs.doc('big').getArray('items').length).toBe(10_000);
    const synced = n.eventsOf('b', 'synced');
    expect(synced).toHaveLength(1);
    expect(synced[0]).toMatchObject({ mode: 'full_snapshot' });
    expect((synced[0] as { docs: string[] }).docs).toHaveLength(21);
    expect(n.node('a').engine.stats().received.chunk).toBeUndefined();
    expect(n.node('b').engine.stats().received.chunk!.messages).toBeGreaterThanOrEqual(2);
  });

  it('documents the puller holds equally already are skipped (not validated, not applied): a rejoin snapshot after anti-entropy', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    for (let i = 0; i < 12; i++) writeEpisode(n.node('a').docs, `agent-${i}`, i);
    n.effects('b', n.node('b').engine.startAntiEntropy('a', 0));
    n.run();
    expect(sameContent(n)).toBe(true);
    // a moves on in two documents; b then pulls a full snapshot (as a re-admitted node does).
    writeEpisode(n.node('a').docs, 'agent-3', 100);
    writeEpisode(n.node('a').docs, 'agent-new', 101);
    const applied: string[] = [];
    const bDocs = n.node('b').docs;
    const apply = bDocs.apply.bind(bDocs);
    bDocs.apply = (id, update, origin) => (applied.push(id), apply(id, update, origin));
    n.effects('b', n.node('b').engine.requestFullSnapshot('a', 0));
    n.run();
    expect(sameContent(n)).toBe(true);
    expect(applied.sort()).toEqual(['agent-3', 'agent-new']);
    const synced = n.eventsOf('b', 'synced');
    expect((synced.at(-1) as { mode: string; docs: string[] }).docs).toHaveLength(13); // the snapshot still completes
  });

  it('reassembles chunks delivered out of order and duplicated', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    const big = n.node('a').docs.doc('big');
    big.getText('t').insert(0, 'y'.repeat(2_500_000));
    n.effects('b', n.node('b').engine.syncDocument('a', 'big', 0));
    n.run(undefined, 1); // the request reaches a, whose answer is three chunks
    expect(n.queue.length).toBe(3);
    n.queue.reverse();
    n.run((m) => (m.from === 'a' ? 'duplicate' : 'deliver'));
    expect(n.node('b').docs.doc('big').getText('t').length).toBe(2_500_000);
    expect(n.eventsOf('b', 'synced')).toMatchObject([{ mode: 'on_demand', docs: ['big'] }]);
  });

  it('bounds reassembly buffers per peer and expires unfinished messages', () => {
    const n = new LoopbackNet<YDocSet>();
    n.continuous = false;
    n.add('a', new YDocSet(), { maxMessageBytes: 10_000 });
    n.add('b', new YDocSet(), { reassembly: { maxMessageBytes: 1 << 20, maxBufferedBytesPerPeer: 100_000, timeoutMs: 5_000 } });
    n.effects('b', n.node('b').engine.tick(0)); // next anti-entropy round at 10 s
    n.run();
    n.node('a').docs.doc('big').getText('t').insert(0, 'z'.repeat(300_000));
    n.effects('b', n.node('b').engine.syncDocument('a', 'big', 0));
    n.run();
    expect(n.decodeErrors.length).toBeGreaterThan(0);
    expect(n.decodeErrors[0]!.error.name).toBe('OversizeError');
    expect(n.node('b').docs.has('big')).toBe(false);
    // A message left half-sent is dropped once it is older than the timeout.
    const b = n.node('b').engine;
    n.node('a').docs.doc('mid').getText('t').insert(0, 'm'.repeat(50_000));
    n.effects('b', b.syncDocument('a', 'mid', 0));
    n.run(undefined, 1);
    n.queue.pop(); // the last chunk never arrives
    n.run();
    expect(b.nextDeadline()).toBe(5_000);
    b.tick(5_000);
    expect(b.nextDeadline()).toBe(10_000);
  });

  it('counts bytes per message kind', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    n.run();
    n.antiEntropy('a', 'b');
    const sa = n.node('a').engine.stats();
    const sb = n.node('b').engine.stats();
    expect(sa.sent.update!.messages).toBe(1);
    expect(sb.received.update!.bytes).toBe(sa.sent.update!.bytes);
    expect(sa.sent['ae-root']!.bytes).toBe(18);
    expect(sb.sent['ae-done']).toBeUndefined(); // in sync: b does not answer
    expect(sa.sentBytes + sb.sentBytes).toBe(n.wireBytes);
  });

  it('on_demand pulls one document only', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    writeEpisode(n.node('a').docs, 'x', 1);
    writeEpisode(n.node('a').docs, 'y', 2);
    n.effects('b', n.node('b').engine.syncDocument('a', 'x', 0));
    n.run();
    expect(n.node('b').docs.ids()).toEqual(['x']);
    expect(n.node('b').docs.digest('x')).toEqual(n.node('a').docs.digest('x'));
  });

  it('continuous pushes carry a request id and the receiver acks it after applying', () => {
    const n = net(['a', 'b', 'c']);
    writeEpisode(n.node('a').docs, 'x', 1);
    const pushed = n.eventsOf('a', 'pushed')[0] as Extract<SyncEvent, { type: 'pushed' }>;
    expect(pushed.peers).toEqual(['b', 'c']);
    n.run();
    expect(n.eventsOf('a', 'ack')).toEqual([
      { type: 'ack', peer: 'b', requestId: pushed.requestId, word: 0 },
      { type: 'ack', peer: 'c', requestId: pushed.requestId, word: 0 },
    ]);
    expect(sameContent(n)).toBe(true);
  });
});

describe('faults', () => {
  it('never echoes an update back to its origin (with and without relaying)', () => {
    for (const relay of [false, true]) {
      const n = new LoopbackNet<YDocSet>();
      for (const name of ['a', 'b', 'c']) n.add(name, new YDocSet(), { relayRemoteUpdates: relay });
      writeEpisode(n.node('a').docs, 'x', 1);
      const sentTo: string[] = [];
      n.run((m) => {
        if (peekKind(m.bytes) === 'update') sentTo.push(`${m.from}>${m.to}`);
        return 'deliver';
      });
      expect(sentTo.filter((s) => s.endsWith('>a'))).toEqual([]);
      expect(sentTo.sort()).toEqual(relay ? ['a>b', 'a>c', 'b>c', 'c>b'] : ['a>b', 'a>c']);
      expect(sameContent(n)).toBe(true);
    }
  });

  it('an update stuck pending triggers a resync of that document with that peer', () => {
    const n = net(['a', 'b']);
    for (let i = 0; i < 3; i++) writeEpisode(n.node('a').docs, 'x', i);
    // Drop the first two pushes: the third depends on them and stays pending at b.
    let k = 0;
    n.run((m) => (m.from === 'a' && k++ < 2 ? 'drop' : 'deliver'));
    expect(n.eventsOf('b', 'resync')).toEqual([{ type: 'resync', peer: 'a', docId: 'x' }]);
    expect(n.eventsOf('b', 'synced')).toMatchObject([{ peer: 'a', mode: 'resync', docs: ['x'] }]);
    expect(sameContent(n)).toBe(true);
    expect(n.node('b').docs.doc('x').store.pendingStructs).toBeNull();
  });

  it('malformed messages raise DecodeError and change nothing', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    n.run();
    const b = n.node('b');
    const before = b.engine.rootDigest().slice();
    const good = encodeMessage({ kind: 'update', requestId: 9, docId: 'x', update: Uint8Array.of(1, 1, 200, 1, 0, 4, 1) });
    for (const bad of [Uint8Array.of(), Uint8Array.of(99), good.subarray(0, good.length - 2), good]) {
      expect(() => b.engine.handle('a', bad, 0)).toThrow(DecodeError);
    }
    // A message with one good and one bad entry is dropped whole.
    const fresh = new Y.Doc();
    fresh.getText('t').insert(0, 'would change b');
    const valid = Y.encodeStateAsUpdate(fresh);
    const mixed = [{ id: 'x', update: valid }, { id: 'y', update: Uint8Array.of(7, 7, 7) }];
    expect(() => b.engine.handle('a', encodeMessage({ kind: 'doc-deltas', session: 1, mode: 'delta_only', reply: false, entries: mixed }), 0)).toThrow(DecodeError);
    expect(() => b.engine.handle('a', encodeMessage({ kind: 'doc-states', session: 1, mode: 'delta_only', entries: [{ id: 'x', sv: Uint8Array.of(5, 1) }] }), 0)).toThrow(DecodeError);
    expect(b.engine.rootDigest()).toEqual(before);
    expect(b.docs.ids()).toEqual(['x']);
  });

  it('sessions that get no answer time out; a lost anti-entropy probe is just a lost round', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    n.queue.length = 0;
    n.effects('a', n.node('a').engine.tick(100)); // the periodic round, at once
    n.effects('a', n.node('a').engine.syncDocument('b', 'x', 100));
    n.queue.length = 0; // both lost
    expect(n.node('a').engine.tick(100 + 29_999).filter((e) => e.type === 'sync-timeout')).toEqual([]);
    // The probe expires quietly (silence is also what an equal peer answers); on_demand reports.
    expect(n.node('a').engine.tick(100 + 30_000).filter((e) => e.type === 'sync-timeout')).toEqual([{ type: 'sync-timeout', peer: 'b', mode: 'on_demand', docs: ['x'] }]);
    // The next round still repairs: nothing waited on the lost one.
    n.antiEntropy('a', 'b');
    expect(sameContent(n)).toBe(true);
  });

  it('a lost answer in a differing round only costs that round', () => {
    const n = net(['a', 'b']);
    n.continuous = false;
    writeEpisode(n.node('a').docs, 'x', 1);
    writeEpisode(n.node('b').docs, 'x', 2);
    n.effects('a', n.node('a').engine.startAntiEntropy('b', 0));
    n.run((m) => (m.from === 'b' ? 'drop' : 'deliver')); // b's ae-docs lost
    expect(sameContent(n)).toBe(false);
    n.effects('a', n.node('a').engine.startAntiEntropy('b', 0));
    n.run((m) => (peekKind(m.bytes) === 'doc-deltas' && m.from === 'a' ? 'drop' : 'deliver')); // a's deltas lost
    expect(sameContent(n)).toBe(false);
    n.antiEntropy('a', 'b');
    expect(sameContent(n)).toBe(true);
  });

  it('a differing round where the initiator is ahead takes three messages and b does not answer the deltas', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    n.run();
    n.continuous = false;
    for (let i = 0; i < 5; i++) writeEpisode(n.node('a').docs, 'x', 10 + i);
    const kinds: string[] = [];
    n.effects('a', n.node('a').engine.startAntiEntropy('b', 0));
    n.run((m) => (kinds.push(`${m.from}:${peekKind(m.bytes)}`), 'deliver'));
    expect(kinds).toEqual(['a:ae-root', 'b:ae-docs', 'a:doc-deltas']);
    expect(sameContent(n)).toBe(true);
    expect(n.eventsOf('a', 'synced').at(-1)).toMatchObject({ peer: 'b', mode: 'delta_only', docs: ['x'] });
  });
});

describe('document numbers', () => {
  it('a push names its document in full until the peer acknowledged it, then by number', () => {
    const n = net(['a', 'b']);
    const id = 'agent/a-rather-long-agent-name-for-this-test';
    const sizes: number[] = [];
    const record = (m: { from: string; bytes: Uint8Array }) => {
      if (m.from === 'a' && peekKind(m.bytes) === 'update') sizes.push(m.bytes.byteLength - (decodeMessage(m.bytes, { table: () => new Map([[0, id]]) }) as { update: Uint8Array }).update.byteLength);
      return 'deliver' as const;
    };
    n.node('a').docs.doc(id).getText('t').insert(0, 'one');
    n.run(record);
    n.node('a').docs.doc(id).getText('t').insert(0, 'two');
    n.run(record);
    expect(sizes[0]).toBeGreaterThan(id.length + 4);
    expect(sizes[1]).toBeLessThanOrEqual(4); // kind, tag, request id, number
    expect(n.eventsOf('a', 'ack')).toHaveLength(2);
    expect(sameContent(n)).toBe(true);
  });

  it('a receiver that lost the numbering answers unknown-ref; the sender resends in full and gets its ack', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    n.run();
    // b forgets a (its tables go); a still believes b knows its numbers.
    n.node('b').engine.removePeer('a');
    n.node('b').engine.addPeer('a');
    writeEpisode(n.node('a').docs, 'x', 2);
    const pushed = n.eventsOf('a', 'pushed').at(-1) as Extract<SyncEvent, { type: 'pushed' }>;
    const kinds: string[] = [];
    n.run((m) => (kinds.push(`${m.from}:${peekKind(m.bytes)}`), 'deliver'));
    expect(kinds).toEqual(['a:update', 'b:unknown-ref', 'a:update', 'b:ack']);
    expect(n.eventsOf('a', 'ack').at(-1)).toEqual({ type: 'ack', peer: 'b', requestId: pushed.requestId, word: 0 });
    expect(sameContent(n)).toBe(true);
    expect(n.decodeErrors).toEqual([]);
  });

  it('a restarted node pulls a full snapshot in one round from a peer that still numbers documents for its previous life', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    writeEpisode(n.node('b').docs, 'y', 1);
    n.run();
    writeEpisode(n.node('a').docs, 'x', 2);
    writeEpisode(n.node('b').docs, 'y', 2);
    n.run(); // now a names x by its own number and y by b's, both acknowledged
    // b restarts (same store, new engine and numbering) before a ever hears it was gone; a writes meanwhile.
    n.continuous = false;
    const b = n.node('b');
    n.nodes.set('b', { ...b, engine: new SyncEngine({ docs: b.docs, epoch: 777 }) });
    n.node('b').engine.addPeer('a');
    writeEpisode(n.node('a').docs, 'x', 3);
    writeEpisode(n.node('a').docs, 'y', 3);
    const kinds: string[] = [];
    n.effects('b', n.node('b').engine.requestFullSnapshot('a', 0));
    n.run((m) => (kinds.push(`${m.from}:${peekKind(m.bytes)}`), 'deliver'));
    expect(kinds).not.toContain('b:unknown-ref');
    expect(n.eventsOf('b', 'synced').at(-1)).toMatchObject({ mode: 'full_snapshot' });
    expect(sameContent(n)).toBe(true);
    expect(n.decodeErrors).toEqual([]);
  });

  it('a restarted sender (new epoch) reusing numbers for other documents is never misread', () => {
    const n = net(['a', 'b']);
    writeEpisode(n.node('a').docs, 'x', 1);
    writeEpisode(n.node('a').docs, 'y', 1);
    n.run();
    // a restarts: a new engine over the same documents numbers 'y' first.
    const a2 = new SyncEngine({ docs: n.node('a').docs, epoch: 12345 });
    a2.addPeer('b');
    const docs = n.node('a').docs;
    n.continuous = false; // only the new engine pushes
    docs.doc('y').getText('t').insert(0, 'after restart');
    const u = Y.encodeStateAsUpdate(docs.doc('y'));
    n.effects('a', a2.localUpdate('y', u, null));
    n.run();
    expect(n.node('b').docs.doc('y').getText('t').toString()).toBe('after restart');
    expect(n.node('b').docs.doc('x').getText('t').toString()).toBe('');
  });
});
