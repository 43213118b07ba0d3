// A policy sweep over many agents reclaims what it forgot from the data directory, with one store
// maintenance (vacuum + write-ahead log truncated, a synchronous fsync) for the whole batch
// instead of one per agent: the soak's 200 agents at their policy were ~200 maintenances per sweep.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { writePolicy } from '../../src/memory/forget.js';
import type { MemoryService } from '../../src/memory/memory-service.js';
import { MemoryRetention } from '../../src/memory/retention.js';
import { realRuntime } from '../../src/runtime/real.js';
import { silentLogger } from '../../src/runtime/silent-logger.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { createPrng } from '../../src/sim/prng.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const dirHolds = (dir: string, needle: string): string[] => readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(needle));

it('a sweep that trims 40 agents reclaims their disk with one maintenance, and the data directory shrinks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-reclaim-batch-'));
  dirs.push(dir);
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store);
  const prng = createPrng('reclaim-batch');
  const mems = new Map<string, AgentMemoryDoc>();
  for (let a = 0; a < 40; a++) {
    const mem = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: docs.doc(`agent/a${a}`) });
    writePolicy(mem, { maxEpisodes: 5 });
    for (let i = 0; i < 30; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `OLD-${a}-${i}-` + 'x'.repeat(2000) }, { now: i + 1 });
    mems.set(`a${a}`, mem);
  }
  store.maintain();
  const full = dirBytes(dir);
  let maintenances = 0;
  const maintain = store.maintain.bind(store);
  store.maintain = () => {
    maintenances++;
    maintain();
  };
  // The parts of a memory service the retention uses: its documents, peek and a (here local) write.
  const service = {
    docs,
    peek: (agent: string) => mems.get(agent),
    write: async <T>(agent: string, op: (doc: AgentMemoryDoc) => T): Promise<T> => op(mems.get(agent)!),
  } as unknown as MemoryService;
  const retention = new MemoryRetention({ service, store, runtime: realRuntime(silentLogger()), writable: () => true, sweepMs: 3_600_000 });
  try {
    expect(await retention.sweep()).toBe(40 * 25);
    expect(retention.stats).toMatchObject({ lastSweepAgents: 40, lastSweepTrimmed: 40 });
    for (let waited = 0; retention.stats.reclaimed < 40 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(retention.stats.reclaimed).toBe(40);
    expect(maintenances).toBe(1);
    expect(retention.stats.maintenance).toBe(1);
    // What was forgotten left the data directory; what is kept reloads.
    expect(dirBytes(dir)).toBeLessThan(full / 3);
    expect(dirHolds(dir, 'OLD-7-3-')).toEqual([]);
    expect(dirHolds(dir, 'OLD-7-29-').length).toBeGreaterThan(0);
  } finally {
    retention.stop();
    store.close();
  }
  const again = SqliteStore.open({ dir, name: 'n1' });
  const reread = new DurableDocSet(again);
  const a7 = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: reread.doc('agent/a7') });
  expect(a7.list().map((e) => e.task).sort()).toEqual(['t25', 't26', 't27', 't28', 't29']);
  again.close();
});
