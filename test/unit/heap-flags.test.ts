import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardAllowanceBytes, heapFlagsForBudget, oldSpaceMiB, semiSpaceMiB, sqliteCacheBytes } from '../../src/node/heap-flags.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const MIB = 1024 * 1024;

describe('V8 heap flags from the memory budget', () => {
  it('sizes the semi-space as budget / 32, a power of two from 1 to 16 MiB', () => {
    expect(semiSpaceMiB(1)).toBe(1);
    expect(semiSpaceMiB(16 * MIB)).toBe(1);
    expect(semiSpaceMiB(64 * MIB)).toBe(2);
    expect(semiSpaceMiB(100 * MIB)).toBe(2);
    expect(semiSpaceMiB(256 * MIB)).toBe(8);
    expect(semiSpaceMiB(1024 * MIB)).toBe(16);
    expect(semiSpaceMiB(64 * 1024 * MIB)).toBe(16);
  });

  it('puts the old-generation ceiling at 4 x the budget + 256 MiB, at least 512 MiB', () => {
    expect(oldSpaceMiB(16 * MIB)).toBe(512);
    expect(oldSpaceMiB(64 * MIB)).toBe(512);
    expect(oldSpaceMiB(256 * MIB)).toBe(1280);
    expect(oldSpaceMiB(1024 * MIB)).toBe(4352);
  });

  it('gives both flags when the user set neither', () => {
    expect(heapFlagsForBudget(256 * MIB)).toEqual(['--max-semi-space-size=8', '--max-old-space-size=1280']);
    expect(heapFlagsForBudget(16 * MIB, '--enable-source-maps', ['--no-warnings'])).toEqual(['--max-semi-space-size=1', '--max-old-space-size=512']);
  });

  it('leaves alone a flag the user set in NODE_OPTIONS or node argv, in either spelling', () => {
    expect(heapFlagsForBudget(256 * MIB, '--max-old-space-size=3000')).toEqual(['--max-semi-space-size=8']);
    expect(heapFlagsForBudget(256 * MIB, ' --enable-source-maps  --max_semi_space_size=32 ')).toEqual(['--max-old-space-size=1280']);
    expect(heapFlagsForBudget(256 * MIB, '', ['--max-semi-space-size=2', '--max-old-space-size=900'])).toEqual([]);
  });

  it('refuses a budget that is not a positive number', () => {
    expect(() => heapFlagsForBudget(0)).toThrow(RangeError);
    expect(() => heapFlagsForBudget(Number.NaN)).toThrow(RangeError);
  });

  it('a node process started with the flags has the heap they describe (V8 reads them only at start)', () => {
    const flags = heapFlagsForBudget(16 * MIB);
    const script = "const v8=require('node:v8');console.log(JSON.stringify({limit:v8.getHeapStatistics().heap_size_limit}))";
    const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, [...args, '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as { limit: number };
    const capped = run(flags);
    const plain = run([]);
    // heap_size_limit = old generation ceiling + young generation (3 semi-spaces).
    expect(capped.limit).toBeGreaterThanOrEqual(512 * MIB);
    expect(capped.limit).toBeLessThan(560 * MIB);
    expect(plain.limit).toBeGreaterThan(capped.limit);
  });
});

describe('SQLite page cache from the memory budget', () => {
  it('is budget / 8, from 2 to 16 MiB', () => {
    expect(sqliteCacheBytes(16 * MIB)).toBe(2 * MIB);
    expect(sqliteCacheBytes(64 * MIB)).toBe(8 * MIB);
    expect(sqliteCacheBytes(256 * MIB)).toBe(16 * MIB);
  });

  it('is what a store opened with it uses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-cache-'));
    try {
      const store = SqliteStore.open({ dir, name: 'n1', cacheBytes: sqliteCacheBytes(16 * MIB) });
      const db = (store as unknown as { db: { pragma(p: string, o: { simple: true }): unknown } }).db;
      expect(db.pragma('cache_size', { simple: true })).toBe(-2048);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('heap guard allowance from the memory budget', () => {
  it('is budget / 4, from 32 to 64 MiB', () => {
    expect(guardAllowanceBytes(1)).toBe(32 * MIB);
    expect(guardAllowanceBytes(16 * MIB)).toBe(32 * MIB);
    expect(guardAllowanceBytes(192 * MIB)).toBe(48 * MIB);
    expect(guardAllowanceBytes(256 * MIB)).toBe(64 * MIB);
    expect(guardAllowanceBytes(4096 * MIB)).toBe(64 * MIB);
  });
});
