// A gate fed member-row changes (as ClusterNode's member directory feeds it) must give the same
// verdicts and reachable voters as a gate that recounts the whole member table on every read,
// through any sequence of row changes, removals and configuration changes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { silentLogger } from '../../src/node/logger.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { configWord, genesisConfig, nextConfig, type VoterConfig } from '../../src/quorum/voter-config.js';
import type { LifecycleState } from '../../src/vocabulary.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const STATES: LifecycleState[] = ['JOINING', 'SYNCING', 'ACTIVE', 'DEGRADED', 'LEAVING', 'LEFT', 'FAILED'];

type Op =
  | { kind: 'row'; name: string; state: LifecycleState; reachable: boolean; epoch: number; pending: boolean }
  | { kind: 'gone'; name: string }
  | { kind: 'config'; admit: string[]; down: string[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('row' as const),
    name: fc.constantFrom(...NAMES),
    state: fc.constantFrom(...STATES),
    reachable: fc.boolean(),
    epoch: fc.integer({ min: 0, max: 6 }),
    pending: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('gone' as const), name: fc.constantFrom(...NAMES.slice(1)) }),
  fc.record({ kind: fc.constant('config' as const), admit: fc.subarray(NAMES.slice(1)), down: fc.subarray(NAMES.slice(1)) }),
);

describe('quorum gate fed by member-row changes', () => {
  it('agrees with a full recount after every step', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const rows = new Map<string, QuorumMember>([['n0', { name: 'n0', role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 0 }]]);
        let snapshot = [...rows.values()];
        const fed = new QuorumGate('n0', () => [...rows.values()], 10_000, silentLogger());
        const recount = new QuorumGate('n0', () => snapshot, 10_000, silentLogger());
        fed.memberChanged(rows.get('n0')!);
        let config: VoterConfig = genesisConfig('n0', 'hybrid');
        fed.adopt(config);
        recount.adopt(config);
        for (const o of ops) {
          if (o.kind === 'row') {
            const row: QuorumMember = { name: o.name, role: 'hybrid', state: o.state, reachable: o.reachable, stateChangedAt: 0, configWord: configWord(o.epoch, o.pending) };
            rows.set(o.name, row);
            fed.memberChanged(row);
          } else if (o.kind === 'gone') {
            const row = rows.get(o.name);
            if (!row) continue;
            rows.delete(o.name);
            fed.memberChanged(row, true);
          } else {
            const voters = new Set(config.voters.map((v) => v.name));
            const admit = o.admit.filter((n) => !voters.has(n)).map((name) => ({ name, role: 'hybrid' as const }));
            const down = o.down.filter((n) => voters.has(n) && !o.admit.includes(n));
            config = nextConfig(config, 'n0', { admit, down });
            fed.adopt(config);
            recount.adopt(config);
          }
          snapshot = [...rows.values()];
          expect(fed.verdict()).toEqual(recount.verdict());
          expect([...fed.reachableVoters()].sort()).toEqual([...recount.reachableVoters()].sort());
          expect(fed.isQuorum(fed.reachableVoters())).toBe(recount.isQuorum(recount.reachableVoters()));
        }
      }),
      { numRuns: 300, seed: 1616 },
    );
  });
});
