// TRI_WRITE_TRACE's recorder: per phase, the count, mean, percentiles and max of what was
// recorded since the last line, one JSON line per interval, and nothing written for an empty one.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { WriteTrace, writeTrace } from '../../src/util/write-trace.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('is off unless TRI_WRITE_TRACE names a directory', () => {
  expect(process.env.TRI_WRITE_TRACE ? writeTrace : undefined).toBe(writeTrace);
  if (!process.env.TRI_WRITE_TRACE) expect(writeTrace).toBeUndefined();
});

it('writes one line per interval with each phase summarized, and resets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-write-trace-'));
  dirs.push(dir);
  const file = join(dir, 'trace.jsonl');
  const t = new WriteTrace(file);
  t.dump();
  expect(existsSync(file)).toBe(false); // nothing recorded: no line
  for (let i = 1; i <= 100; i++) t.add('commit.toDurable', i);
  t.add('walsync.batchesPerSync', 3);
  t.dump();
  t.add('commit.toDurable', 7);
  t.dump();
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, { n: number; mean: number; p50: number; p99: number; max: number }>);
  expect(lines).toHaveLength(2);
  expect(lines[0]!['commit.toDurable']).toEqual({ n: 100, mean: 50.5, p50: 51, p99: 100, max: 100 });
  expect(lines[0]!['walsync.batchesPerSync']).toMatchObject({ n: 1, max: 3 });
  expect(lines[0]!.loopDelayMs).toBeDefined();
  expect(lines[1]!['commit.toDurable']).toEqual({ n: 1, mean: 7, p50: 7, p99: 7, max: 7 });
  expect(lines[1]!['walsync.batchesPerSync']).toBeUndefined();
});
