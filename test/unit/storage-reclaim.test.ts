// Forgetting reaches the disk: after an episode is deleted and its document reclaimed, no byte of
// its content is left in the data directory (database, write-ahead log), other documents' rows
// keep holding the log's prefix and still reload, and maintenance hands freed pages back.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { forgetEpisodes } from '../../src/memory/forget.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { createPrng } from '../../src/sim/prng.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dirHolds(dir: string, needle: string): string[] {
  return readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(needle));
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

it('a forgotten episode leaves no byte in the data directory; the rest reloads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-reclaim-'));
  dirs.push(dir);
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store);
  const prng = createPrng('reclaim');
  const mem = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: docs.doc('agent/a') });
  // An older live row of another document sits before the secret in the log (it would hold back a prefix trim).
  const other = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: docs.doc('agent/b') });
  other.addEpisode({ task: 'other', outcome: 'ok', note: 'kept-note' }, { now: 1 });
  const secret = 'SECRET-' + 'q'.repeat(20_000); // large enough for overflow pages
  const id = mem.addEpisode({ task: 'secret task', outcome: 'ok', note: secret }, { now: 2 });
  mem.appendNote(id, ' TAIL-SECRET');
  const kept = mem.addEpisode({ task: 'kept', outcome: 'ok' }, { now: 3 });
  expect(dirHolds(dir, 'SECRET-qqqq').length).toBeGreaterThan(0);
  const grown = dirBytes(dir);

  expect(forgetEpisodes(mem, [id])).toBe(1);
  expect(docs.reclaim('agent/a')).toBe(true);
  expect(dirHolds(dir, 'SECRET-qqqq')).toEqual([]);
  expect(dirHolds(dir, 'TAIL-SECRET')).toEqual([]);
  expect(dirBytes(dir)).toBeLessThanOrEqual(grown);
  store.close();

  const again = SqliteStore.open({ dir, name: 'n1' });
  const reread = new DurableDocSet(again);
  const a = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: reread.doc('agent/a') });
  const b = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: reread.doc('agent/b') });
  expect(a.list().map((e) => e.id)).toEqual([kept]);
  expect(b.list().map((e) => e.notes)).toEqual(['kept-note']);
  again.close();
});

it('maintenance returns the pages of deleted rows to the file system (incremental vacuum, WAL truncated)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-vacuum-'));
  dirs.push(dir);
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store);
  const prng = createPrng('reclaim');
  const mem = new AgentMemoryDoc({ node: 'n1', random: () => prng.next(), doc: docs.doc('agent/big') });
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) ids.push(mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: 'n'.repeat(10_000) }, { now: i }));
  store.maintain();
  const full = dirBytes(dir);
  forgetEpisodes(mem, ids);
  docs.reclaim('agent/big');
  const after = dirBytes(dir);
  expect(after).toBeLessThan(full / 4);
  store.close();
});
