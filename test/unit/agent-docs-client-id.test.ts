// An agent document unloaded and reloaded (bounded residency) is written again with the Yjs client
// id it had, when the reloaded document holds exactly what that id wrote: a fresh id per reload
// added a client to the state vector, the delete set and the struct store that never went away,
// so under a budget smaller than the data (the soak: most writes reload) every document grew
// without bound even with a retention policy. A holder of the unloaded instance that writes to it
// must not reuse the id (it would create structs a second time at the same clocks). Segment
// documents (memorySegments) reuse their own ids under the same rule.
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { forgetEpisodes, overPolicy } from '../../src/memory/forget.js';
import { AgentDocs, type SplitOptions } from '../../src/memory/agent-docs.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { foldTombstones } from '../../src/storage/tombstone-fold.js';
import { EPISODES_ROOT } from '../../crdt/schema.js';
import { parseSegmentDocName } from '../../crdt/segments.js';
import { createPrng } from '../../src/sim/prng.js';

function setup(splitting?: SplitOptions) {
  let now = 0;
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1' });
  const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => now, evictable: () => true });
  const prng = createPrng('client-id');
  let draws = 0;
  const agents = new AgentDocs(docs, 'n1', () => (draws++, prng.next()), splitting);
  /** Unloads every resident document (a tiny budget: all of them are over it). */
  const unloadAll = (): number => {
    now += 10;
    let n = 0;
    for (let k = docs.evictIdle(); k > 0; k = docs.evictIdle()) n += k;
    return n;
  };
  return { docs, agents, store, unloadAll, draws: () => draws };
}

it('a reloaded agent document keeps its client id; under a policy its state stays flat across 300 reloads', () => {
  const { agents, unloadAll } = setup();
  const first = agents.open('a').clientID;
  const sizes: number[] = [];
  for (let i = 0; i < 300; i++) {
    const mem = agents.open('a');
    mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `write ${i}` }, { now: i + 1 });
    const over = overPolicy(mem.doc, { maxEpisodes: 5 }, i + 1);
    if (over.length) forgetEpisodes(mem, over);
    foldTombstones(mem.doc, [EPISODES_ROOT]);
    sizes.push(Y.encodeStateAsUpdate(mem.doc).length);
    expect(unloadAll()).toBe(1); // unloaded after every write
  }
  const doc = agents.open('a').doc;
  expect(doc.clientID).toBe(first);
  expect(doc.store.clients.size).toBe(1);
  expect(agents.open('a').list()).toHaveLength(5);
  // Flat: the encoding after 300 writes is within a few bytes of the one after 50 (clocks grow).
  expect(sizes[299]! - sizes[49]!).toBeLessThan(16);
});

it('reusing an id draws from the random stream exactly as a fresh id does', () => {
  const reuse = setup();
  const fresh = setup();
  for (let i = 0; i < 20; i++) {
    reuse.agents.open('a').addEpisode({ task: `t${i}`, outcome: 'ok' }, { now: i + 1 });
    fresh.agents.open('a').addEpisode({ task: `t${i}`, outcome: 'ok' }, { now: i + 1 });
    reuse.unloadAll();
    fresh.unloadAll();
    fresh.store.dropDoc('agent/a'); // the stored document lost what the id wrote: a fresh id every time
    fresh.docs.drop('agent/a');
  }
  expect(fresh.agents.open('a').doc.store.clients.size).toBe(0);
  expect(reuse.agents.open('a').doc.store.clients.size).toBe(1);
  expect(reuse.draws()).toBe(fresh.draws());
});

it('a stale instance that writes after its document was unloaded does not share the id with the reload', () => {
  const { agents, unloadAll, draws } = setup();
  const stale = agents.open('a');
  stale.addEpisode({ task: 'first', outcome: 'ok' }, { now: 1 });
  const id = stale.clientID;
  expect(unloadAll()).toBe(1);
  const before = draws();
  stale.addEpisode({ task: 'late', outcome: 'ok' }, { now: 2 }); // to the unloaded Y.Doc
  expect(draws() - before).toBe(16); // the episode id's 16 hex digits only: its new client id was not drawn
  expect(stale.clientID).not.toBe(id);
  const fresh = agents.open('a');
  expect(fresh.clientID).toBe(id); // the stored document holds exactly what `id` wrote
  fresh.addEpisode({ task: 'next', outcome: 'ok' }, { now: 3 });
  expect(fresh.list().map((e) => e.task).sort()).toEqual(['first', 'next']);
  // Unloaded again without a write: this stale instance gets an id of its own too.
  expect(unloadAll()).toBe(1);
  expect(fresh.clientID).not.toBe(id);
  expect(fresh.clientID).not.toBe(stale.clientID);
  expect(agents.open('a').clientID).toBe(id);
});

it('a reloaded document whose clock for the old id differs (it lost writes) gets a fresh id', () => {
  const { agents, unloadAll, store } = setup();
  const mem = agents.open('a');
  mem.addEpisode({ task: 'kept', outcome: 'ok' }, { now: 1 });
  const id = mem.clientID;
  expect(unloadAll()).toBe(1);
  // What is stored no longer holds what `id` wrote (as after a document was given away and came back).
  store.dropDoc('agent/a');
  expect(agents.open('a').clientID).not.toBe(id);
});

it('a document handed off (dropped) and created again gets a fresh id', () => {
  const { agents, docs } = setup();
  const mem = agents.open('a');
  const id = mem.clientID;
  mem.addEpisode({ task: 'gone', outcome: 'ok' }, { now: 1 });
  expect(docs.drop('agent/a')).toBe(true);
  expect(agents.open('a').clientID).not.toBe(id);
});

it('segment documents of a split agent each keep their own id across reloads', () => {
  const { agents, docs, unloadAll } = setup({ split: true, splitAt: 3 });
  for (let i = 0; i < 200; i++) {
    agents.open('a').addEpisode({ task: `t${i}`, outcome: 'ok' }, { now: i + 1 });
    expect(unloadAll()).toBeGreaterThan(0);
  }
  const mem = agents.open('a');
  expect(mem.segmentBits()).toBeGreaterThan(0);
  const held = mem.heldDocs();
  expect(held.length).toBeGreaterThan(4); // the root and several segments, each reloaded many times
  expect(docs.ids().filter((id) => parseSegmentDocName(id)).length).toBe(held.length - 1);
  // One writer, one client per document, for ever: each reload continued its document's id.
  for (const d of held) expect(d.doc.store.clients.size).toBe(1);
  expect(mem.list()).toHaveLength(200);
});
