// The y-websocket session core (src/yjs/session.ts) with a fake port: no sockets, no node.
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { describe, expect, it } from 'vitest';
import { CLOSE, YSession, type SessionPort, type WriteOutcome } from '../../src/yjs/session.js';
import { AwarenessTable } from '../../src/yjs/awareness-table.js';
import { decodeAwarenessUpdate, encodeAwareness, encodeAwarenessUpdate, encodeSyncStep1, encodeSyncStep2, encodeUpdate } from '../../src/yjs/wire.js';

interface Sent {
  type: number;
  sub?: number;
  data?: Uint8Array;
  reason?: string;
}

function parse(frame: Uint8Array): Sent {
  const d = decoding.createDecoder(frame);
  const type = decoding.readVarUint(d);
  if (type === 0) {
    const sub = decoding.readVarUint(d);
    return { type, sub, data: decoding.readVarUint8Array(d) };
  }
  if (type === 1) return { type, data: decoding.readVarUint8Array(d) };
  if (type === 2) {
    decoding.readVarUint(d);
    return { type, reason: decoding.readVarString(d) };
  }
  return { type };
}

function harness(opts: { readOnly?: boolean; outcome?: () => Promise<WriteOutcome> } = {}) {
  const doc = new Y.Doc();
  const sent: Sent[] = [];
  const closed: Array<{ code: number; reason: string }> = [];
  const writes: Uint8Array[] = [];
  const awareness: number[] = [];
  const port: SessionPort = {
    send: (f) => sent.push(parse(f)),
    close: (code, reason) => closed.push({ code, reason }),
    stateVector: () => Y.encodeStateVector(doc),
    diff: (sv) => Y.encodeStateAsUpdate(doc, sv),
    addsNothing: (u) => Y.snapshotContainsUpdate(Y.snapshot(doc), u),
    write: (u) => {
      writes.push(u);
      if (opts.outcome) return opts.outcome();
      Y.applyUpdate(doc, u);
      return Promise.resolve({ kind: 'stored' });
    },
    awareness: (entries) => awareness.push(...entries.map((e) => e.clientId)),
    awarenessStates: () => [],
  };
  const session = new YSession(port, { token: opts.readOnly === true }, { maxUpdateBytes: 1 << 20, maxQueuedFrames: 4, maxInFlight: 8 });
  return { doc, sent, closed, writes, awareness, session };
}

function clientUpdate(text: string): Uint8Array {
  const d = new Y.Doc();
  d.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(d);
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('y-websocket session core', () => {
  it('queues frames until the document is loaded, then sends SyncStep1 first and answers what was queued', () => {
    const h = harness();
    h.doc.getText('t').insert(0, 'server');
    h.session.frame(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())));
    expect(h.sent).toEqual([]); // never answered from a document not yet loaded
    h.session.loaded();
    expect(h.sent.map((s) => [s.type, s.sub])).toEqual([[0, 0], [0, 1]]);
    const d = new Y.Doc();
    Y.applyUpdate(d, h.sent[1]!.data!);
    expect(d.getText('t').toString()).toBe('server');
  });

  it('answers a SyncStep1 with a SyncStep2 at any time', () => {
    const h = harness();
    h.session.loaded();
    h.doc.getText('t').insert(0, 'later');
    h.session.frame(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())));
    expect(h.sent.at(-1)!.sub).toBe(1);
  });

  it('echoes a client update only once its write resolved, in the order sent', async () => {
    const gates: Array<(o: WriteOutcome) => void> = [];
    const h = harness({ outcome: () => new Promise((r) => gates.push(r)) });
    h.session.loaded();
    const u1 = clientUpdate('one');
    const u2 = clientUpdate('two');
    h.session.frame(encodeUpdate(u1));
    h.session.frame(encodeSyncStep2(u2));
    await flush();
    expect(h.sent.filter((s) => s.sub === 2)).toEqual([]);
    gates[1]!({ kind: 'stored' });
    await flush();
    expect(h.sent.filter((s) => s.sub === 2)).toEqual([]); // the second waits for the first
    gates[0]!({ kind: 'stored' });
    await flush();
    expect(h.sent.filter((s) => s.sub === 2).map((s) => s.data)).toEqual([u1, u2]);
  });

  it('a refused update: permission denied with the reason, then the close code', async () => {
    const h = harness({ outcome: () => Promise.resolve({ kind: 'refused', code: CLOSE.schema, reason: 'update refused whole: foreign root' }) });
    h.session.loaded();
    h.session.frame(encodeUpdate(clientUpdate('x')));
    await flush();
    expect(h.sent.at(-1)).toEqual({ type: 2, reason: 'update refused whole: foreign root' });
    expect(h.closed).toEqual([{ code: 4422, reason: 'update refused whole: foreign root' }]);
  });

  it('no quorum: the client is told once, not echoed, and asked for its state again by retry()', async () => {
    const h = harness({ outcome: () => Promise.resolve({ kind: 'no-quorum' }) });
    h.session.loaded();
    h.session.frame(encodeUpdate(clientUpdate('a')));
    h.session.frame(encodeUpdate(clientUpdate('b')));
    await flush();
    expect(h.sent.filter((s) => s.type === 2).length).toBe(1);
    expect(h.sent.filter((s) => s.sub === 2)).toEqual([]);
    const before = h.sent.length;
    h.session.retry();
    expect(h.sent.slice(before).map((s) => [s.type, s.sub])).toEqual([[0, 0]]);
    h.session.retry(); // nothing unapplied since
    expect(h.sent.length).toBe(before + 1);
  });

  it('a read-only token: nothing written; told once when an update would change something, silent on an empty resync', () => {
    const h = harness({ readOnly: true });
    h.session.loaded();
    h.session.frame(encodeSyncStep2(Y.encodeStateAsUpdate(new Y.Doc())));
    expect(h.sent.filter((s) => s.type === 2)).toEqual([]);
    h.session.frame(encodeUpdate(clientUpdate('x')));
    h.session.frame(encodeUpdate(clientUpdate('y')));
    expect(h.writes).toEqual([]);
    expect(h.sent.filter((s) => s.type === 2).map((s) => s.reason)).toEqual(['read-only token: your updates are not applied']);
  });

  it('malformed frames close with 4400, an oversized update with 4413, too many queued frames with 1013', () => {
    for (const bad of [new Uint8Array([7]), new Uint8Array([0, 2, 50, 1]), new Uint8Array([0, 0, 5, 255, 255, 255, 255, 255])]) {
      const h = harness();
      h.session.loaded();
      h.session.frame(bad);
      expect(h.closed[0]?.code, String(bad)).toBe(4400);
    }
    const big = harness();
    big.session.loaded();
    big.session.frame(encodeUpdate(new Uint8Array((1 << 20) + 1)));
    expect(big.closed[0]?.code).toBe(4413);
    const early = harness();
    for (let i = 0; i < 5; i++) early.session.frame(encodeSyncStep1(new Uint8Array([0])));
    expect(early.closed[0]?.code).toBe(1013);
  });

  it('awareness from the client goes to the port; non-JSON states are refused', () => {
    const h = harness();
    h.session.loaded();
    h.session.frame(encodeAwareness(encodeAwarenessUpdate([{ clientId: 5, clock: 1, state: '{"u":1}' }])));
    expect(h.awareness).toEqual([5]);
    h.session.frame(encodeAwareness(encodeAwarenessUpdate([{ clientId: 6, clock: 1, state: '{nope' }])));
    expect(h.closed[0]?.code).toBe(4400);
  });
});

describe('awareness table', () => {
  it('takes newer clocks, a removal at the same clock, and nothing older', () => {
    const t = new AwarenessTable();
    expect(t.apply('c1', [{ clientId: 1, clock: 2, state: '{"a":1}' }], 0)).toHaveLength(1);
    expect(t.apply('c1', [{ clientId: 1, clock: 1, state: '{"a":0}' }], 0)).toHaveLength(0);
    expect(t.apply('c1', [{ clientId: 1, clock: 2, state: 'null' }], 0)).toHaveLength(1);
    expect(t.live()).toEqual([]);
  });

  it('expires states not renewed in 30 s, and removes a closed owner\'s clients', () => {
    const t = new AwarenessTable();
    t.apply('c1', [{ clientId: 1, clock: 1, state: '{}' }], 0);
    t.apply('c2', [{ clientId: 2, clock: 1, state: '{}' }], 20_000);
    expect(t.expire(29_999)).toEqual([]);
    expect(t.expire(30_000)).toEqual([{ clientId: 1, clock: 2, state: 'null' }]);
    expect(t.removeOwner('c2', 30_000)).toEqual([{ clientId: 2, clock: 2, state: 'null' }]);
    expect(t.live()).toEqual([]);
    // Removals are forgotten after another timeout: the table does not grow with departed clients.
    t.expire(70_000);
    expect(t.size).toBe(0);
  });

  it('one connection speaks for at most 16 clients', () => {
    const t = new AwarenessTable();
    const many = Array.from({ length: 40 }, (_, i) => ({ clientId: i, clock: 1, state: '{}' }));
    expect(t.apply('c1', many, 0)).toHaveLength(16);
  });

  it('the wire codec round-trips', () => {
    const entries = [{ clientId: 2 ** 40, clock: 3, state: '{"name":"ada"}' }];
    expect(decodeAwarenessUpdate(encodeAwarenessUpdate(entries))).toEqual(entries);
  });
});
