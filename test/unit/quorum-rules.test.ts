import { describe, expect, it } from 'vitest';
import { majority, tiebreaker, voters, writableVerdict, type MemberForQuorum } from '../../src/quorum/rules.js';

const m = (name: string, state: MemberForQuorum['state'] = 'ACTIVE', role: MemberForQuorum['role'] = 'hybrid', removed = false): MemberForQuorum => ({ name, state, role, removed });
const names = (...n: string[]) => new Set(n);

describe('quorum rules', () => {
  it.each([
    [1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 4], [7, 4], [32, 17],
  ])('majority of %i voters is %i', (n, want) => expect(majority(n)).toBe(want));

  it('voters are members that joined, are not catching up, and have not left or been removed', () => {
    const set = [m('a'), m('b', 'SYNCING'), m('c', 'DEGRADED'), m('d', 'FAILED'), m('e', 'JOINING'), m('f', 'DISCOVERING'), m('g', 'LEFT'), m('h', 'LEAVING'), m('i', 'FAILED', 'hybrid', true)];
    expect(voters(set).map((v) => v.name)).toEqual(['a', 'c', 'd']);
  });

  it('tiebreaker is the lowest-named coordinator, else the lowest name, whatever the input order', () => {
    expect(tiebreaker([m('n3', 'ACTIVE', 'coordinator'), m('n1'), m('n2', 'ACTIVE', 'coordinator')])).toBe('n2');
    expect(tiebreaker([m('n3'), m('n1'), m('n2')])).toBe('n1');
    expect(tiebreaker([m('n1', 'JOINING', 'coordinator'), m('n2')])).toBe('n2');
    expect(tiebreaker([])).toBeUndefined();
  });

  // [voters, reachable from this side, writable?]
  const cases: [string, MemberForQuorum[], string[], boolean][] = [
    ['5 split 3+2: the 3', [m('a'), m('b'), m('c'), m('d'), m('e')], ['a', 'b', 'c'], true],
    ['5 split 3+2: the 2', [m('a'), m('b'), m('c'), m('d'), m('e')], ['d', 'e'], false],
    ['4 split 2+2: side with the coordinator', [m('a'), m('b'), m('c', 'ACTIVE', 'coordinator'), m('d')], ['c', 'd'], true],
    ['4 split 2+2: side without the coordinator', [m('a'), m('b'), m('c', 'ACTIVE', 'coordinator'), m('d')], ['a', 'b'], false],
    ['4 split 2+2, no coordinator: side with the lowest name', [m('a'), m('b'), m('c'), m('d')], ['a', 'c'], true],
    ['4 split 2+2, no coordinator: the other side', [m('a'), m('b'), m('c'), m('d')], ['b', 'd'], false],
    ['5 split 2+2+1: a pair', [m('a'), m('b'), m('c'), m('d'), m('e')], ['a', 'b'], false],
    ['5 split 2+2+1: the single', [m('a'), m('b'), m('c'), m('d'), m('e')], ['e'], false],
    ['single node cluster', [m('a')], ['a'], true],
    ['2 nodes, one failed, survivor is tiebreaker', [m('a'), m('b', 'FAILED')], ['a'], true],
    ['2 nodes, one failed, survivor is not tiebreaker', [m('a', 'FAILED'), m('b')], ['b'], false],
    ['failed member removed: 3 of 3 remaining', [m('a'), m('b'), m('c'), m('d', 'FAILED', 'hybrid', true), m('e', 'FAILED', 'hybrid', true)], ['a', 'b', 'c'], true],
    ['joining members do not count', [m('a'), m('b'), m('c', 'JOINING'), m('d', 'JOINING')], ['a', 'b'], true],
    ['no voters at all', [m('a', 'JOINING')], ['a'], false],
  ];
  it.each(cases)('%s', (_name, set, reach, want) => {
    const v = writableVerdict(set, names(...reach));
    expect(v.writable).toBe(want);
    expect(v.reason.length).toBeGreaterThan(0);
  });

  it('both halves of every even split agree that exactly one side is writable', () => {
    const all = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let mask = 0; mask < 1 << all.length; mask++) {
      const left = all.filter((_, i) => mask & (1 << i));
      if (left.length !== 3) continue;
      const right = all.filter((n) => !left.includes(n));
      const set = all.map((n) => m(n, 'ACTIVE', n === 'e' ? 'coordinator' : 'hybrid'));
      const l = writableVerdict(set, names(...left)).writable;
      const r = writableVerdict(set, names(...right)).writable;
      expect(l !== r).toBe(true);
    }
  });
});
