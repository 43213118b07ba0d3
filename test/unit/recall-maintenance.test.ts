// The recall index's maintenance (src/recall/recall-maintenance.ts): after churn (episodes written
// and forgotten, as retention does) a pass merges the FTS5 segments and hands the freed pages back,
// so the file shrinks to what is live while every search answers as before; a pass cut short by
// its time budget goes on at the next; an index file created without incremental vacuum is
// converted once; and a node runs the pass with its periodic store maintenance (simulator).
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Episode } from '../../crdt/index.js';
import { RecallIndex } from '../../src/recall/recall-index.js';
import { maintainIndex } from '../../src/recall/recall-maintenance.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
const { track } = simClusterPerTest();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function indexFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tri-recall-maint-'));
  dirs.push(dir);
  return join(dir, 'recall.db');
}

const WORDS = ['deploy', 'rollback', 'cache', 'latency', 'quorum', 'gossip', 'shard', 'lease', 'replica', 'vacuum'];
function episode(i: number): Episode {
  return { id: `e${i}`, task: `${WORDS[i % 10]} task ${i}`, outcome: i % 3 === 0 ? 'ok' : 'failed', notes: `note ${WORDS[(i * 7) % 10]} number ${i} ${'x'.repeat(i % 40)}`, tags: [], counters: {}, fields: {}, node: 'n1', createdAt: 1_700_000_000_000 + i };
}

/**
 * A steady state as retention makes it: 20 agents written in small batches (one FTS5 segment
 * each), each agent's oldest episodes forgotten beyond 20; run(rounds) writes `rounds` batches of 10.
 */
function churner(index: RecallIndex) {
  const held = new Map<string, number[]>();
  let i = 0;
  return {
    run(rounds: number): void {
      for (let r = 0; r < rounds; r++) {
        index.batch(() => {
          for (let k = 0; k < 10; k++, i++) {
            const agent = `a${i % 20}`;
            index.put(agent, episode(i));
            const list = held.get(agent) ?? [];
            held.set(agent, list);
            list.push(i);
            while (list.length > 20) index.remove(agent, `e${list.shift()!}`);
          }
        });
      }
    },
    /** Bytes of a new index holding only the live episodes, written in one transaction. */
    freshBytes(): number {
      const fresh = new RecallIndex(indexFile());
      fresh.batch(() => {
        for (const [agent, list] of held) for (const n of list) fresh.put(agent, episode(n));
      });
      const bytes = fresh.bytes();
      fresh.close();
      return bytes;
    },
  };
}

/** Slack allowed over a freshly written index: a few pages of b-tree fill and FTS5 structure. */
const SLACK = 4 * 4096;

const searches = (index: RecallIndex) => ({
  text: index.search(undefined, { text: 'deploy latency', limit: 50 }).map((h) => h.episode.id),
  agent: index.search('a3', { text: 'rollback note', limit: 50 }).map((h) => h.episode.id),
  newest: index.search('a7', { limit: 50 }).map((h) => h.episode.id),
});

describe('recall index maintenance', () => {
  it('after churn, merges the FTS5 segments and returns free pages: the file shrinks, searches answer alike', () => {
    const file = indexFile();
    const index = new RecallIndex(file);
    const churn = churner(index);
    churn.run(600);
    expect(index.episodes()).toBe(400);
    const before = searches(index);
    expect(before.text.length).toBeGreaterThan(0);
    const bytesBefore = index.bytes();

    const r = index.maintain(Infinity);
    expect(r.merged).toBe(true);
    expect(r.converted).toBe(false); // a new file is created with incremental vacuum
    expect(r.bytesBefore).toBe(bytesBefore);
    // 6,000 episodes written, 400 live: what the deleted ones left behind is gone.
    expect(r.bytesAfter).toBeLessThan(bytesBefore);
    expect(r.bytesAfter).toBeLessThanOrEqual(churn.freshBytes() + SLACK);
    expect(index.bytes()).toBe(r.bytesAfter);
    expect(statSync(file).size).toBe(r.bytesAfter);
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    expect(searches(index)).toEqual(before);
    expect(index.episodes()).toBe(400);

    // Merged already: the next pass has nothing to merge and finds the file as it left it.
    const again = index.maintain(Infinity);
    expect(again).toMatchObject({ merged: true, mergeSteps: 1, bytesAfter: r.bytesAfter });
    index.close();
  });

  it('stays at the live size through repeated churn and passes (no peak kept)', () => {
    const index = new RecallIndex(indexFile());
    const churn = churner(index);
    churn.run(300);
    const sizes: number[] = [];
    for (let pass = 0; pass < 4; pass++) {
      churn.run(300);
      sizes.push(index.maintain(Infinity).bytesAfter);
    }
    const fresh = churn.freshBytes();
    for (const s of sizes) expect(s).toBeLessThanOrEqual(fresh + SLACK);
    index.close();
  });

  it('a pass cut short by its budget goes on at the next one', () => {
    const file = indexFile();
    const index = new RecallIndex(file);
    const churn = churner(index);
    churn.run(600);
    const before = searches(index);
    index.close();
    const db = new Database(file);
    // A clock that moves 1 ms per reading: a budget of 3 ms leaves room for two steps of one page.
    let t = 0;
    const clock = () => t++;
    expect(maintainIndex(db, 'ep_fts', { budgetMs: 0, now: clock, stepPages: 1 })).toMatchObject({ mergeSteps: 0, merged: false });
    t = 0;
    expect(maintainIndex(db, 'ep_fts', { budgetMs: 3, now: clock, stepPages: 1 })).toMatchObject({ mergeSteps: 2, merged: false });
    const rest = maintainIndex(db, 'ep_fts', { budgetMs: Infinity, stepPages: 1 });
    expect(rest.merged).toBe(true);
    expect(rest.bytesAfter).toBeLessThanOrEqual(churn.freshBytes() + SLACK);
    db.close();
    const reopened = new RecallIndex(file);
    expect(searches(reopened)).toEqual(before);
    reopened.close();
  });

  it('converts an index file created without incremental vacuum once, keeping its rows', () => {
    const file = indexFile();
    const legacy = new Database(file);
    legacy.exec('CREATE TABLE older (x)'); // a file with a table already ignores a new auto_vacuum setting
    legacy.close();
    const index = new RecallIndex(file);
    churner(index).run(300);
    const before = searches(index);
    const r = index.maintain(Infinity);
    expect(r.converted).toBe(true);
    expect(r.bytesAfter).toBeLessThan(r.bytesBefore);
    expect(searches(index)).toEqual(before);
    expect(index.maintain(Infinity).converted).toBe(false);
    index.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    check.close();
  });
});

describe('recall index file', () => {
  it('is owner-only like node.db (episode content), its write-ahead log too, whatever the umask', () => {
    const file = indexFile();
    const old = process.umask(0o022);
    try {
      const index = new RecallIndex(file);
      churner(index).run(5);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      index.close();
    } finally {
      process.umask(old);
    }
  });
});

describe('recall index maintenance on a node (simulator)', () => {
  it('runs with the periodic store maintenance and shows on /status', async () => {
    const c = track(new SimCluster({ seed: 'recall-maintenance', nodes: 1 }));
    await withReplay(c, async () => {
      await c.start();
      const node = c.node(0);
      expect(node.retention.status()).toMatchObject({ recallIndex: { passes: 0 } });
      const mem = node.memory('m');
      for (let k = 0; k < 30; k++) await c.settle(mem.addEpisode({ task: `deploy ${k}`, outcome: 'ok' }), 10_000);
      expect(node.recall({ text: 'deploy', limit: 100 })).toHaveLength(30);
      for (const e of mem.list().slice(0, 20)) await c.settle(mem.forget(e.id), 10_000);
      // The store's maintenance period is 5 minutes.
      await c.runFor(5 * 60_000 + 1000);
      const status = node.retention.status() as { recallIndex: { passes: number; last?: { merged: boolean } } };
      expect(status.recallIndex.passes).toBeGreaterThanOrEqual(1);
      expect(status.recallIndex.last?.merged).toBe(true);
      expect(node.recall({ text: 'deploy', limit: 100 })).toHaveLength(10);
    });
  }, 120_000);
});
