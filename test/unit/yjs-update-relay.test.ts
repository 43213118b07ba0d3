// The relayed-update bookkeeping of a room (src/yjs/update-relay.ts): a push whose bytes a relay
// already showed reaches only the clients that joined since, a client write waits while its node
// lacks what its clients were shown and is released by the push or, at worst, by the timeout,
// after which what never came is given up; bounds on entries and bytes; the payload codec.
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { encodeUpdate } from '../../src/yjs/wire.js';
import { MAX_RELAYED_PER_ROOM, RELAY_TTL_MS, RELAY_WAIT_MS, RelayedUpdates, decodeUpdateRelay, encodeUpdateRelay } from '../../src/yjs/update-relay.js';

function edit(doc: Y.Doc, key: string): Uint8Array {
  let out: Uint8Array | undefined;
  const h = (u: Uint8Array): void => {
    out = u;
  };
  doc.on('update', h);
  doc.getMap('m').set(key, key);
  doc.off('update', h);
  return out!;
}

/** A fake scheduler: timers fire when fire() says so. */
function timers(): { schedule: (ms: number, fn: () => void) => () => void; fire: () => void; pending: () => number } {
  const live = new Set<() => void>();
  return {
    schedule: (_ms, fn) => {
      live.add(fn);
      return () => live.delete(fn);
    },
    fire: () => {
      for (const fn of [...live]) {
        live.delete(fn);
        fn();
      }
    },
    pending: () => live.size,
  };
}

describe('relayed updates of a room', () => {
  it('a push with the relayed bytes names who had them; other bytes match nothing', () => {
    const writer = new Y.Doc();
    const u = edit(writer, 'a');
    const rel = new RelayedUpdates<string>();
    rel.add(u, encodeUpdate(u), new Set(['c1']), 0);
    expect(rel.take(encodeUpdate(edit(writer, 'b')))).toBeUndefined();
    expect([...rel.take(encodeUpdate(u))!]).toEqual(['c1']);
    expect(rel.size).toBe(0);
    expect(rel.take(encodeUpdate(u))).toBeUndefined(); // once only
  });

  it('a write waits while the node lacks relayed structs; the push releases it', async () => {
    const writer = new Y.Doc();
    const node = new Y.Doc();
    const u = edit(writer, 'a');
    const rel = new RelayedUpdates<string>();
    const t = timers();
    rel.add(u, encodeUpdate(u), new Set(), 0);
    expect(rel.ahead(node, 1)).toBe(true);
    let released = false;
    const w = rel.wait(t.schedule).then(() => (released = true));
    expect(rel.waiting).toBe(true);
    rel.settled(node, 2); // nothing new yet
    await Promise.resolve();
    expect(released).toBe(false);
    Y.applyUpdate(node, u);
    rel.settled(node, 3);
    await w;
    expect(released).toBe(true);
    expect(rel.waiting).toBe(false);
    expect(t.pending()).toBe(0); // its timeout was cancelled
    expect(rel.ahead(node, 4)).toBe(false);
  });

  it('a push that never comes: the wait ends after its timeout and later writes do not wait for it', async () => {
    const writer = new Y.Doc();
    const node = new Y.Doc();
    const u = edit(writer, 'a');
    const rel = new RelayedUpdates<string>();
    const t = timers();
    rel.add(u, encodeUpdate(u), new Set(), 0);
    const w = rel.wait(t.schedule);
    t.fire(); // RELAY_WAIT_MS passed
    await w;
    expect(RELAY_WAIT_MS).toBeLessThan(RELAY_TTL_MS);
    expect(rel.ahead(node, 1)).toBe(false);
    expect(rel.size).toBe(0);
  });

  it('is bounded: entries beyond the cap and past their age are forgotten, oldest first', () => {
    const writer = new Y.Doc();
    const rel = new RelayedUpdates<string>();
    const first = edit(writer, 'first');
    rel.add(first, encodeUpdate(first), new Set(), 0);
    for (let i = 0; i < MAX_RELAYED_PER_ROOM; i++) {
      const u = edit(writer, `k${i}`);
      rel.add(u, encodeUpdate(u), new Set(), 1);
    }
    expect(rel.size).toBe(MAX_RELAYED_PER_ROOM);
    expect(rel.take(encodeUpdate(first))).toBeUndefined();
    rel.ahead(new Y.Doc(), 2 + RELAY_TTL_MS);
    expect(rel.size).toBe(0);
  });

  it('the relay payload round-trips several documents\' updates and a bad one is a DecodeError', () => {
    const update = edit(new Y.Doc(), 'x');
    const other = edit(new Y.Doc(), 'y');
    const m = decodeUpdateRelay(encodeUpdateRelay({ from: 'n1', entries: [{ docId: 'doc/a', update }, { docId: 'doc/b', update: other }] }), 1024);
    expect(m.from).toBe('n1');
    expect(m.entries.map((e) => e.docId)).toEqual(['doc/a', 'doc/b']);
    expect([...m.entries[0]!.update]).toEqual([...update]);
    expect([...m.entries[1]!.update]).toEqual([...other]);
    expect(() => decodeUpdateRelay(encodeUpdateRelay({ from: 'n1', entries: [{ docId: 'doc/a', update }] }), 4)).toThrow(DecodeError);
    expect(() => decodeUpdateRelay(new Uint8Array([200, 1]), 1024)).toThrow(DecodeError);
    // A count beyond the bound, and a count larger than what follows.
    expect(() => decodeUpdateRelay(new Uint8Array([2, 110, 49, 0xff, 0xff, 0x03]), 1024)).toThrow(DecodeError);
    expect(() => decodeUpdateRelay(new Uint8Array([2, 110, 49, 3, 1, 97, 0]), 1024)).toThrow(DecodeError);
  });
});
