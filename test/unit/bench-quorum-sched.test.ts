// procSchedMs / schedMsOf (bench/quorum/load.ts): a process's CPU and run-queue wait summed over
// its threads, from Linux's schedstat; zeros for no process. Elsewhere than Linux it prints why it skips.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { procSchedMs, schedMsOf } from '../../bench/quorum/load.js';

const linux = existsSync(`/proc/${process.pid}/task`);
if (!linux) console.warn('SKIPPING bench-quorum-sched: no /proc/PID/task/*/schedstat on this system');

it.skipIf(!linux)('counts this process: its threads, CPU that grows with work, run-queue wait never negative', () => {
  const a = procSchedMs(process.pid);
  expect(a.threads).toBeGreaterThanOrEqual(1);
  let x = 0;
  const until = performance.now() + 30;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const b = procSchedMs(process.pid);
  expect(x).toBeGreaterThan(0);
  expect(b.cpuMs - a.cpuMs).toBeGreaterThan(10); // ~30 ms of busy loop on the main thread
  expect(b.runQueueMs).toBeGreaterThanOrEqual(a.runQueueMs);
  const both = schedMsOf([process.pid, undefined]);
  expect(both.threads).toBe(b.threads);
});

it('is zeros for no process or one that does not exist', () => {
  expect(procSchedMs(undefined)).toEqual({ cpuMs: 0, runQueueMs: 0, threads: 0 });
  expect(procSchedMs(2 ** 31 - 2)).toEqual({ cpuMs: 0, runQueueMs: 0, threads: 0 });
});
