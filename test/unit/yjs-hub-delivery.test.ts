// How the hub (src/yjs/yjs-hub.ts + turn-delivery.ts) writes changes to a node's own clients, on
// one node with a fake memory and RPC, and the turn's end run by the test:
// - a client's validated update reaches the room's other clients before the node applies it,
//   written at once (flushed), and the apply's change does not reach them a second time;
// - the turn's later changes (other client updates, relay messages) wait for the turn's end and
//   then reach each client together, in the order they were made;
// - an apply that integrates more than the update shown (a pending update it completed) is
//   delivered too, so no client misses what the node holds.
import * as Y from 'yjs';
import { editOf, oneDocMemory } from './lib/one-doc-memory.js';
import * as decoding from 'lib0/decoding';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import type { MemoryService } from '../../src/memory/memory-service.js';
import type { RpcEndpoint } from '../../src/rpc/endpoint.js';
import type { Runtime } from '../../src/runtime/types.js';
import { UPDATE_METHOD, YjsHub } from '../../src/yjs/yjs-hub.js';
import { encodeUpdateRelay } from '../../src/yjs/update-relay.js';
import { encodeUpdate } from '../../src/yjs/wire.js';

const DOC = 'doc/d';

interface Reader {
  /** Frames sent to this client, with the node document's state vector when each was sent. */
  frames: Array<{ frame: Uint8Array; nodeState: Map<number, number> }>;
  flushes: number;
  /** How many frames had been sent when each flush happened. */
  flushedAt: number[];
}

function setup() {
  const doc = new Y.Doc();
  let applies = 0;
  const memory = {
    docs: oneDocMemory(doc, DOC),
    writeQuorum: async (op: () => void) => {
      op();
      applies++;
    },
  } as unknown as MemoryService;
  const handlers = new Map<string, (p: Uint8Array) => void>();
  const rpc = {
    onNotify: (m: string, _a: string, fn: (p: Uint8Array) => void) => void handlers.set(m, fn),
    notify: () => Promise.resolve(),
  } as unknown as RpcEndpoint;
  const turnEnd: Array<() => void> = [];
  const runtime: Runtime = {
    clock: { now: () => 1_000 },
    scheduler: {
      immediate: (fn: () => void) => void turnEnd.push(fn),
      schedule: () => () => undefined,
    },
    rng: { next: () => 0.5 },
    logger: silentLogger(),
  };
  const hub = new YjsHub({ self: 'b', runtime, memory, rpc, peers: () => [{ name: 'a', address: 'addr-a' }] });
  const open = (): { handle: ReturnType<YjsHub['open']>; reader: Reader } => {
    const reader: Reader = { frames: [], flushes: 0, flushedAt: [] };
    const handle = hub.open(
      DOC,
      undefined,
      {
        send: (f) => void reader.frames.push({ frame: f, nodeState: Y.decodeStateVector(Y.encodeStateVector(doc)) }),
        close: () => undefined,
        flush: () => {
          reader.flushes++;
          reader.flushedAt.push(reader.frames.length);
        },
      },
      { readOnly: false },
    );
    return { handle, reader };
  };
  const endTurn = (): void => {
    while (turnEnd.length > 0) turnEnd.shift()!();
  };
  return { doc, hub, open, handlers, endTurn, applies: () => applies };
}

/** The updates among a client's frames (sync step 2 and updates), after the first `from` frames. */
function updatesIn(r: Reader, from = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const { frame } of r.frames.slice(from)) {
    const d = decoding.createDecoder(frame);
    if (decoding.readVarUint(d) !== 0) continue;
    const sub = decoding.readVarUint(d);
    if (sub === 1 || sub === 2) out.push(decoding.readVarUint8Array(d));
  }
  return out;
}

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('yjs hub: delivery to the node\'s own clients', () => {
  it('shows a client\'s update to the other clients before the node applies it, flushed, and once', async () => {
    const s = setup();
    const writer = s.open();
    const reader = s.open();
    await settle();
    s.endTurn();
    const before = reader.reader.frames.length;
    const w = new Y.Doc();
    const u = editOf(w, () => w.getMap('m').set('k', 1));
    writer.handle.frame(encodeUpdate(u));
    const got = reader.reader.frames.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.nodeState.has(w.clientID)).toBe(false); // sent before the node applied it
    expect(hex(updatesIn(reader.reader, before)[0]!)).toBe(hex(u));
    expect(reader.reader.flushedAt.at(-1)).toBe(before + 1); // written at once, not left for the tick's end
    expect(s.doc.getMap('m').get('k')).toBe(1);
    s.endTurn();
    await settle();
    expect(s.applies()).toBe(1);
    expect(updatesIn(reader.reader, before)).toHaveLength(1); // the apply's change was not sent again
  });

  it('the turn\'s later changes wait for its end, then reach each client in order, each client flushed once in the turn', async () => {
    const s = setup();
    const a = s.open();
    const b = s.open();
    const reader = s.open();
    await settle();
    s.endTurn();
    const before = reader.reader.frames.length;
    const flushesBefore = reader.reader.flushes;
    const wa = new Y.Doc();
    const wb = new Y.Doc();
    const remote = new Y.Doc();
    const u1 = editOf(wa, () => wa.getMap('m').set('a', 1));
    const u2 = editOf(wb, () => wb.getMap('m').set('b', 2));
    const u3 = editOf(remote, () => remote.getMap('m').set('r', 3));
    const u4 = editOf(wa, () => wa.getMap('m').set('a', 4));
    a.handle.frame(encodeUpdate(u1));
    b.handle.frame(encodeUpdate(u2));
    s.handlers.get(UPDATE_METHOD)!(encodeUpdateRelay({ from: 'a', entries: [{ docId: DOC, update: u3 }] }));
    a.handle.frame(encodeUpdate(u4));
    expect(updatesIn(reader.reader, before).map(hex)).toEqual([hex(u1)]); // the turn's first, at once
    expect(reader.reader.flushes - flushesBefore).toBe(1);
    s.endTurn();
    expect(updatesIn(reader.reader, before).map(hex)).toEqual([u1, u2, u3, u4].map(hex));
    expect(reader.reader.flushes - flushesBefore).toBe(1); // the rest leave with the tick's uncork
    // b saw a's updates and the relay, never its own.
    expect(updatesIn(b.reader).map(hex)).toEqual(expect.arrayContaining([u1, u3, u4].map(hex)));
    expect(updatesIn(b.reader).map(hex)).not.toContain(hex(u2));
    // A new turn: its first change goes at once again.
    const u5 = editOf(wb, () => wb.getMap('m').set('b', 5));
    b.handle.frame(encodeUpdate(u5));
    expect(updatesIn(reader.reader, before).map(hex)).toEqual([u1, u2, u3, u4, u5].map(hex));
    expect(reader.reader.flushes - flushesBefore).toBe(2);
  });

  it('an apply that integrates more than the update shown (a pending update it completed) reaches the clients too', async () => {
    const s = setup();
    const writer = s.open();
    const reader = s.open();
    await settle();
    s.endTurn();
    const w = new Y.Doc();
    const first = editOf(w, () => w.getArray('l').push(['x']));
    const second = editOf(w, () => w.getArray('l').push(['y']));
    writer.handle.frame(encodeUpdate(second)); // depends on `first`, which the node lacks: pending
    s.endTurn();
    await settle();
    writer.handle.frame(encodeUpdate(first));
    s.endTurn();
    await settle();
    expect(s.doc.getArray('l').toArray()).toEqual(['x', 'y']);
    // Each shown as sent, then the apply's change, which holds both (not the bytes shown).
    const got = updatesIn(reader.reader);
    expect(got.slice(0, 2).map(hex)).toEqual([second, first].map(hex));
    expect(got).toHaveLength(3);
    const replay = new Y.Doc();
    Y.applyUpdate(replay, got[2]!);
    expect(replay.getArray('l').toArray()).toEqual(['x', 'y']);
    expect(replay.store.pendingStructs).toBeNull();
  });
});
