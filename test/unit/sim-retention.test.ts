// Retention and forgetting on whole simulated nodes (seeded, replayable):
// - finished tasks older than the retention leave the table on every node; a duplicate submit of a
//   trimmed id is refused everywhere; a result a partition hid, healed after the trim, brings
//   nothing back (the task stays gone, digests equal);
// - forgetting is a replicated delete: a concurrent forget and edit of one episode end with the
//   episode gone on every replica and equal digests; a forget on a minority side is refused; the
//   content leaves the store; a per-agent policy trims old episodes through the writable side.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { QuorumError, UsageError } from '../../src/errors.js';
import { episodesOf } from '../../crdt/schema.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track } = simClusterPerTest();

function storedBytes(c: SimCluster, i: number, docId: string): Buffer {
  return Buffer.concat(c.node(i).world.store.loadDoc(docId));
}

describe('task retention (simulator)', () => {
  it('trims finished tasks on every node; a trimmed id is refused; a hidden result does not resurface after heal', async () => {
    const c = track(new SimCluster({ seed: 'task-retention', nodes: 5, replicationFactor: 5, nodeOptions: { retention: { taskRetentionMs: 5000 } } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      // Finished tasks, one with an id the submitter chose.
      await c.settle(c.node(1).submit({ id: 'chosen-1', type: 'echo', input: { a: 1 } }), 10_000);
      for (let k = 0; k < 5; k++) await c.settle(c.node(k).submit({ type: 'echo', input: { k } }), 10_000);
      // One that runs long on n4, which a partition will cut off.
      const long = await c.settle(c.node(4).submit({ id: 'long-1', type: 'sleep', input: { ms: 4000 }, strategy: 'local-first' }), 10_000);
      expect(await c.runUntil(() => c.node(0).tasks.table.get('long-1')?.status === 'running', 10_000)).toBe(true);
      const holder = c.node(0).tasks.table.get('long-1')!.lease!;
      expect(holder.holder).toBe('n4');
      expect(long.id).toBe('long-1');
      // The quick ones finished before the partition (so the trim below has nothing that finished later to wait for).
      expect(await c.runUntil(() => c.node(0).tasks.list().every((t) => t.id === 'long-1' || t.status === 'done'), 10_000)).toBe(true);

      c.partition([0, 1, 2], [3, 4]);
      // n4 records a result locally that never reaches the majority (a write the partition hid).
      expect(await c.runUntil(() => !c.node(4).gate.verdict().writable, 30_000)).toBe(true);
      c.node(4).tasks.table.complete('long-1', { token: holder.token, holder: 'n4' }, { hidden: true }, c.now());
      expect(c.node(4).tasks.table.get('long-1')?.status).toBe('done');
      // The majority re-places it after n4 is FAILED, it finishes there, and everything finished is trimmed after 5 s.
      const trimmed = await c.runUntil(() => [0, 1, 2].every((i) => c.node(i).tasks.table.get('long-1') === undefined && c.node(i).tasks.table.get('chosen-1') === undefined), 120_000);
      expect(trimmed).toBe(true);
      for (const i of [0, 1, 2]) expect(c.node(i).tasks.counts()).toEqual({ queued: 0, running: 0, done: 0, failed: 0 });

      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      for (let i = 0; i < 5; i++) {
        // Nothing resurfaced: the hidden result merged into a deleted task.
        expect(c.node(i).tasks.table.get('long-1'), `n${i}`).toBeUndefined();
        expect(c.node(i).tasks.list().map((t) => t.id)).not.toContain('long-1');
      }
      // The trimmed tasks' tombstones are folded on every node, the rejoined pair included.
      const tombstone = (i: number): boolean => (c.node(i).tasks.table.doc.getMap('tasks') as unknown as { _map: Map<string, unknown> })._map.has('long-1');
      expect(await c.runUntil(() => [0, 1, 2, 3, 4].every((i) => !tombstone(i)), 30_000)).toBe(true);
      expect(c.digestsEqual()).toBe(true);
      // A duplicate submit of a trimmed, submitter-chosen id is refused on every node, once the
      // downed pair is a voter again (before that a submit there is refused as read-only).
      expect(await c.runUntil(() => [0, 1, 2, 3, 4].every((i) => c.node(i).gate.verdict().writable), 60_000)).toBe(true);
      for (let i = 0; i < 5; i++) {
        const r = await c.settle(c.node(i).submit({ id: 'chosen-1', type: 'echo', input: {} }).catch((e: unknown) => e), 10_000);
        expect(r, `n${i}`).toBeInstanceOf(UsageError);
        expect(String((r as Error).message)).toMatch(/finished and left the table/);
      }
      expect(c.node(0).retention.status()).toMatchObject({ tasks: { retiredIds: 2 } });
    });
  }, 120_000);

  it('the count limit keeps only the newest finished tasks', async () => {
    const c = track(new SimCluster({ seed: 'task-retention-count', nodes: 3, nodeOptions: { retention: { maxFinishedTasks: 4 } } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(3), 30_000)).toBe(true);
      const ids: string[] = [];
      for (let k = 0; k < 10; k++) {
        ids.push((await c.settle(c.node(k % 3).submit({ type: 'echo', input: { k } }), 10_000)).id);
        await c.runFor(10);
      }
      expect(await c.runUntil(() => [0, 1, 2].every((i) => c.node(i).tasks.counts().done === 4) && c.digestsEqual(), 120_000)).toBe(true);
      expect(c.node(2).tasks.list().map((t) => t.id).sort()).toEqual(ids.slice(6).sort());
    });
  }, 120_000);
});

describe('forgetting (simulator)', () => {
  it('a forget concurrent with an edit of the same episode: gone everywhere, digests equal, content out of the store', async () => {
    const c = track(new SimCluster({ seed: 'forget-concurrent', nodes: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(3), 30_000)).toBe(true);
      const id = await c.settle(c.node(0).memory('a').addEpisode({ task: 'secret', outcome: 'ok', note: 'SECRET-NOTE-CONTENT' }), 10_000);
      const keep = await c.settle(c.node(0).memory('a').addEpisode({ task: 'kept', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual() && c.node(2).memory('a').get(id) !== undefined, 10_000)).toBe(true);
      // Both start in the same instant, on different nodes.
      const forgot = c.node(0).memory('a').forget(id);
      const edited = c.node(1).memory('a').appendNote(id, ' MORE-SECRET-CONTENT').catch((e: unknown) => e);
      expect(await c.settle(forgot, 10_000)).toBe(true);
      await c.settle(edited, 10_000);
      expect(await c.runUntil(() => c.digestsEqual() && [0, 1, 2].every((i) => c.node(i).memory('a').get(id) === undefined), 30_000)).toBe(true);
      await c.runFor(3000); // the reclaim runs a moment after the delete
      for (let i = 0; i < 3; i++) {
        expect(c.node(i).memory('a').list().map((e) => e.id)).toEqual([keep]);
        const bytes = storedBytes(c, i, 'agent/a');
        expect(bytes.includes('SECRET-NOTE-CONTENT'), `n${i} store`).toBe(false);
        expect(bytes.includes('MORE-SECRET'), `n${i} store`).toBe(false);
      }
    });
  });

  it('a forget on a minority is refused; after heal the majority forget holds and nothing comes back', async () => {
    const c = track(new SimCluster({ seed: 'forget-minority', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const a = await c.settle(c.node(0).memory('m').addEpisode({ task: 'one', outcome: 'ok' }), 10_000);
      const b = await c.settle(c.node(0).memory('m').addEpisode({ task: 'two', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => c.digestsEqual(), 10_000)).toBe(true);
      c.partition([0, 1, 2], [3, 4]);
      expect(await c.runUntil(() => !c.node(3).gate.verdict().writable, 30_000)).toBe(true);
      const refused = await c.settle(c.node(3).memory('m').forget(b).catch((e: unknown) => e), 10_000);
      expect(refused).toBeInstanceOf(QuorumError);
      expect(c.node(3).memory('m').get(b)).toBeDefined();
      await c.settle(c.node(1).memory('m').forget(a), 10_000);
      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      for (let i = 0; i < 5; i++) expect(c.node(i).memory('m').list().map((e) => e.task), `n${i}`).toEqual(['two']);
    });
  }, 120_000);

  it('a per-agent policy (maxEpisodes, maxAge) is replicated and applied by the writable side; drop forgets all', async () => {
    const c = track(new SimCluster({ seed: 'forget-policy', nodes: 3, nodeOptions: { retention: { policySweepMs: 1000 } } }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(3), 30_000)).toBe(true);
      const mem = c.node(1).memory('p');
      for (let k = 0; k < 8; k++) {
        await c.settle(mem.addEpisode({ task: `t${k}`, outcome: 'ok' }), 10_000);
        await c.runFor(100);
      }
      await c.settle(mem.setPolicy({ maxEpisodes: 3 }), 10_000);
      expect(await c.runUntil(() => [0, 1, 2].every((i) => c.node(i).memory('p').list().length === 3) && c.digestsEqual(), 30_000)).toBe(true);
      expect(c.node(2).memory('p').list().map((e) => e.task)).toEqual(['t5', 't6', 't7']);
      expect(c.node(0).memory('p').policy()).toEqual({ maxEpisodes: 3 });
      expect(c.node(0).retention.status()).toMatchObject({ memory: { policies: { p: { maxEpisodes: 3 } } } });
      await c.settle(mem.setPolicy({ maxAgeMs: 2000 }), 10_000);
      await c.runFor(2500);
      expect(await c.runUntil(() => [0, 1, 2].every((i) => c.node(i).memory('p').list().length === 0), 30_000)).toBe(true);
      await c.settle(mem.addEpisode({ task: 'fresh', outcome: 'ok' }), 10_000);
      expect(await c.settle(c.node(2).memory('p').drop(), 10_000)).toBe(1);
      expect(c.node(2).memory('p').policy()).toBeUndefined();
      expect(await c.runUntil(() => c.digestsEqual() && [0, 1, 2].every((i) => c.node(i).memory('p').list().length === 0), 30_000)).toBe(true);
    });
  }, 120_000);

  it('tombstones are folded; a partitioned replica that edited a forgotten episode rejoins after the fold and converges, nothing forgotten comes back', async () => {
    const c = track(new SimCluster({ seed: 'forget-fold-rejoin', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5), 30_000)).toBe(true);
      const ids: string[] = [];
      for (let k = 0; k < 30; k++) ids.push(await c.settle(c.node(k % 3).memory('f').addEpisode({ task: `t${k}`, outcome: 'ok', note: `NOTE-${k}-` }), 10_000));
      expect(await c.runUntil(() => c.digestsEqual() && c.node(4).memory('f').list().length === 30, 30_000)).toBe(true);
      c.partition([0, 1, 2], [3, 4]);
      expect(await c.runUntil(() => !c.node(4).gate.verdict().writable, 30_000)).toBe(true);
      // n4 edits episodes locally that the majority is about to forget (writes the partition hides).
      const lagDoc = c.node(4).memoryService.peek('f')!;
      lagDoc.doc.transact(() => {
        for (const id of ids.slice(0, 20)) (episodesOf(lagDoc.doc).get(id) as unknown as Y.Map<unknown>).set('tags', ['HIDDEN-EDIT']);
      });
      // The majority forgets 20 and writes 5 more; every majority node folds the 20 tombstones.
      for (const id of ids.slice(0, 20)) expect(await c.settle(c.node(1).memory('f').forget(id), 10_000)).toBe(true);
      for (let k = 30; k < 35; k++) ids.push(await c.settle(c.node(0).memory('f').addEpisode({ task: `t${k}`, outcome: 'ok' }), 10_000));
      const folded = (i: number): number => (c.node(i).retention.status().memory as { tombstonesFolded: number }).tombstonesFolded;
      expect(await c.runUntil(() => [0, 1, 2].every((i) => folded(i) >= 20), 30_000)).toBe(true);
      const mapKeys = (i: number): number => (episodesOf(c.node(i).memoryService.peek('f')!.doc) as unknown as { _map: Map<string, unknown> })._map.size;
      for (const i of [0, 1, 2]) expect(mapKeys(i), `n${i} keeps no tombstone`).toBe(15);
      c.heal();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.digestsEqual(), 120_000)).toBe(true);
      // The rejoined pair merged the forgets and folded them too; everyone holds the same 15 episodes.
      expect(await c.runUntil(() => [3, 4].every((i) => folded(i) >= 20), 30_000)).toBe(true);
      const want = ids.slice(20).sort();
      for (let i = 0; i < 5; i++) {
        expect(c.node(i).memory('f').list().map((e) => e.id).sort(), `n${i}`).toEqual(want);
        expect(mapKeys(i), `n${i}`).toBe(15);
      }
      expect(c.digestsEqual()).toBe(true);
      await c.runFor(3000);
      for (let i = 0; i < 5; i++) {
        const bytes = storedBytes(c, i, 'agent/f');
        expect(bytes.includes('NOTE-3-'), `n${i} store`).toBe(false);
        expect(bytes.includes('HIDDEN-EDIT'), `n${i} store`).toBe(false);
        expect(bytes.includes('NOTE-25-'), `n${i} store`).toBe(true);
      }
    });
  }, 120_000);
});
