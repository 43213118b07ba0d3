// Recall from the index a node keeps beside its documents: bm25 ranking over task, outcome and
// notes, every filter, FTS syntax in user text, edits and replicated updates followed (pending ones
// too), and reopening from the data directory (in step: nothing rebuilt; after a crash or a change
// made while closed: the agents concerned rebuilt).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { episodesOf } from '../../crdt/schema.js';
import { silentLogger } from '../../src/node/logger.js';
import { checkRecallQuery, ftsExpression, queryWords } from '../../src/recall/recall-query.js';
import { FLUSH_INTERVAL_MS, RecallService } from '../../src/recall/recall-service.js';
import type { Scheduler } from '../../src/runtime/types.js';
import { createPrng } from '../../src/sim/prng.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A scheduler whose timers and end-of-turn work run when the test says so (or at a recall, which
 * flushes itself). `delays`: the delay of every timer set, and `immediates`: how many turn-end
 * callbacks were queued, so a test can tell how a fold was scheduled.
 */
function manualScheduler(): Scheduler & { run(): void; delays: number[]; immediates: number } {
  let queued: Array<{ fn: () => void; live: boolean }> = [];
  const s = {
    delays: [] as number[],
    immediates: 0,
    schedule: (delayMs: number, fn: () => void) => {
      s.delays.push(delayMs);
      const entry = { fn, live: true };
      queued.push(entry);
      return () => void (entry.live = false);
    },
    immediate: (fn: () => void) => {
      s.immediates++;
      queued.push({ fn, live: true });
    },
    run() {
      const q = queued;
      queued = [];
      for (const e of q) if (e.live) e.fn();
    },
  };
  return s;
}

function newDocs(): DurableDocSet {
  return new DurableDocSet(new MemoryStore({ nodeId: 'n1', name: 'n1' }));
}

function setup(file = ':memory:', docs = newDocs()) {
  const scheduler = manualScheduler();
  const recall = new RecallService({ docs, scheduler, file, logger: silentLogger() });
  recall.open();
  const rng = createPrng('recall');
  const writer = (agent: string, node = 'n1') => new AgentMemoryDoc({ node, random: () => rng.next(), doc: docs.doc(`agent/${agent}`) });
  return { docs, scheduler, recall, writer };
}

function rnd(seed: string): () => number {
  const r = createPrng(seed);
  return () => r.next();
}

const ids = (hits: Array<{ episode: { id: string } }>) => hits.map((h) => h.episode.id);

describe('recall', () => {
  it('ranks by bm25: more and rarer query words first, task above notes; no text lists newest first', () => {
    const { recall, writer } = setup();
    const m = writer('a1');
    const both = m.addEpisode({ task: 'migrate the billing database', outcome: 'ok', note: 'ran the schema migration' }, { now: 1000 });
    const noteOnly = m.addEpisode({ task: 'weekly report', outcome: 'ok', note: 'mentions billing once' }, { now: 2000 });
    const taskOnly = m.addEpisode({ task: 'billing export', outcome: 'ok' }, { now: 3000 });
    m.addEpisode({ task: 'unrelated chores', outcome: 'ok', note: 'nothing to see' }, { now: 4000 });
    const hits = recall.recall('a1', { text: 'billing database' });
    expect(ids(hits)).toEqual([both, taskOnly, noteOnly]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[0]!.agent).toBe('a1');
    expect(hits[0]!.episode.notes).toBe('ran the schema migration');
    // Stemming: "migrations" finds "migrate"/"migration".
    expect(ids(recall.recall('a1', { text: 'Migrations' }))).toEqual([both]);
    // Without text: newest first, limit applies.
    expect(ids(recall.recall('a1', { limit: 2 })).length).toBe(2);
    expect(recall.recall('a1', {}).map((h) => h.episode.createdAt)).toEqual([4000, 3000, 2000, 1000]);
  });

  it('filters on tags (all of them), outcome, fields, time, agent and limit', () => {
    const { recall, writer } = setup();
    const a = writer('a1');
    const b = writer('b1');
    const e1 = a.addEpisode({ task: 'deploy api', outcome: 'ok', tags: ['prod', 'api'], fields: { grade: 'A', cost: 3 } }, { now: 100 });
    const e2 = a.addEpisode({ task: 'deploy web', outcome: 'failed', tags: ['prod'], fields: { grade: 'B', cfg: { x: [1, 2] } } }, { now: 200 });
    const e3 = a.addEpisode({ task: 'deploy docs', outcome: 'ok', tags: ['staging'] }, { now: 300 });
    const f1 = b.addEpisode({ task: 'deploy api', outcome: 'ok', tags: ['prod'] }, { now: 150 });
    const text = { text: 'deploy' };
    expect(ids(recall.recall('a1', { ...text, tags: ['prod'] })).sort()).toEqual([e1, e2].sort());
    expect(ids(recall.recall('a1', { ...text, tags: ['prod', 'api'] }))).toEqual([e1]);
    expect(ids(recall.recall('a1', { tags: ['nope'] }))).toEqual([]);
    expect(ids(recall.recall('a1', { outcome: 'failed' }))).toEqual([e2]);
    expect(ids(recall.recall('a1', { fields: { grade: 'A' } }))).toEqual([e1]);
    expect(ids(recall.recall('a1', { fields: { cost: 3 } }))).toEqual([e1]);
    expect(ids(recall.recall('a1', { fields: { cost: '3' } }))).toEqual([]);
    expect(ids(recall.recall('a1', { fields: { cfg: { x: [1, 2] } } }))).toEqual([e2]);
    expect(ids(recall.recall('a1', { since: 150, until: 250 }))).toEqual([e2]);
    expect(ids(recall.recall('a1', { since: 200 }))).toEqual([e3, e2]);
    expect(ids(recall.recall('a1', { until: 100 }))).toEqual([e1]);
    expect(ids(recall.recall('b1', text))).toEqual([f1]);
    // An agent whose id shares words with another's sees only its own episodes.
    const g1 = writer('b1.team').addEpisode({ task: 'deploy api', outcome: 'ok' }, { now: 160 });
    expect(ids(recall.recall('b1', text))).toEqual([f1]);
    expect(ids(recall.recall('b1.team', text))).toEqual([g1]);
    const all = recall.recall(undefined, { text: 'deploy api' });
    expect(all.map((h) => `${h.agent}/${h.episode.id}`).slice(0, 3).sort()).toEqual([`a1/${e1}`, `b1/${f1}`, `b1.team/${g1}`].sort());
    expect(recall.recall(undefined, { text: 'deploy', limit: 3 }).length).toBe(3);
  });

  it('never errors on FTS syntax in user text; rejects bad queries with a clear message', () => {
    const { recall, writer } = setup();
    const m = writer('a1');
    const e = m.addEpisode({ task: 'parse "quoted" NEAR(a b) col:umn -x ^y *', outcome: 'ok' }, { now: 1 });
    for (const text of ['"', '""', '*', 'NEAR(', 'AND OR NOT', 'col:umn', '-x', '^y', '(a OR', "'; DROP TABLE ep; --", '\u0000', '{task}: x', '   ', '']) {
      expect(() => recall.recall('a1', { text }), text).not.toThrow();
    }
    expect(ids(recall.recall('a1', { text: 'NEAR(a b)' }))).toEqual([e]);
    expect(ids(recall.recall('a1', { text: 'quoted"' }))).toEqual([e]);
    expect(recall.recall('a1', { text: '"*"' })).toEqual([]);
    expect(ftsExpression(queryWords('a"b c'))).toBe('"a" OR "b" OR "c"');
    expect(() => checkRecallQuery({ text: 5 })).toThrow(/text must be a string/);
    expect(() => checkRecallQuery({ limit: 0 })).toThrow(/limit must be a whole number/);
    expect(() => checkRecallQuery({ tags: 'x' })).toThrow(/tags must be an array/);
    expect(() => checkRecallQuery({ since: 'yesterday' })).toThrow(/since must be a time/);
    expect(() => checkRecallQuery({ colour: 'red' })).toThrow(/does not know the option "colour"/);
    expect(() => checkRecallQuery([1])).toThrow(/must be an object/);
    expect(() => checkRecallQuery({ text: 'x'.repeat(5000) })).toThrow(/at most 4096/);
  });

  it('follows edits: appended notes, tags added and removed, fields set (conflicts match either value)', () => {
    const { docs, recall, writer, scheduler } = setup();
    const m = writer('a1');
    const e = m.addEpisode({ task: 'summarize', outcome: 'ok' }, { now: 1 });
    scheduler.run();
    expect(recall.recall('a1', { text: 'kangaroo' })).toEqual([]);
    m.appendNote(e, 'saw a kangaroo');
    m.tag(e, 'zoo');
    scheduler.run();
    expect(ids(recall.recall('a1', { text: 'kangaroo', tags: ['zoo'] }))).toEqual([e]);
    m.untag(e, 'zoo');
    expect(recall.recall('a1', { tags: ['zoo'] })).toEqual([]);
    // A concurrent set on a replica: the field reads {conflict: [...]}, and a filter on either value finds it.
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(docs.doc('agent/a1')));
    const replica = new AgentMemoryDoc({ node: 'n2', random: rnd('r'), doc: other });
    m.set(e, 'grade', 'A');
    replica.set(e, 'grade', 'B');
    docs.apply('agent/a1', Y.encodeStateAsUpdate(other, Y.encodeStateVector(docs.doc('agent/a1'))), { remotePeer: 'n2' });
    expect(m.get(e)!.fields.grade).toEqual({ conflict: expect.arrayContaining(['A', 'B']) as unknown });
    expect(ids(recall.recall('a1', { fields: { grade: 'A' } }))).toEqual([e]);
    expect(ids(recall.recall('a1', { fields: { grade: 'B' } }))).toEqual([e]);
  });

  it('finds nearest episodes by embedding, fuses them with the text rank, and checks vectors', () => {
    const { recall, writer } = setup();
    const m = writer('a1');
    const north = m.addEpisode({ task: 'walk north', outcome: 'ok', fields: { embedding: [1, 0, 0] } }, { now: 1 });
    const east = m.addEpisode({ task: 'walk east', outcome: 'ok', fields: { embedding: [0, 1, 0] } }, { now: 2 });
    const nne = m.addEpisode({ task: 'drive north north east', outcome: 'ok', fields: { embedding: [0.9, 0.3, 0] } }, { now: 3 });
    m.addEpisode({ task: 'walk without a vector', outcome: 'ok' }, { now: 4 });
    m.addEpisode({ task: 'walk, other model', outcome: 'ok', fields: { embedding: [1, 0] } }, { now: 5 });
    // Vector only: by cosine, best first; episodes without one (or of another dimension) are not candidates.
    const byVector = recall.recall('a1', { vector: [2, 0.1, 0] });
    expect(ids(byVector)).toEqual([north, nne, east]);
    expect(byVector[0]!.score).toBeGreaterThan(0.99);
    // Filters apply to vector search too.
    expect(ids(recall.recall('a1', { vector: [1, 0, 0], since: 2 }))).toEqual([nne, east]);
    // Text and vector fused: "walk" ranks the three walks; the vector pulls north above east, and nne
    // (no "walk") still appears through the vector ranking.
    const fused = ids(recall.recall('a1', { text: 'walk', vector: [1, 0, 0], limit: 10 }));
    expect(fused[0]).toBe(north);
    expect(fused).toContain(nne);
    expect(fused.indexOf(north)).toBeLessThan(fused.indexOf(east));
    expect(() => recall.recall('a1', { vector: [] })).toThrow(/vector must be an array/);
    expect(() => recall.recall('a1', { vector: [1, Number.NaN] as number[] })).toThrow(/vector must be an array/);
    expect(recall.recall('a1', { vector: [0, 0, 0] })).toEqual([]);
  });

  it('drops an episode whose map is deleted from the document (forgetting)', () => {
    const { docs, recall, writer } = setup();
    const m = writer('a1');
    const keep = m.addEpisode({ task: 'keep this echidna', outcome: 'ok' }, { now: 1 });
    const drop = m.addEpisode({ task: 'forget this echidna', outcome: 'ok' }, { now: 2 });
    expect(recall.recall('a1', { text: 'echidna' })).toHaveLength(2);
    episodesOf(docs.doc('agent/a1')).delete(drop);
    expect(ids(recall.recall('a1', { text: 'echidna' }))).toEqual([keep]);
  });

  it('follows replicated updates, including ones that waited on a missing dependency', () => {
    const { docs, recall } = setup();
    const remote = new Y.Doc();
    const w = new AgentMemoryDoc({ node: 'n2', random: rnd('w'), doc: remote });
    const updates: Uint8Array[] = [];
    remote.on('update', (u: Uint8Array) => updates.push(u));
    const e1 = w.addEpisode({ task: 'first remote', outcome: 'ok' }, { now: 1 });
    w.appendNote(e1, ' platypus');
    const e2 = w.addEpisode({ task: 'second remote wombat', outcome: 'ok' }, { now: 2 });
    // The note and the second episode arrive before the episode they follow.
    docs.apply('agent/r', updates[1]!, { remotePeer: 'n2' });
    docs.apply('agent/r', updates[2]!, { remotePeer: 'n2' });
    expect(recall.recall('r', { text: 'platypus wombat' })).toEqual([]);
    docs.apply('agent/r', updates[0]!, { remotePeer: 'n2' });
    expect(ids(recall.recall('r', { text: 'platypus' }))).toEqual([e1]);
    expect(ids(recall.recall('r', { text: 'wombat' }))).toEqual([e2]);
  });

  it('reopens from its file in step, and rebuilds only agents changed while closed or during a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-recall-'));
    dirs.push(dir);
    const file = join(dir, 'recall.db');
    const docs = newDocs();
    const s1 = setup(file, docs);
    const a = s1.writer('a1');
    const b = s1.writer('b1');
    const ea = a.addEpisode({ task: 'alpha task', outcome: 'ok' }, { now: 1 });
    const eb = b.addEpisode({ task: 'beta task', outcome: 'ok' }, { now: 2 });
    s1.scheduler.run();
    s1.recall.close();

    // Reopened with the documents unchanged: nothing is rebuilt, everything is found.
    const s2 = setup(file, docs);
    expect(s2.recall.lastOpen).toMatchObject({ rebuilt: 0, agents: 2 });
    expect(ids(s2.recall.recall(undefined, { text: 'task' })).sort()).toEqual([ea, eb].sort());
    s2.recall.close();

    // A change made while the index was closed: that agent alone is rebuilt.
    const ea2 = a.addEpisode({ task: 'gamma written while closed', outcome: 'ok' }, { now: 3 });
    const s3 = setup(file, docs);
    expect(s3.recall.lastOpen).toMatchObject({ rebuilt: 1, agents: 2 });
    expect(ids(s3.recall.recall('a1', { text: 'gamma' }))).toEqual([ea2]);
    // A crash (no close) after a change folded in: the changed agent has no digest row and is rebuilt.
    b.appendNote(eb, ' delta');
    s3.scheduler.run();
    const s4 = setup(file, docs);
    expect(s4.recall.lastOpen).toMatchObject({ rebuilt: 1 });
    expect(ids(s4.recall.recall('b1', { text: 'delta' }))).toEqual([eb]);
    s4.recall.close();
    s3.recall.close();
  });

  it('folds writes in on a timer (one transaction for many), at once past a backlog bound, and a recall before the timer still sees them', () => {
    const { scheduler, recall, writer } = setup();
    const index = recall.open();
    const a = writer('a1');
    const e1 = a.addEpisode({ task: 'first kangaroo', outcome: 'ok' }, { now: 1 });
    a.addEpisode({ task: 'second kangaroo', outcome: 'ok' }, { now: 2 });
    // Not folded in yet: one timer of FLUSH_INTERVAL_MS for both writes, nothing at the turn's end.
    expect(index.episodes()).toBe(0);
    expect(scheduler.delays).toEqual([FLUSH_INTERVAL_MS]);
    expect(scheduler.immediates).toBe(0);
    scheduler.run();
    expect(index.episodes()).toBe(2);
    // A recall folds in what waits, without the timer.
    a.appendNote(e1, ' quokka');
    expect(ids(recall.recall('a1', { text: 'quokka' }))).toEqual([e1]);
    // A large backlog is folded in at the end of the turn instead of waiting for the timer.
    for (let i = 0; i < 600; i++) a.addEpisode({ task: `bulk ${i}`, outcome: 'ok' }, { now: 10 + i });
    expect(scheduler.immediates).toBe(1);
    scheduler.run();
    expect(index.episodes()).toBe(602);
  });
});
