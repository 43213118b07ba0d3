// `tri node heap-flags`: prints NODE_OPTIONS (the caller's own plus V8 heap limits derived from the
// memory budget) that, given to node, really size its heap; a bad size is bad usage (exit 2).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeResult, runTri } from './lib/index.js';

const MIB = 1024 * 1024;

describe('tri node heap-flags', () => {
  it('prints NODE_OPTIONS that bound the heap of a node started with them', async () => {
    const r = await runTri(['node', 'heap-flags', '--memory-budget', '64MB']);
    expect(r.code, describeResult(r)).toBe(0);
    const options = r.stdout.trim();
    expect(options.split(' ')).toEqual(expect.arrayContaining(['--max-semi-space-size=2', '--max-old-space-size=512']));
    const limit = Number(execFileSync(process.execPath, ['-p', "require('node:v8').getHeapStatistics().heap_size_limit"], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: options } }));
    // old generation 512 MiB + young generation (3 semi-spaces of 2 MiB)
    expect(limit).toBeGreaterThanOrEqual(512 * MIB);
    expect(limit).toBeLessThan(530 * MIB);
  });

  it('refuses a size it cannot read with exit 2', async () => {
    const r = await runTri(['node', 'heap-flags', '--memory-budget', 'lots']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('is not a size');
    expect(r.stdout).toBe('');
  });
});
