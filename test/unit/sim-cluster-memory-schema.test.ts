// A member that pushes content outside a document's schema (a buggy or hostile peer: XML in an
// agent memory, text in the task table, a root nobody reads) gets it refused by every other node
// on the real sync path, while well-formed writes keep replicating. Node 0 plays the bad peer by
// writing to its own documents behind the memory API; its continuous push carries the update.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { TASKS_DOC } from '../../src/node/task-service.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

describe('SimCluster: remote updates follow each document schema', () => {
  it('XML in an agent memory, text in the task table and unknown roots are refused by the peers; episodes still replicate', async () => {
    const c = track(new SimCluster({ seed: 'schema-3', nodes: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(3), 30_000)).toBe(true);
      const good = await c.settle(c.node(0).memory('planner').addEpisode({ task: 'plan', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.node(1).memory('planner').list().some((e) => e.id === good), 10_000)).toBe(true);

      const docs = c.node(0).memoryService.docs;
      docs.doc('agent/planner').getMap('episodes').set('planted-xml', new Y.XmlText('<script/>'));
      docs.doc('agent/planner').getText('elsewhere').insert(0, 'a root nobody reads');
      docs.doc(TASKS_DOC).getMap('tasks').set('planted-text', new Y.Text('not a task'));
      const after = await c.settle(c.node(0).memory('planner').addEpisode({ task: 'after', outcome: 'ok' }), 10_000).catch(() => undefined);
      await c.runFor(3_000);

      for (const i of [1, 2]) {
        const peer = c.node(i).memoryService.docs;
        expect(peer.doc('agent/planner').getMap('episodes').has('planted-xml'), `node ${i}`).toBe(false);
        expect(peer.doc('agent/planner').share.has('elsewhere'), `node ${i}`).toBe(false);
        expect(peer.doc(TASKS_DOC).getMap('tasks').has('planted-text'), `node ${i}`).toBe(false);
        expect(c.node(i).memory('planner').list().map((e) => e.id), `node ${i}`).toContain(good);
      }
      // The episode written after the planted update depends on it in Yjs (same client, later
      // clock), so peers cannot integrate it either: the bad peer's later writes do not count.
      if (after !== undefined) expect(c.node(1).memory('planner').list().map((e) => e.id)).not.toContain(after);
      // Well-formed writes from the other members keep replicating.
      const fromTwo = await c.settle(c.node(2).memory('planner').addEpisode({ task: 'still fine', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.node(1).memory('planner').list().some((e) => e.id === fromTwo), 10_000)).toBe(true);
    });
  });
});
