// How the task-throughput run forms its cluster (bench/task-mode-form.ts): which seeds each node
// joins through, the per-batch bound, the gossip profile by size, and the failure messages that
// say what did not form or settle.
import { describe, expect, it } from 'vitest';
import { batchBoundMs, describeMissing, FORM_BATCH, runProfile, seedsFor, settledReason, type SettleStatus } from '../../bench/task-mode-form.js';

describe('task-throughput formation', () => {
  it('each node joins through n1 and nodes of earlier batches only, at most three seeds', () => {
    expect(seedsFor(0)).toEqual([]);
    for (let i = 1; i < 40; i++) {
      const seeds = seedsFor(i);
      const batchStart = i - ((i - 1) % FORM_BATCH);
      expect(seeds).toContain(0);
      expect(seeds.length).toBeLessThanOrEqual(3);
      for (const s of seeds) expect(s).toBeLessThan(batchStart); // already ACTIVE when node i starts
    }
    // Past the first batches the seeds spread over the formed part, not all on n1.
    const used = new Set(Array.from({ length: 27 }, (_, k) => seedsFor(k + 5)).flat());
    expect(used.size).toBeGreaterThan(5);
  });

  it('a batch may take longer on a loaded machine, within a cap', () => {
    expect(batchBoundMs(1, 2)).toBe(60_000);
    expect(batchBoundMs(22, 2)).toBe(100_000);
    expect(batchBoundMs(500, 2)).toBe(180_000);
  });

  it('uses the local profile up to 8 nodes, lan up to 16, wan beyond, unless told', () => {
    expect(runProfile(4, undefined)).toBe('local');
    expect(runProfile(8, undefined)).toBe('local');
    expect(runProfile(16, undefined)).toBe('lan');
    expect(runProfile(32, undefined)).toBe('wan');
    expect(runProfile(32, 'local')).toBe('local');
    expect(runProfile(32, 'wan')).toBe('wan');
    expect(() => runProfile(32, 'fast')).toThrow(/TRI_TP_PROFILE is lan, local or wan/);
  });

  it('names the nodes n1 does not list ACTIVE, with the state it sees', () => {
    const rows = [
      { name: 'n1', state: 'ACTIVE', swimState: 'alive' },
      { name: 'n2', state: 'SYNCING', swimState: 'alive' },
      { name: 'n3', state: 'FAILED', swimState: 'dead' },
    ];
    expect(describeMissing(['n1', 'n2', 'n3', 'n4'], rows)).toBe('n2 SYNCING/alive, n3 FAILED/dead, n4 not listed');
    expect(describeMissing(['n1'], rows)).toBe('');
  });

  it('settled: one configuration of all voters, nothing pending, nothing moving; else says what is not', () => {
    const ok = (over: Partial<SettleStatus> = {}): SettleStatus => ({ quorum: { configuration: 7, pendingConfiguration: null, voters: 3 }, memory: { documentsMoving: 0 }, ...over });
    const names = ['n1', 'n2', 'n3'];
    expect(settledReason(names, [ok(), ok(), ok()], 3)).toBe('');
    expect(settledReason(names, [ok(), undefined, ok()], 3)).toBe('no /status from n2');
    expect(settledReason(names, [ok(), ok({ quorum: { configuration: 6, voters: 3 } }), ok()], 3)).toBe('nodes on configurations 6, 7');
    expect(settledReason(names, [ok({ quorum: { configuration: 7, voters: 2 } }), ok({ quorum: { configuration: 7, voters: 2 } }), ok({ quorum: { configuration: 7, voters: 2 } })], 3)).toBe('n1, n2, n3 count 2 voters, not 3');
    expect(settledReason(names, [ok(), ok({ quorum: { configuration: 7, voters: 3, pendingConfiguration: { epoch: 8 } } }), ok()], 3)).toBe('n2 await a proposed configuration');
    expect(settledReason(names, [ok(), ok(), ok({ memory: { documentsMoving: 4 } })], 3)).toBe('documents still moving on n3');
  });
});
