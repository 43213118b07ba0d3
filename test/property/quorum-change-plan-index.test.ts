// The change planner of a gate fed member-row changes (as ClusterNode's member directory feeds it)
// keeps each row's part in the plan in an index instead of rescanning the table per quorum check:
// it must plan exactly what a gate that rescans the whole table on every call plans, through any
// sequence of row changes (states, reachability, words, node ids, state-change times), removals,
// configuration changes and the passing of time.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { silentLogger } from '../../src/node/logger.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { configWord, genesisConfig, nextConfig, type VoterConfig } from '../../src/quorum/voter-config.js';
import type { LifecycleState } from '../../src/vocabulary.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
// Mostly ACTIVE, so the gate is often writable and gets as far as planning.
const STATES: LifecycleState[] = ['ACTIVE', 'ACTIVE', 'ACTIVE', 'DEGRADED', 'JOINING', 'SYNCING', 'LEAVING', 'LEFT', 'FAILED'];

type Op =
  | { kind: 'row'; name: string; state: LifecycleState; reachable: boolean; word: 'ours' | 'older' | 'pending'; nodeId: 'a' | 'b' | 'none'; changedAt: number }
  | { kind: 'gone'; name: string }
  | { kind: 'config'; admit: string[]; down: string[]; ids: boolean }
  | { kind: 'time'; ms: number }
  | { kind: 'commit' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('row' as const),
      name: fc.constantFrom(...NAMES),
      state: fc.constantFrom(...STATES),
      reachable: fc.constantFrom(true, true, true, false),
      word: fc.constantFrom('ours' as const, 'ours' as const, 'older' as const, 'pending' as const),
      nodeId: fc.constantFrom('a' as const, 'a' as const, 'b' as const, 'none' as const),
      changedAt: fc.integer({ min: 0, max: 40_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gone' as const), name: fc.constantFrom(...NAMES.slice(1)) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('config' as const), admit: fc.subarray(NAMES.slice(1)), down: fc.subarray(NAMES.slice(1)), ids: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 12_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' as const }) },
);

describe('change planner fed by member-row changes', () => {
  it('plans what a full rescan of the table plans, after every step', () => {
    let planned = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const self: QuorumMember = { name: 'n0', role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 0, nodeId: 'a' };
        const rows = new Map<string, QuorumMember>([['n0', self]]);
        let snapshot = [...rows.values()];
        const fed = new QuorumGate('n0', () => [...rows.values()], 1000, silentLogger(), undefined, 'hybrid', 'a');
        const rescan = new QuorumGate('n0', () => snapshot, 1000, silentLogger(), undefined, 'hybrid', 'a');
        let config: VoterConfig = genesisConfig('n0', 'hybrid', undefined, 'a');
        fed.adopt(config);
        rescan.adopt(config);
        const setRow = (row: QuorumMember): void => {
          rows.set(row.name, row);
          fed.memberChanged(row);
        };
        setRow({ ...self, configWord: configWord(config.epoch, false) });
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'row') {
            const epoch = config.epoch;
            const word = o.word === 'ours' ? configWord(epoch, false) : o.word === 'pending' ? configWord(epoch, true) : configWord(Math.max(0, epoch - 1), false);
            const row: QuorumMember = { name: o.name, role: 'hybrid', state: o.state, reachable: o.reachable, stateChangedAt: o.changedAt, configWord: word };
            if (o.nodeId !== 'none') row.nodeId = o.nodeId;
            if (o.name === 'n0') Object.assign(row, { state: 'ACTIVE', reachable: true, nodeId: 'a' });
            setRow(row);
          } else if (o.kind === 'gone') {
            const row = rows.get(o.name);
            if (!row) continue;
            rows.delete(o.name);
            fed.memberChanged(row, true);
          } else if (o.kind === 'commit') {
            // The plan this node would propose is chosen (as a voter-set round would choose it).
            const plan = rescan.changePlan(now);
            if (plan) {
              config = plan.proposal;
              fed.adopt(config);
              rescan.adopt(config);
              setRow({ ...rows.get('n0')!, configWord: configWord(config.epoch, false) });
            }
          } else if (o.kind === 'config') {
            const voters = new Set(config.voters.map((v) => v.name));
            const admit = o.admit.filter((n) => !voters.has(n)).map((name) => ({ name, role: 'hybrid' as const, ...(o.ids ? { nodeId: 'a' } : {}) }));
            const down = o.down.filter((n) => voters.has(n) && !o.admit.includes(n));
            config = nextConfig(config, 'n0', { admit, down });
            fed.adopt(config);
            rescan.adopt(config);
            // Our own row follows our word, as the directory's refreshSelf does.
            setRow({ ...rows.get('n0')!, configWord: configWord(config.epoch, false) });
          } else {
            now += o.ms;
          }
          snapshot = [...rows.values()];
          const a = fed.changePlan(now);
          const b = rescan.changePlan(now);
          expect(a).toEqual(b);
          if (a) planned++;
          expect(fed.admissionDueAt()).toEqual(rescan.admissionDueAt());
        }
      }),
      { numRuns: 1000, seed: 1617 },
    );
    // The property is only worth something if plans were actually made (and compared).
    expect(planned).toBeGreaterThan(100);
  });

  it('a voter that fails after the index was built is downed once the view settles, a left one removed at once', () => {
    const rows = new Map<string, QuorumMember>();
    const gate = new QuorumGate('n0', () => [...rows.values()], 1000, silentLogger(), undefined, 'hybrid', 'a');
    const voters = ['n1', 'n2', 'n3', 'n4'].map((name) => ({ name, role: 'hybrid' as const, nodeId: 'a' }));
    const config = nextConfig(genesisConfig('n0', 'hybrid', undefined, 'a'), 'n0', { admit: voters });
    gate.adopt(config);
    const set = (name: string, over: Partial<QuorumMember> = {}): void => {
      const row: QuorumMember = { name, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: configWord(config.epoch, false), nodeId: 'a', ...over };
      rows.set(name, row);
      gate.memberChanged(row);
    };
    for (const n of ['n0', 'n1', 'n2', 'n3', 'n4']) set(n);
    expect(gate.changePlan(5000)).toBeUndefined(); // nothing due: the index is built
    set('n4', { state: 'FAILED', reachable: false, stateChangedAt: 6000 });
    expect(gate.changePlan(6500)).toBeUndefined(); // not settled for stable-after yet
    expect(gate.changePlan(7000)?.down).toEqual(['n4']);
    set('n4', { state: 'ACTIVE', stateChangedAt: 7100 }); // it came back before the change was chosen
    expect(gate.changePlan(9000)).toBeUndefined();
    set('n3', { state: 'LEFT', reachable: false, stateChangedAt: 9100 });
    expect(gate.changePlan(9200)?.leave).toEqual(['n3']);
  });
});
