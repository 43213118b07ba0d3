// Bringing the recall index in step after a restart without holding the event loop
// (src/recall/recall-rebuild.ts): the rebuild runs in slices bounded by the clock, within one
// agent too; writes made between slices (forgets, new episodes) are in the index when it is done;
// a recall of one agent mid-way rebuilds that agent first; an agent not finished when the node
// stops is rebuilt at the next start (its digest row is not written early).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { silentLogger } from '../../src/node/logger.js';
import { forgetEpisodes } from '../../src/memory/forget.js';
import { RecallService } from '../../src/recall/recall-service.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { StepScheduler } from './lib/step-scheduler.js';

const AGENTS = 6;
const PER_AGENT = 400;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function seed(dir: string): void {
  const store = SqliteStore.open({ dir, name: 'n1' });
  for (let a = 0; a < AGENTS; a++) {
    const mem = new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: `agent/a${a}` });
    for (let i = 0; i < PER_AGENT; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `agent${a} note${i} common` }, { now: 1_800_000_000_000 + i });
    store.append(`agent/a${a}`, Y.encodeStateAsUpdate(mem.doc));
  }
  store.close();
}

function openNode(dir: string) {
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => performance.now(), evictable: () => true });
  const scheduler = new StepScheduler();
  // Every clock read is 1 ms later: a 20 ms slice is ~20 reads, whatever the machine's speed.
  let t = 0;
  const recall = new RecallService({ docs, scheduler, file: join(dir, 'recall.db'), logger: silentLogger(), now: () => ++t });
  const mem = (a: number): AgentMemoryDoc => new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: `agent/a${a}`, doc: docs.doc(`agent/a${a}`) });
  return { store, docs, scheduler, recall, mem };
}

const hits = (n: ReturnType<typeof openNode>, agent: string | undefined, text: string): number => n.recall.recall(agent, { text, limit: 1000 }).length;
/** Hits over every agent (a recall answers at most 1,000). */
const allHits = (n: ReturnType<typeof openNode>, text: string): number => {
  let sum = 0;
  for (let a = 0; a < AGENTS; a++) sum += hits(n, `a${a}`, text);
  return sum;
};

describe('recall index rebuilt in slices (background open)', () => {
  it('yields between bounded slices, takes writes made meanwhile, answers a one-agent recall mid-way, and records digests only when done', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-recall-rebuild-'));
    dirs.push(dir);
    seed(dir);
    const n = openNode(dir);
    n.recall.openInBackground();
    expect(n.recall.progress()).toMatchObject({ state: 'rebuilding', agents: AGENTS, rebuilt: 0 });
    n.scheduler.runOne();
    const p = n.recall.progress()!;
    // One slice of ~20 clock reads: part of the way through some agent, far from all 2,400 episodes.
    expect(p.state).toBe('rebuilding');
    expect(p.current).toBeDefined();
    expect(p.current!.done).toBeGreaterThan(0);
    expect(p.current!.done).toBeLessThan(PER_AGENT);
    expect(p.rebuilt).toBeLessThan(2);
    expect(n.scheduler.due.length).toBe(1); // the next slice waits its turn
    const inProgress = Number(p.current!.agent.slice(1));

    // Writes between slices: forget in the agent being rebuilt and in one not reached yet; add to one.
    const m0 = n.mem(inProgress);
    const m3 = n.mem(3);
    const gone0 = m0.list().filter((e) => e.task === 't399' || e.task === 't1').map((e) => e.id);
    const gone3 = m3.list().filter((e) => e.task === 't5').map((e) => e.id);
    expect(forgetEpisodes(m0, gone0)).toBe(2);
    expect(forgetEpisodes(m3, gone3)).toBe(1);
    n.mem(4).addEpisode({ task: 'late', outcome: 'ok', note: 'zebra' }, { now: 1_900_000_000_000 });

    // A recall of one agent not rebuilt yet rebuilds it now, whole, and the rest continues.
    expect(hits(n, 'a5', 'common')).toBe(PER_AGENT);
    expect(n.recall.progress()).toMatchObject({ state: 'rebuilding', current: { agent: `a${inProgress}` } });

    let steps = 0;
    while (n.scheduler.due.length > 0 && steps++ < 10_000) n.scheduler.runOne();
    expect(n.recall.progress()).toMatchObject({ state: 'in-step', agents: AGENTS, rebuilt: AGENTS });
    expect(steps).toBeGreaterThan(1); // several slices, not one pass
    expect(hits(n, `a${inProgress}`, 'note399')).toBe(0);
    expect(hits(n, `a${inProgress}`, 'note1')).toBe(0);
    expect(hits(n, `a${inProgress}`, 'note2')).toBe(1);
    expect(hits(n, 'a3', 'note5')).toBe(0);
    expect(hits(n, 'a4', 'zebra')).toBe(1);
    expect(allHits(n, 'common')).toBe(AGENTS * PER_AGENT - 3);
    n.recall.close();
    n.store.close();

    // Every agent's digest row was recorded: a restart rebuilds none.
    const again = openNode(dir);
    again.recall.open();
    expect(again.recall.lastOpen?.rebuilt).toBe(0);
    expect(allHits(again, 'common')).toBe(AGENTS * PER_AGENT - 3);
    again.recall.close();
    again.store.close();
  });

  it('an agent not finished when the node stops is rebuilt at the next start; a whole-node recall mid-way finishes the rebuild first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-recall-rebuild-'));
    dirs.push(dir);
    seed(dir);
    const n = openNode(dir);
    n.recall.openInBackground();
    for (let i = 0; i < 3; i++) n.scheduler.runOne();
    expect(n.recall.progress()?.state).toBe('rebuilding');
    // Touch an agent not reached yet, so it is "dirty" at close: its stale rows must not be vouched for.
    n.mem(5).addEpisode({ task: 'late', outcome: 'ok', note: 'yak' }, { now: 1_900_000_000_000 });
    n.recall.flush();
    n.recall.close();
    n.store.close();

    const b = openNode(dir);
    b.recall.openInBackground();
    b.scheduler.runOne();
    // Whole-node recall: everything is rebuilt before it answers, so nothing is missing.
    expect(hits(b, undefined, 'yak')).toBe(1);
    expect(b.recall.progress()).toMatchObject({ state: 'in-step' });
    expect(allHits(b, 'common')).toBe(AGENTS * PER_AGENT);
    expect(b.recall.progress()).toMatchObject({ state: 'in-step' });
    // Only what was not finished (a5, touched but not reached, among them) is rebuilt again.
    expect(b.recall.progress()!.rebuilt).toBeGreaterThanOrEqual(1);
    expect(b.recall.progress()!.rebuilt).toBeLessThan(AGENTS);
    b.recall.close();
    b.store.close();
  });
});
