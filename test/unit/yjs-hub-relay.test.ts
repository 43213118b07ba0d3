// The hub's side of update relays (src/yjs/yjs-hub.ts + update-relay.ts), on one node with a fake
// memory and RPC, so the order of relay and replication push is the test's to choose:
// - a relayed update reaches the node's clients before the node has it, and its push later is
//   not delivered to them again;
// - a client update built on a relayed edit waits until the push brought it (then it is stored
//   and echoed), or, if the push never comes, until the wait's timeout (then it is not echoed);
// - a client's own update is relayed to the members with clients on the document, before the
//   write path runs.
import * as Y from 'yjs';
import { editOf, oneDocMemory } from './lib/one-doc-memory.js';
import * as decoding from 'lib0/decoding';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import type { MemoryService } from '../../src/memory/memory-service.js';
import type { RpcEndpoint } from '../../src/rpc/endpoint.js';
import type { Runtime } from '../../src/runtime/types.js';
import { encodeInterest } from '../../src/yjs/awareness-interest.js';
import { INTEREST_METHOD, UPDATE_METHOD, YjsHub } from '../../src/yjs/yjs-hub.js';
import { MAX_RELAYED_UPDATE_BYTES, decodeUpdateRelay, encodeUpdateRelay } from '../../src/yjs/update-relay.js';
import { encodeUpdate } from '../../src/yjs/wire.js';

const DOC = 'doc/r';

/** `soon`: the runtime has a soon queue (run by runSoon()), and each write queues its replication push on it, as the node's write path does. */
function setup(opts: { soon?: boolean } = {}) {
  const soonQueue: Array<() => void> = [];
  const doc = new Y.Doc();
  const writes: Uint8Array[] = [];
  const memory = {
    docs: oneDocMemory(doc, DOC),
    // Stored on a majority at once: the test is about what happens before the write path.
    writeQuorum: async (op: () => void) => {
      op();
      if (opts.soon) soonQueue.push(() => void rpc.notify('addr-a', 'sync', new Uint8Array()));
      writes.push(Y.encodeStateVector(doc));
    },
  } as unknown as MemoryService;
  const handlers = new Map<string, (p: Uint8Array) => void>();
  /** Notifications sent, with the document's state vector at that moment. */
  const sent: Array<{ to: string; method: string; payload: Uint8Array; docState: Map<number, number>; flush: boolean }> = [];
  const rpc = {
    onNotify: (m: string, _a: string, fn: (p: Uint8Array) => void) => void handlers.set(m, fn),
    notify: (to: string, method: string, payload: Uint8Array, opts?: { flush?: boolean }) => {
      sent.push({ to, method, payload, docState: Y.decodeStateVector(Y.encodeStateVector(doc)), flush: opts?.flush === true });
      return Promise.resolve();
    },
  } as unknown as RpcEndpoint;
  const timers: Array<{ ms: number; fn: () => void; live: boolean }> = [];
  const runtime: Runtime = {
    clock: { now: () => 1_000 },
    scheduler: {
      ...(opts.soon ? { soon: (fn: () => void) => void soonQueue.push(fn) } : {}),
      schedule: (ms, fn) => {
        const t = { ms, fn, live: true };
        timers.push(t);
        return () => void (t.live = false);
      },
    },
    rng: { next: () => 0.5 },
    logger: silentLogger(),
  };
  const hub = new YjsHub({ self: 'b', runtime, memory, rpc, peers: () => [{ name: 'a', address: 'addr-a' }] });
  const frames: Uint8Array[] = [];
  const client = hub.open(DOC, undefined, { send: (f) => void frames.push(f), close: () => undefined }, { readOnly: false });
  /** Fires the timers scheduled for `ms` (the relay wait), not the hub's 5 s tick. */
  const fire = (ms: number): void => {
    for (const t of timers.filter((x) => x.live && x.ms === ms)) {
      t.live = false;
      t.fn();
    }
  };
  const runSoon = (): void => {
    while (soonQueue.length > 0) soonQueue.shift()!();
  };
  return { doc, hub, client, frames, handlers, sent, writes, fire, runSoon };
}

/** The updates among frames the node sent its client (sync step 2 and updates). */
function updatesIn(frames: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of frames) {
    const d = decoding.createDecoder(f);
    if (decoding.readVarUint(d) !== 0) continue;
    const sub = decoding.readVarUint(d);
    if (sub === 1 || sub === 2) out.push(decoding.readVarUint8Array(d));
  }
  return out;
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('yjs hub: update relays', () => {
  it('shows a relayed edit before the node has it, skips its push, and holds a client edit built on it until the push came', async () => {
    const s = setup();
    await flush(); // the client is greeted once the document "loaded"
    const writer = new Y.Doc();
    const relayed = editOf(writer, () => writer.getArray<string>('l').push(['from a']));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: relayed }] }));
    expect(s.doc.getArray('l').length).toBe(0); // not applied here: the node has not stored it
    const shown = updatesIn(s.frames);
    expect(shown.some((u) => Buffer.compare(Buffer.from(u), Buffer.from(relayed)) === 0)).toBe(true);
    // The client builds on it: its item goes after a's, which this node lacks.
    const mine = new Y.Doc();
    Y.applyUpdate(mine, relayed);
    const dependent = editOf(mine, () => mine.getArray<string>('l').push(['from b']));
    const before = s.frames.length;
    s.client.frame(encodeUpdate(dependent));
    await flush();
    expect(s.writes).toHaveLength(0); // waiting for the push
    // The push arrives: applied as replication applies it; the client is not sent it again.
    Y.applyUpdate(s.doc, relayed, { remotePeer: 'a' });
    await flush();
    expect(s.writes).toHaveLength(1);
    expect(s.doc.getArray('l').toArray()).toEqual(['from a', 'from b']);
    const after = updatesIn(s.frames.slice(before));
    expect(after.filter((u) => Buffer.compare(Buffer.from(u), Buffer.from(relayed)) === 0)).toHaveLength(0);
    expect(after.filter((u) => Buffer.compare(Buffer.from(u), Buffer.from(dependent)) === 0)).toHaveLength(1); // its echo
    expect(s.hub.relays.duplicatesSkipped).toBe(1);
  });

  it('a client edit that builds on nothing missing is not held while relayed edits are pending', async () => {
    const s = setup();
    await flush();
    const writer = new Y.Doc();
    const relayed = editOf(writer, () => writer.getArray<string>('l').push(['from a']));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: relayed }] }));
    const other = new Y.Doc();
    const independent = editOf(other, () => other.getMap('m').set('k', 1));
    s.client.frame(encodeUpdate(independent));
    expect(s.writes).toHaveLength(1); // at once, in the same turn
    // Its next edit builds on its first (stored): not held either.
    s.client.frame(encodeUpdate(editOf(other, () => other.getMap('m').set('k', 2))));
    expect(s.writes).toHaveLength(2);
  });

  it('a push that never comes: the held client edit goes on after the wait and is not echoed (it did not integrate)', async () => {
    const s = setup();
    await flush();
    const writer = new Y.Doc();
    const relayed = editOf(writer, () => writer.getArray<string>('l').push(['lost']));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: relayed }] }));
    const mine = new Y.Doc();
    Y.applyUpdate(mine, relayed);
    const dependent = editOf(mine, () => mine.getArray<string>('l').push(['mine']));
    const before = s.frames.length;
    s.client.frame(encodeUpdate(dependent));
    await flush();
    expect(s.writes).toHaveLength(0);
    s.fire(2_000);
    await flush();
    expect(s.writes).toHaveLength(1);
    expect(updatesIn(s.frames.slice(before))).toHaveLength(0); // no echo
    // Later writes do not wait for what never came.
    const other = new Y.Doc();
    s.client.frame(encodeUpdate(editOf(other, () => other.getMap('m').set('k', 1))));
    await flush();
    expect(s.writes).toHaveLength(2);
  });

  it('relays a client\'s validated update to the members with clients on the document, before the write path', async () => {
    const s = setup();
    await flush();
    s.handlers.get(INTEREST_METHOD)!(encodeInterest({ from: 'a', kind: 'add', docs: [DOC] }));
    const mine = new Y.Doc();
    const u = editOf(mine, () => mine.getMap('m').set('k', 1));
    s.client.frame(encodeUpdate(u));
    const relays = s.sent.filter((m) => m.method === UPDATE_METHOD);
    expect(relays).toHaveLength(1);
    expect(relays[0]!.docState.has(mine.clientID)).toBe(false); // sent before the node applied it
    const m = decodeUpdateRelay(relays[0]!.payload, 1 << 20);
    expect(relays[0]!.to).toBe('addr-a');
    expect(m.from).toBe('b');
    expect(m.entries.map((e) => e.docId)).toEqual([DOC]);
    expect(Buffer.compare(Buffer.from(m.entries[0]!.update), Buffer.from(u))).toBe(0);
    await flush();
    expect(s.writes).toHaveLength(1);
  });

  it('sends a turn\'s first relay to the wire at once, and the turn\'s later ones as one message, several documents\' updates, ahead of the writes\' pushes', async () => {
    const s = setup({ soon: true });
    const other = s.hub.open('doc/r2', undefined, { send: () => undefined, close: () => undefined }, { readOnly: false });
    await flush();
    s.handlers.get(INTEREST_METHOD)!(encodeInterest({ from: 'a', kind: 'add', docs: [DOC, 'doc/r2'] }));
    const w1 = new Y.Doc();
    const w2 = new Y.Doc();
    const u1 = editOf(w1, () => w1.getMap('m').set('k', 1));
    const u2 = editOf(w2, () => w2.getMap('m').set('j', 2));
    const u3 = editOf(w1, () => w1.getMap('m').set('k', 3));
    s.client.frame(encodeUpdate(u1));
    // The first relay of the turn is on its way before the write path applied the update, flushed past the tick's batching.
    const first = s.sent.filter((m) => m.method === UPDATE_METHOD);
    expect(first).toHaveLength(1);
    expect(first[0]!.flush).toBe(true);
    expect(first[0]!.docState.has(w1.clientID)).toBe(false);
    other.frame(encodeUpdate(u2));
    s.client.frame(encodeUpdate(u3));
    expect(s.sent.filter((m) => m.method === UPDATE_METHOD)).toHaveLength(1); // the rest wait until the code running now is done
    s.runSoon();
    const sent = s.sent.filter((x) => x.method !== INTEREST_METHOD);
    expect(sent.map((x) => x.method)).toEqual([UPDATE_METHOD, UPDATE_METHOD, 'sync', 'sync', 'sync']);
    expect(sent[1]!.flush).toBe(false);
    const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
    expect(decodeUpdateRelay(sent[0]!.payload, 1 << 20).entries.map((e) => hex(e.update))).toEqual([hex(u1)]);
    const m = decodeUpdateRelay(sent[1]!.payload, 1 << 20);
    expect(m.entries.map((e) => e.docId)).toEqual(['doc/r2', DOC]);
    expect(m.entries.map((e) => hex(e.update))).toEqual([u2, u3].map(hex));
    expect(s.hub.relays.updatesSent).toBe(3);
    expect(s.hub.relays.relayMessagesSent).toBe(2);
    // A new turn: its first relay leaves at once again.
    const u4 = editOf(w1, () => w1.getMap('m').set('k', 4));
    s.client.frame(encodeUpdate(u4));
    expect(s.sent.filter((m) => m.method === UPDATE_METHOD)).toHaveLength(3);
  });

  it('does not relay an update too large for one message (its push carries it)', async () => {
    const s = setup({ soon: true });
    await flush();
    s.handlers.get(INTEREST_METHOD)!(encodeInterest({ from: 'a', kind: 'add', docs: [DOC] }));
    const w = new Y.Doc();
    const big = editOf(w, () => w.getText('t').insert(0, 'x'.repeat(MAX_RELAYED_UPDATE_BYTES + 1)));
    s.client.frame(encodeUpdate(big));
    s.runSoon();
    expect(s.sent.filter((x) => x.method !== INTEREST_METHOD).map((x) => x.method)).toEqual(['sync']);
    await flush();
    expect(s.writes).toHaveLength(1);
  });

  it('delivers a relay message\'s updates to each client in the order sent', async () => {
    const s = setup();
    await flush();
    const before = s.frames.length;
    const w = new Y.Doc();
    const a = editOf(w, () => w.getMap('m').set('a', 1));
    const b = editOf(w, () => w.getMap('m').set('b', 2));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: a }, { docId: 'doc/none', update: b }, { docId: DOC, update: b }] }));
    expect(updatesIn(s.frames.slice(before)).map((u) => Buffer.from(u).toString('hex'))).toEqual([a, b].map((u) => Buffer.from(u).toString('hex')));
  });

  it('writes a relay message\'s updates to the clients at once, once per client (flush), not behind what the same read brings next', async () => {
    const s = setup();
    let flushes = 0;
    const got: Uint8Array[] = [];
    s.hub.open(DOC, undefined, { send: (f) => void got.push(f), close: () => undefined, flush: () => void flushes++ }, { readOnly: false });
    await flush();
    const w = new Y.Doc();
    const a = editOf(w, () => w.getMap('m').set('a', 1));
    const b = editOf(w, () => w.getMap('m').set('b', 2));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: a }, { docId: DOC, update: b }] }));
    expect(updatesIn(got)).toHaveLength(2);
    expect(flushes).toBe(1);
  });
});
