// Admission through numbered configurations (src/quorum/voter-config.ts): the voters are exactly
// the configuration's list; new members are learners until a writable set of the voters admits
// them; a graceful leave is a configuration change too; the first configuration comes from the
// node that founds the cluster; a record of the previous version migrates to an explicit list.
// The simulator cases are in quorum-admission-sim.test.ts.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { configWord, genesisConfig, nextConfig, parseVoterConfig, type VoterConfig } from '../../src/quorum/voter-config.js';

function member(name: string, over: Partial<QuorumMember> = {}): QuorumMember {
  return { name, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: configWord(2, false), ...over };
}

function gateFor(self: string, members: () => QuorumMember[], store = new Map<string, string>()): QuorumGate {
  return new QuorumGate(self, members, 10_000, silentLogger(), { load: () => store.get('k'), save: (v) => void store.set('k', v) });
}

/** Configuration 2: n0..n(k-1) as voters. */
function configOf(k: number): VoterConfig {
  return nextConfig(genesisConfig('n0', 'hybrid'), 'n0', { admit: Array.from({ length: k - 1 }, (_, i) => ({ name: `n${i + 1}`, role: 'hybrid' as const })) });
}

describe('admission', () => {
  it('a founder creates configuration 1 alone and is writable; a joiner holds none and is not', () => {
    const founder = gateFor('n0', () => [member('n0', { configWord: undefined })]);
    expect(founder.verdict().writable).toBe(false);
    expect(founder.verdict().reason).toMatch(/holds no voter configuration/);
    expect(founder.found()).toBe(true);
    expect(founder.voterConfig()).toMatchObject({ epoch: 1, voters: [{ name: 'n0', role: 'hybrid' }] });
    expect(founder.verdict().writable).toBe(true);
    expect(founder.found()).toBe(false); // once only
    const joiner = gateFor('n1', () => [member('n0'), member('n1', { configWord: 0 })]);
    expect(joiner.voterConfig().epoch).toBe(0);
    expect(joiner.verdict().writable).toBe(false);
  });

  it('learners are never counted, their acknowledgements do not count, and they are not writable', () => {
    // Configuration 2 has n0..n2; n3..n6 are ACTIVE members on it but not voters.
    const members = () => ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((n) => member(n, { reachable: n !== 'n1' && n !== 'n2' }));
    const g = gateFor('n0', members);
    g.adopt(configOf(3));
    const v = g.verdict();
    expect(v).toMatchObject({ writable: false, reachable: 1, total: 3 }); // 5 reachable members, 1 voter
    expect(g.reachableVoters()).toEqual(new Set(['n0']));
    const plan = g.ackPlan();
    expect(plan.voters).toEqual(new Set(['n0', 'n1', 'n2']));
    expect(plan.complete(new Set(['n3', 'n4', 'n5', 'n6']))).toBe(false);
    expect(plan.complete(new Set(['n3', 'n1']))).toBe(true);
    const learner = gateFor('n5', members);
    learner.adopt(configOf(3));
    expect(learner.verdict().writable).toBe(false);
    expect(learner.verdict().reason).toMatch(/is not a voter yet \(waiting for admission to configuration 3\)/);
    expect(learner.changePlan(1e9)).toBeUndefined();
    expect(learner.learners()).toEqual(['n3', 'n4', 'n5', 'n6']);
  });

  it('the writable side admits every caught-up learner on its configuration in one change', () => {
    const members = () => [
      member('n0'),
      member('n1'),
      member('n2'),
      member('n3'),
      member('n4', { state: 'DEGRADED' }),
      member('n5', { state: 'SYNCING' }), // not caught up: not yet
      member('n6', { configWord: 0 }), // has not fetched our configuration yet
      member('n7', { reachable: false, state: 'FAILED' }),
      member('n8', { role: 'coordinator' }),
    ];
    const g = gateFor('n0', members);
    g.adopt(configOf(3));
    // Admissions wait until learners stop arriving for a moment (a batch), then go in one change.
    expect(g.changePlan(0)).toBeUndefined();
    const plan = g.changePlan(2000)!;
    expect(plan.admit).toEqual(['n3', 'n4', 'n8']);
    expect(plan.ask).toEqual(['n1', 'n2']);
    expect(plan.proposal.epoch).toBe(3);
    expect(plan.proposal.voters.map((v) => v.name)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n8']);
    expect(plan.proposal.voters.find((v) => v.name === 'n8')?.role).toBe('coordinator');
  });

  it('admissions wait while learners keep arriving (200 ms without a new one), 1.5 s at most', () => {
    let members = [member('n0'), member('n1'), member('n2'), member('n3')];
    const g = gateFor('n0', () => members);
    g.adopt(configOf(3));
    expect(g.changePlan(0)).toBeUndefined();
    members = [...members, member('n4')];
    expect(g.changePlan(150)).toBeUndefined(); // n4 arrived: wait again
    expect(g.admissionDueAt()).toBe(350);
    expect(g.changePlan(349)).toBeUndefined();
    const first = g.changePlan(350)!;
    expect(first.admit).toEqual(['n3', 'n4']);
    g.adopt(first.proposal);
    members = members.map((m) => ({ ...m, configWord: configWord(3, false) }));
    // Arrivals every 150 ms: admitted anyway 1.5 s after the first was seen.
    let t = 10_000;
    members = [...members, member('n5', { configWord: configWord(3, false) })];
    expect(g.changePlan(t)).toBeUndefined();
    for (let k = 6; k < 20; k++) {
      members = [...members, member(`n${k}`, { configWord: configWord(3, false) })];
      t += 150;
      const plan = g.changePlan(t);
      if (plan) {
        expect(t).toBeGreaterThanOrEqual(10_000 + 1_500);
        return;
      }
    }
    throw new Error('never proposed');
  });

  it('a minority side admits nobody, whatever joins it', () => {
    // 5 voters split 3+2; on the 2-side two new members joined: 4 of 7 members, but 2 of 5 voters.
    const members = () => [
      ...['n0', 'n1', 'n2'].map((n) => member(n, { reachable: false, state: 'FAILED' })),
      member('n3'),
      member('n4'),
      member('n5'),
      member('n6'),
    ];
    const g = gateFor('n3', members);
    g.adopt(configOf(5));
    expect(g.verdict()).toMatchObject({ writable: false, reachable: 2, total: 5 });
    expect(g.changePlan(1e9)).toBeUndefined();
  });

  it('a voter that left is removed at once (no stable-after); a leaving voter proposes its own removal', () => {
    const members = () => [member('n0'), member('n1'), member('n2', { reachable: false, state: 'LEFT', stateChangedAt: 5 })];
    const g = gateFor('n0', members);
    g.adopt(configOf(3));
    expect(g.verdict().reachable).toBe(2);
    const plan = g.changePlan(6)!;
    expect(plan.leave).toEqual(['n2']);
    expect(plan.down).toEqual([]);
    expect(plan.proposal.voters.map((v) => v.name)).toEqual(['n0', 'n1']);
    expect(plan.proposal.removed).toEqual([]); // left, not removed: it comes back as a new member

    const two = gateFor('n1', () => [member('n0'), member('n1')]);
    two.adopt(configOf(2));
    const own = two.leavePlan()!;
    expect(own.proposal.voters.map((v) => v.name)).toEqual(['n0']);
    expect(own.ask).toEqual(['n0']);
    const alone = gateFor('n0', () => [member('n0', { configWord: configWord(1, false) })]);
    alone.found();
    expect(alone.leavePlan()).toBeUndefined(); // the last voter stays
  });

  it('a removed member that comes back is a learner, admitted again like a new one', () => {
    const members = () => ['n0', 'n1', 'n2'].map((n) => member(n, { configWord: configWord(3, false) }));
    const g = gateFor('n0', members);
    g.adopt(nextConfig(configOf(3), 'n0', { down: ['n2'] }));
    expect(g.voterConfig().removed).toEqual(['n2']);
    g.changePlan(0);
    const plan = g.changePlan(2000)!;
    expect(plan.admit).toEqual(['n2']);
    expect(plan.back).toEqual(['n2']);
    expect(plan.proposal.removed).toEqual([]);
  });

  it('parses voter lists strictly', () => {
    expect(parseVoterConfig({ epoch: 2, id: 'x', voters: [{ name: 'b', role: 'worker' }, { name: 'a', role: 'hybrid' }], removed: [] }, 'x').voters.map((v) => v.name)).toEqual(['a', 'b']);
    for (const bad of [
      { epoch: 2, id: '', voters: [], removed: [] },
      { epoch: 2, id: '', voters: [{ name: 'a', role: 'boss' }], removed: [] },
      { epoch: 2, id: '', voters: [{ name: 'a', role: 'hybrid' }, { name: 'a', role: 'hybrid' }], removed: [] },
      { epoch: 2, id: '', voters: 'a', removed: [] },
      { epoch: 2, id: '', voters: [{ name: 'a', role: 'hybrid' }] },
    ]) {
      expect(() => parseVoterConfig(bad, 'x')).toThrow();
    }
  });
});

describe('migration of the previous version record', () => {
  it('known voters less removed ones, plus ourselves, become an explicit list one epoch up', () => {
    const store = new Map([['k', JSON.stringify({ known: { n1: 'coordinator', n2: 'hybrid', n3: 'hybrid', n4: 'worker' }, removed: ['n4'], epoch: 2, id: '2/n1' })]]);
    const members = () => ['n0', 'n1', 'n2', 'n3'].map((n) => member(n, { configWord: configWord(3, false) }));
    const g = new QuorumGate('n0', members, 10_000, silentLogger(), { load: () => store.get('k'), save: (v) => void store.set('k', v) }, 'worker');
    expect(g.voterConfig()).toMatchObject({
      epoch: 3,
      voters: [
        { name: 'n0', role: 'worker' },
        { name: 'n1', role: 'coordinator' },
        { name: 'n2', role: 'hybrid' },
        { name: 'n3', role: 'hybrid' },
      ],
      removed: ['n4'],
    });
    expect(g.verdict()).toMatchObject({ writable: true, reachable: 4, total: 4, tiebreaker: 'n1' });
    // Saved in the new format: a restart reads the same configuration.
    expect(JSON.parse(store.get('k')!)).toHaveProperty('config');
    const again = gateFor('n0', members, store);
    expect(again.voterConfig()).toEqual(g.voterConfig());
  });

  it('a value accepted under the previous version stays pending, as the same change of the list', () => {
    const old = { known: { n1: 'hybrid', n2: 'hybrid' }, removed: [], epoch: 0, id: '', promised: { round: 3, name: 'n1' }, accepted: { ballot: { round: 3, name: 'n1' }, config: { epoch: 1, removed: ['n2'], id: '1/n1' } } };
    const store = new Map([['k', JSON.stringify(old)]]);
    const g = gateFor('n0', () => [member('n0'), member('n1'), member('n2')], store);
    expect(g.voterConfig().epoch).toBe(1);
    expect(g.voterConfig().voters.map((v) => v.name)).toEqual(['n0', 'n1', 'n2']);
    expect(g.pending()).toMatchObject({ epoch: 2, voters: [{ name: 'n0' }, { name: 'n1' }], removed: ['n2'] });
    expect(g.prepare(2, { round: 2, name: 'n2' }).ok).toBe(false); // the promise survived
  });

  it('a first node of the previous version that never saw anyone is the only voter', () => {
    const store = new Map([['k', JSON.stringify({ known: {}, removed: [], epoch: 0, id: '' })]]);
    const g = gateFor('n0', () => [member('n0', { configWord: configWord(1, false) })], store);
    expect(g.voterConfig()).toMatchObject({ epoch: 1, voters: [{ name: 'n0' }] });
    expect(g.verdict().writable).toBe(true);
  });
});
