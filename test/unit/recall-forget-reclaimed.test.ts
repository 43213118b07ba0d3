// A forgotten episode leaves the recall index whatever happens to its document before the index
// folds the change in: unloaded by residency, or reclaimed (its tombstones folded into GC structs
// that no longer name the episode) by the retention pass another agent's forget armed. The
// reclaim case left the rows (the soak's recall index held 1,115 forgotten episodes of 50 agents
// after 20 minutes, searchable, and grew with them): the first update of a reloaded document is
// now decoded when it arrives, not at the fold.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { episodeIds, forgetEpisodes } from '../../src/memory/forget.js';
import { silentLogger } from '../../src/node/logger.js';
import { RecallService } from '../../src/recall/recall-service.js';
import { realRuntime } from '../../src/runtime/real.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { foldTombstones } from '../../src/storage/tombstone-fold.js';
import { EPISODES_ROOT } from '../../crdt/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('recall index: a forget on a reloaded document', () => {
  for (const variant of ['evict-before-flush', 'reclaim-before-flush', 'evict-and-reclaim']) {
    it(`leaves the index (${variant.replaceAll('-', ' ')})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'tri-recall-forget-'));
      dirs.push(dir);
      const store = SqliteStore.open({ dir, name: 'n1' });
      const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => performance.now(), evictable: () => true });
      const recall = new RecallService({ docs, scheduler: realRuntime(silentLogger()).scheduler, file: join(dir, 'recall.db'), logger: silentLogger() });
      recall.open();
      let n = 0;
      const mem = () => new AgentMemoryDoc({ node: 'n1', random: Math.random, doc: docs.doc('agent/a') });
      for (let i = 0; i < 10; i++) mem().addEpisode({ task: `t${n++}`, outcome: 'ok' }, { now: 1_800_000_000_000 + n });
      recall.flush();
      docs.evictIdle();
      // A forget as the policy sweep does: the first transaction on a reloaded document.
      const m = mem();
      const ids = episodeIds(m.doc).slice(0, 5);
      forgetEpisodes(m, ids);
      if (variant !== 'reclaim-before-flush') docs.evictIdle();
      if (variant !== 'evict-before-flush') docs.reclaim('agent/a', (d) => foldTombstones(d, [EPISODES_ROOT]));
      if (variant === 'evict-and-reclaim') docs.evictIdle();
      recall.flush();
      const left = recall.recall('a', { limit: 100 }).map((h) => h.episode.id);
      expect(left).toHaveLength(5);
      for (const id of ids) expect(left).not.toContain(id);
      recall.close();
      store.close();
    });
  }
});
