// The heap guard (src/node/heap-guard.ts): asks for a full collection only when the heap in use
// passes budget + allowance, at most once per gap, and, while the live heap itself is above the
// line, only once half the allowance of new garbage piled up. Heap, clock and collector are
// injected; one test uses the real V8 hook.
import { describe, expect, it } from 'vitest';
import { HeapGuard } from '../../src/node/heap-guard.js';

const MB = 1024 * 1024;

function fake(heapMB: number[]) {
  let now = 0;
  let heap = heapMB[0]! * MB;
  const after: number[] = heapMB.slice(1).map((x) => x * MB);
  let collected = 0;
  const guard = new HeapGuard({
    budgetBytes: 64 * MB,
    allowanceBytes: 64 * MB,
    minGapMs: 10_000,
    heapUsed: () => heap,
    collect: () => {
      collected++;
      heap = after.shift() ?? heap;
    },
    now: () => now,
  });
  return {
    guard,
    at: (ms: number, mb?: number) => {
      now = ms;
      if (mb !== undefined) heap = mb * MB;
    },
    collected: () => collected,
  };
}

describe('heap guard', () => {
  it('collects only above budget + allowance, and at most once per gap', () => {
    const f = fake([100, 60]);
    expect(f.guard.check()).toBe(false); // 100 MB < 128 MB
    f.at(1000, 200);
    expect(f.guard.check()).toBe(true);
    expect(f.guard.stats).toMatchObject({ collections: 1, heapAfterBytes: 60 * MB });
    f.at(5000, 300);
    expect(f.guard.check()).toBe(false); // within the 10 s gap
    f.at(11_000);
    expect(f.guard.check()).toBe(true);
    expect(f.collected()).toBe(2);
  });

  it('with a live heap above the line, collects again only once half the allowance of garbage piled up', () => {
    const f = fake([200, 150, 150]);
    expect(f.guard.check()).toBe(true); // live 150 MB, over the 128 MB line
    f.at(20_000, 170);
    expect(f.guard.check()).toBe(false); // 20 MB of garbage: collecting would free little
    f.at(30_000, 190);
    expect(f.guard.check()).toBe(true); // 40 MB >= 32 MB
    expect(f.collected()).toBe(2);
  });

  it('frees garbage with the real V8 hook (no --expose-gc needed)', () => {
    const guard = new HeapGuard({ budgetBytes: 0, allowanceBytes: 0, minGapMs: 0 });
    let junk: number[][] | undefined = Array.from({ length: 200 }, () => Array.from({ length: 5000 }, (_, i) => i));
    const before = process.memoryUsage().heapUsed;
    junk = undefined;
    expect(guard.check()).toBe(true);
    expect(junk).toBeUndefined();
    expect(guard.stats.heapAfterBytes!).toBeLessThan(before);
  });
});
