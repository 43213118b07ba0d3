// An agent document unloaded and reloaded (bounded residency) is written again with the Yjs client
// id it had, when the reloaded document holds exactly what that id wrote: a fresh id per reload
// added a client to the state vector, the delete set and the struct store that never went away,
// so under a budget smaller than the data (the soak: most writes reload) every document grew
// without bound even with a retention policy. A holder of the unloaded instance that writes to it
// must not reuse the id (it would create structs a second time at the same clocks).
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { forgetEpisodes, overPolicy } from '../../src/memory/forget.js';
import { AgentDocs } from '../../src/memory/agent-docs.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { foldTombstones } from '../../src/storage/tombstone-fold.js';
import { EPISODES_ROOT } from '../../crdt/schema.js';
import { createPrng } from '../../src/sim/prng.js';

function setup() {
  let now = 0;
  const store = new MemoryStore({ nodeId: 'n1', name: 'n1' });
  const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => now, evictable: () => true });
  const prng = createPrng('client-id');
  const agents = new AgentDocs(docs, 'n1', () => prng.next());
  return { docs, agents, store, tick: () => (now += 10) };
}

it('a reloaded agent document keeps its client id; under a policy its state stays flat across 300 reloads', () => {
  const { docs, agents, tick } = setup();
  const first = agents.open('a').clientID;
  const sizes: number[] = [];
  for (let i = 0; i < 300; i++) {
    const mem = agents.open('a');
    mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `write ${i}` }, { now: i + 1 });
    const over = overPolicy(mem.doc, { maxEpisodes: 5 }, i + 1);
    if (over.length) forgetEpisodes(mem, over);
    foldTombstones(mem.doc, [EPISODES_ROOT]);
    sizes.push(Y.encodeStateAsUpdate(mem.doc).length);
    tick();
    expect(docs.evictIdle()).toBe(1); // unloaded after every write
  }
  const doc = agents.open('a').doc;
  expect(doc.clientID).toBe(first);
  expect(doc.store.clients.size).toBe(1);
  expect(agents.open('a').list()).toHaveLength(5);
  // Flat: the encoding after 300 writes is within a few bytes of the one after 50 (clocks grow).
  expect(sizes[299]! - sizes[49]!).toBeLessThan(16);
});

it('a stale instance that writes after its document was unloaded does not share the id with the reload', () => {
  const { docs, agents, tick } = setup();
  const stale = agents.open('a');
  stale.addEpisode({ task: 'first', outcome: 'ok' }, { now: 1 });
  const id = stale.clientID;
  tick();
  expect(docs.evictIdle()).toBe(1);
  stale.addEpisode({ task: 'late', outcome: 'ok' }, { now: 2 }); // to the unloaded Y.Doc
  expect(stale.clientID).not.toBe(id);
  const fresh = agents.open('a');
  expect(fresh.clientID).toBe(id); // the stored document holds exactly what `id` wrote
  fresh.addEpisode({ task: 'next', outcome: 'ok' }, { now: 3 });
  expect(fresh.list().map((e) => e.task).sort()).toEqual(['first', 'next']);
});

it('a reloaded document whose clock for the old id differs (it lost writes) gets a fresh id', () => {
  const { docs, agents, tick, store } = setup();
  const mem = agents.open('a');
  mem.addEpisode({ task: 'kept', outcome: 'ok' }, { now: 1 });
  const id = mem.clientID;
  tick();
  expect(docs.evictIdle()).toBe(1);
  // What is stored no longer holds what `id` wrote (as after a document was given away and came back).
  store.dropDoc?.('agent/a');
  expect(agents.open('a').clientID).not.toBe(id);
});
