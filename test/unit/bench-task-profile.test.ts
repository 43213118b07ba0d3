// The task bench's profile split (bench/task-profile.ts) on a hand-made V8 profile: samples are
// charged to parts of the system, to each function of ours on the stack (once, however deeply it
// recurses) and to the leaf, only inside the measured window, and idle samples count as idle.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { profileBreakdown, splitProfile, type CpuProfile } from '../../bench/task-profile.js';

const ours = (fn: string, file: string) => ({ functionName: fn, url: `file:///x/dist/src/${file}`, lineNumber: 9 });
// root -> flushTurn -> transact -> (Yjs integrate) ; root -> flushTurn -> flushTurn (recursion) -> put ; root -> (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 6] },
    { id: 2, callFrame: ours('flushTurn', 'node/task-writes.js'), children: [3, 5] },
    { id: 3, callFrame: ours('transact', 'tasks/task-table.js'), children: [4] },
    { id: 4, callFrame: { functionName: 'integrate', url: 'file:///x/node_modules/yjs/dist/yjs.mjs', lineNumber: 99 } },
    { id: 5, callFrame: ours('flushTurn', 'node/task-writes.js'), children: [7] },
    { id: 6, callFrame: { functionName: '(idle)', url: '' } },
    { id: 7, callFrame: ours('put', 'recall/recall-index.js') },
  ],
  startTime: 1_000,
  endTime: 2_000,
  // Sample i lasts until sample i + 1: integrate 100, put 200, idle 300, then two after the window (1,500).
  samples: [4, 7, 6, 4, 4],
  timeDeltas: [0, 100, 200, 300, 100],
};

it('charges each sample to its part, to every function of ours on its stack once, and to its leaf', () => {
  const s = splitProfile(profile, 1_000, 1_500);
  expect(s.idleUs).toBe(300);
  expect(s.busy).toEqual({ 'Yjs and lib0 (encode, decode, integrate)': 100, 'recall index (FTS5)': 200 });
  expect(s.inclusiveUs.get('flushTurn src/node/task-writes.js:10')).toBe(100 + 200); // the recursion counts once
  expect(s.inclusiveUs.get('transact src/tasks/task-table.js:10')).toBe(100);
  expect(s.inclusiveUs.get('put src/recall/recall-index.js:10')).toBe(200);
  expect(s.inclusiveUs.has('integrate yjs.mjs:100')).toBe(false); // not ours: leaves only
  expect(s.selfUs.get('integrate yjs.mjs:100')).toBe(100);
  expect(s.selfUs.get('put src/recall/recall-index.js:10')).toBe(200);
});

const dir = mkdtempSync(join(tmpdir(), 'tri-prof-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('adds the profiles of the given processes up, in percent of busy time, per task', () => {
  writeFileSync(join(dir, 'CPU.20261208.000000.4242.0.001.cpuprofile'), JSON.stringify(profile));
  writeFileSync(join(dir, 'CPU.20261208.000000.4343.0.001.cpuprofile'), JSON.stringify({ ...profile, samples: [6, 6, 6, 6, 6] }));
  const b = profileBreakdown(dir, [4242], 1_000, 1_500, 2)!;
  expect(b.nodes).toBe(1);
  expect(b.busyPct).toBe(50); // 300 busy, 300 idle
  expect(b.inclusivePct['flushTurn src/node/task-writes.js:10']).toBe(100);
  expect(b.inclusivePct['put src/recall/recall-index.js:10']).toBe(66.7);
  expect(b.selfPct['integrate yjs.mjs:100']).toBe(33.3);
  expect(b.msPerTask['recall index (FTS5)']).toBe(0.1);
  expect(profileBreakdown(dir, [9999], 1_000, 1_500, 2)).toBeUndefined();
});
