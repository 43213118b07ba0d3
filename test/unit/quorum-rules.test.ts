import { describe, expect, it } from 'vitest';
import { countedVerdict, majority } from '../../src/quorum/rules.js';
import { configTiebreaker, type Voter, type VoterConfig } from '../../src/quorum/voter-config.js';
import type { Role } from '../../src/node/meta.js';

const v = (name: string, role: Role = 'hybrid'): Voter => ({ name, role });
const config = (...voters: Voter[]): VoterConfig => ({ epoch: 1, voters, removed: [], id: '1/t', replicationFactor: 3 });
const names = (...n: string[]) => new Set(n);

/** The verdict of a side that reaches `reach` of the configuration's voters (as QuorumGate counts it). */
function verdictOf(c: VoterConfig, reach: Set<string>) {
  const count = c.voters.filter((x) => reach.has(x.name)).length;
  const tb = configTiebreaker(c);
  return countedVerdict(c.voters.length, count, tb, tb !== undefined && reach.has(tb));
}

describe('quorum rules', () => {
  it.each([
    [1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 4], [7, 4], [32, 17],
  ])('majority of %i voters is %i', (n, want) => expect(majority(n)).toBe(want));

  it('tiebreaker is the lowest-named coordinator, else the lowest name', () => {
    expect(configTiebreaker(config(v('n1'), v('n2', 'coordinator'), v('n3', 'coordinator')))).toBe('n2');
    expect(configTiebreaker(config(v('n1'), v('n2'), v('n3')))).toBe('n1');
    expect(configTiebreaker(config())).toBeUndefined();
  });

  // [voters, reachable from this side, writable?]
  const five = config(v('a'), v('b'), v('c'), v('d'), v('e'));
  const cases: [string, VoterConfig, string[], boolean][] = [
    ['5 split 3+2: the 3', five, ['a', 'b', 'c'], true],
    ['5 split 3+2: the 2', five, ['d', 'e'], false],
    ['4 split 2+2: side with the coordinator', config(v('a'), v('b'), v('c', 'coordinator'), v('d')), ['c', 'd'], true],
    ['4 split 2+2: side without the coordinator', config(v('a'), v('b'), v('c', 'coordinator'), v('d')), ['a', 'b'], false],
    ['4 split 2+2, no coordinator: side with the lowest name', config(v('a'), v('b'), v('c'), v('d')), ['a', 'c'], true],
    ['4 split 2+2, no coordinator: the other side', config(v('a'), v('b'), v('c'), v('d')), ['b', 'd'], false],
    ['5 split 2+2+1: a pair', five, ['a', 'b'], false],
    ['5 split 2+2+1: the single', five, ['e'], false],
    ['single node cluster', config(v('a')), ['a'], true],
    ['2 voters, one unreachable, survivor is tiebreaker', config(v('a'), v('b')), ['a'], true],
    ['2 voters, one unreachable, survivor is not tiebreaker', config(v('a'), v('b')), ['b'], false],
    ['members not on the configuration do not count', config(v('a'), v('b'), v('c')), ['a', 'x', 'y'], false],
    ['no voters at all', config(), ['a'], false],
  ];
  it.each(cases)('%s', (_name, c, reach, want) => {
    const verdict = verdictOf(c, names(...reach));
    expect(verdict.writable).toBe(want);
    expect(verdict.reason.length).toBeGreaterThan(0);
  });

  it('both halves of every even split agree that exactly one side is writable', () => {
    const all = ['a', 'b', 'c', 'd', 'e', 'f'];
    const c = config(...all.map((n) => v(n, n === 'e' ? 'coordinator' : 'hybrid')));
    for (let mask = 0; mask < 1 << all.length; mask++) {
      const left = all.filter((_, i) => mask & (1 << i));
      if (left.length !== 3) continue;
      const right = all.filter((n) => !left.includes(n));
      expect(verdictOf(c, names(...left)).writable !== verdictOf(c, names(...right)).writable).toBe(true);
    }
  });
});
