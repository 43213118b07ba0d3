// The validated apply path: pending detection, refusal of updates Yjs would choke on or that
// break the memory schema, size limits, and state-vector deltas.
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DecodeError, OversizeError } from '../../src/errors.js';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { applyRemoteUpdate, deltaSince, stateVector } from '../../crdt/updates.js';
import { seeded } from '../lib/seeded.js';

/** A v1 update holding exactly one hand-built item, to forge structurally valid but hostile input. */
function singleItemUpdate(item: Y.Item): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  encoding.writeVarUint(enc.restEncoder, 1); // one client
  encoding.writeVarUint(enc.restEncoder, 1); // one struct
  encoding.writeVarUint(enc.restEncoder, item.id.client);
  encoding.writeVarUint(enc.restEncoder, item.id.clock);
  item.write(enc, 0);
  encoding.writeVarUint(enc.restEncoder, 0); // empty delete set
  return enc.toUint8Array();
}

function snapshotOf(doc: Y.Doc): string {
  return Buffer.from(Y.encodeStateAsUpdate(doc)).toString('hex');
}

describe('applyRemoteUpdate', () => {
  it('applies a peer update and reports a change', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const b = new AgentMemoryDoc({ node: 'b', random: seeded(2) });
    const updates: Uint8Array[] = [];
    a.onChange((c) => updates.push(c.update));
    const id = a.addEpisode({ task: 't', outcome: 'o' }, { now: 1 });
    const result = b.applyRemote(updates[0] as Uint8Array, 'a');
    expect(result).toEqual({ changed: true, pending: false, missing: new Map() });
    expect(b.get(id)?.task).toBe('t');
    expect(b.applyRemote(updates[0] as Uint8Array, 'a').changed).toBe(false);
  });

  it('reports pending structs when a dependency is missing, and clears once it arrives', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const b = new AgentMemoryDoc({ node: 'b', random: seeded(2) });
    const updates: Uint8Array[] = [];
    a.onChange((c) => updates.push(c.update));
    const id = a.addEpisode({ task: 't', outcome: 'o' }, { now: 1 });
    a.appendNote(id, 'x');
    const later = b.applyRemote(updates[1] as Uint8Array, 'a');
    expect(later.pending).toBe(true);
    expect(later.missing.has(a.clientID)).toBe(true);
    expect(b.get(id)).toBeUndefined();
    const healed = b.applyRemote(updates[0] as Uint8Array, 'a');
    expect(healed.pending).toBe(false);
    expect(b.get(id)?.notes).toBe('x');
  });

  it('refuses an item whose parent is not a shared type', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const id = a.addEpisode({ task: 't', outcome: 'o' }, { now: 1 });
    // The struct holding the `task` string: a ContentAny item, not a container.
    const taskItem = (a.doc.store.clients.get(a.clientID) ?? []).find(
      (s) => s instanceof Y.Item && s.parentSub === 'task',
    ) as Y.Item;
    const hostile = singleItemUpdate(
      new Y.Item(Y.createID(999, 0), null, null, null, null, taskItem.id, 'k', new Y.ContentAny([1])),
    );
    const before = snapshotOf(a.doc);
    expect(() => a.applyRemote(hostile, 'evil')).toThrow(DecodeError);
    expect(snapshotOf(a.doc)).toBe(before);
    expect(a.get(id)?.task).toBe('t');
  });

  it('refuses an item that refers forward to a later struct of its own client (Yjs throws mid-apply on it)', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    a.addEpisode({ task: 't', outcome: 'o' }, { now: 1 });
    const hostile = singleItemUpdate(
      new Y.Item(Y.createID(999, 0), null, null, null, null, Y.createID(999, 5), 'k', new Y.ContentAny([1])),
    );
    const victim = new Y.Doc();
    expect(() => Y.applyUpdate(victim, hostile)).toThrow();
    const before = snapshotOf(a.doc);
    expect(() => a.applyRemote(hostile, 'evil')).toThrow(/later struct of its own client/);
    expect(snapshotOf(a.doc)).toBe(before);
  });

  it('refuses an empty delete range (Yjs throws on it after integrating the structs)', () => {
    const enc = new Y.UpdateEncoderV1();
    encoding.writeVarUint(enc.restEncoder, 0); // no structs
    encoding.writeVarUint(enc.restEncoder, 1); // one client in the delete set
    encoding.writeVarUint(enc.restEncoder, 12345);
    encoding.writeVarUint(enc.restEncoder, 1);
    encoding.writeVarUint(enc.restEncoder, 100); // clock beyond what we hold: stays pending
    encoding.writeVarUint(enc.restEncoder, 0); // len 0
    const doc = new Y.Doc();
    expect(() => applyRemoteUpdate(doc, enc.toUint8Array(), 'evil')).toThrow(/empty or out-of-range range/);
    expect(doc.store.pendingDs).toBeNull();
  });

  it('refuses foreign roots and content kinds outside the memory schema', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const other = new Y.Doc();
    other.getText('elsewhere').insert(0, 'x');
    expect(() => a.applyRemote(Y.encodeStateAsUpdate(other), 'p')).toThrow(/unknown root "elsewhere"/);
    const xml = new Y.Doc();
    xml.getMap('episodes').set('e', new Y.XmlFragment());
    expect(() => a.applyRemote(Y.encodeStateAsUpdate(xml), 'p')).toThrow(/YXmlFragment is not allowed/);
    const bin = new Y.Doc();
    bin.getMap('episodes').set('e', new Uint8Array([1]));
    expect(() => a.applyRemote(Y.encodeStateAsUpdate(bin), 'p')).toThrow(/ContentBinary is not allowed/);
    // Without a schema, the generic function accepts any well-formed update.
    expect(applyRemoteUpdate(new Y.Doc(), Y.encodeStateAsUpdate(other), 'p').changed).toBe(true);
  });

  it('refuses XML types that subclass the allowed ones (Y.XmlText is a Y.Text, Y.XmlHook a Y.Map), leaving the memory as it was', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const before = Y.encodeStateAsUpdate(a.doc);
    const text = new Y.Doc();
    text.getMap('episodes').set('e', new Y.XmlText('x'));
    expect(() => a.applyRemote(Y.encodeStateAsUpdate(text), 'p')).toThrow(/YXmlText is not allowed/);
    const hook = new Y.Doc();
    hook.getMap('episodes').set('e', new Y.XmlHook('h'));
    expect(() => a.applyRemote(Y.encodeStateAsUpdate(hook), 'p')).toThrow(/YXmlHook is not allowed/);
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(before);
  });

  it('refuses oversize, empty and non-byte input', () => {
    const doc = new Y.Doc();
    expect(() => applyRemoteUpdate(doc, new Uint8Array(100), 'p', { maxBytes: 10 })).toThrow(OversizeError);
    expect(() => applyRemoteUpdate(doc, new Uint8Array(0), 'p')).toThrow(DecodeError);
    expect(() => applyRemoteUpdate(doc, 'abc' as unknown as Uint8Array, 'p')).toThrow(DecodeError);
  });
});

describe('stateVector / deltaSince', () => {
  it('a delta against a peer state vector carries exactly what the peer lacks', () => {
    const a = new AgentMemoryDoc({ node: 'a', random: seeded(1) });
    const b = new AgentMemoryDoc({ node: 'b', random: seeded(2) });
    const id = a.addEpisode({ task: 't', outcome: 'o', note: 'x'.repeat(1000) }, { now: 1 });
    b.applyRemote(a.deltaSince(b.stateVector()), 'a');
    a.increment(id, 'uses', 1);
    const delta = deltaSince(a.doc, stateVector(b.doc));
    expect(delta.byteLength).toBeLessThan(100);
    b.applyRemote(delta, 'a');
    expect(b.get(id)).toEqual(a.get(id));
  });

  it('refuses a state vector that does not decode', () => {
    const doc = new Y.Doc();
    expect(() => deltaSince(doc, new Uint8Array([5, 0xff]))).toThrow(DecodeError);
    expect(deltaSince(doc, new Uint8Array([0])).byteLength).toBeGreaterThan(0);
  });
});
