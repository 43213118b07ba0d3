import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../src/tasks/candidates.js';
import { latencyCost, SERVICE_MS } from '../../src/tasks/cost.js';
import {
  chooseBandwidthAware,
  chooseCheapest,
  chooseLatencyAware,
  chooseLocalFirst,
  chooseRoundRobin,
  LARGE_PAYLOAD_BYTES,
  route,
} from '../../src/tasks/routing.js';
import { THROUGHPUT_EWMA_ALPHA, ThroughputMeter, throughputSample } from '../../src/tasks/routing-throughput.js';

/** A member: name, then overrides. Defaults: remote, ACTIVE, 4 of 4 slots free, idle, 10 ms, unmeasured throughput. */
function c(name: string, o: Partial<Candidate> = {}): Candidate {
  return { name, local: false, freeSlots: 4, slots: 4, inFlight: 0, rttMs: 10, throughputBytesPerSec: null, state: 'ACTIVE', ...o };
}
const local = (name: string, o: Partial<Candidate> = {}) => c(name, { local: true, rttMs: null, ...o });

/** A random source that replays the given draws (then repeats the last). */
function draws(...xs: number[]): () => number {
  let i = 0;
  return () => xs[Math.min(i++, xs.length - 1)]!;
}

const chosen = (r: ReturnType<typeof chooseLocalFirst>) => (r.ok ? r.node : r.reason);

describe('latency cost', () => {
  it.each([
    ['idle remote 10 ms, 4 free', c('a'), (10 + SERVICE_MS) / 4],
    ['busy remote: in-flight stretches the cost', c('a', { inFlight: 3 }), ((10 + SERVICE_MS) * 4) / 4],
    ['fewer free slots cost more', c('a', { freeSlots: 1 }), 10 + SERVICE_MS],
    ['local has no RTT but still pays service time and load', local('a', { inFlight: 1, freeSlots: 2 }), (SERVICE_MS * 2) / 2],
    ['no free slot is never cheapest', c('a', { freeSlots: 0 }), Number.POSITIVE_INFINITY],
  ])('%s', (_n, cand, want) => expect(latencyCost(cand, null)).toBeCloseTo(want));

  it('an unmeasured remote costs like the worst measured one, so it never wins by being unknown', () => {
    // equal cost to the worst measured -> name order decides
    expect(chosen(chooseCheapest([c('x', { rttMs: null }), c('y', { rttMs: 40 })]))).toBe('x');
    expect(chosen(chooseCheapest([c('b', { rttMs: null }), c('a', { rttMs: 40 })]))).toBe('a');
    expect(chosen(chooseCheapest([c('a', { rttMs: null }), c('b', { rttMs: 5 }), c('z', { rttMs: 50 })]))).toBe('b');
  });
});

describe('no capacity', () => {
  it.each([
    ['no members at all', [], 'no-members'],
    ['nobody ACTIVE', [c('a', { state: 'JOINING' }), c('b', { state: 'FAILED' })], 'no-active-members'],
    ['all ACTIVE members are full', [c('a', { freeSlots: 0 }), local('b', { freeSlots: 0 }), c('c', { state: 'SYNCING' })], 'no-free-slots'],
  ] as [string, Candidate[], string][])('%s -> %s for every strategy', (_n, cands, reason) => {
    for (const strategy of ['local-first', 'latency-aware', 'bandwidth-aware', 'round-robin'] as const) {
      const { choice } = route(strategy, cands, { random: draws(0.5), payloadBytes: 1 << 20, cursor: null });
      expect(choice.ok).toBe(false);
      if (!choice.ok) {
        expect(choice.reason).toBe(reason);
        expect(choice.detail.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('local-first', () => {
  it.each([
    ['a free local slot wins over a faster idle remote', [c('a', { rttMs: 0.1 }), local('me', { inFlight: 10, freeSlots: 1 })], 'me'],
    ['local full: the cheapest remote', [local('me', { freeSlots: 0 }), c('far', { rttMs: 80 }), c('near', { rttMs: 2 })], 'near'],
    ['local full: load beats distance', [local('me', { freeSlots: 0 }), c('near', { rttMs: 2, inFlight: 20, freeSlots: 1 }), c('far', { rttMs: 8 })], 'far'],
    ['local not ACTIVE: a remote', [local('me', { state: 'DEGRADED' }), c('r')], 'r'],
    ['ties go to the lower name', [local('me', { freeSlots: 0 }), c('b'), c('a')], 'a'],
    ['ineligible members are skipped', [c('a', { state: 'LEAVING' }), c('b', { freeSlots: 0 }), c('c', { rttMs: 500 })], 'c'],
  ] as [string, Candidate[], string][])('%s', (_n, cands, want) => expect(chosen(chooseLocalFirst(cands))).toBe(want));
});

describe('latency-aware (power of two choices)', () => {
  const table = [c('a', { rttMs: 1 }), c('b', { rttMs: 50 }), c('c', { rttMs: 5, inFlight: 3 }), c('d', { rttMs: 20 })];
  // eligible order is a,b,c,d; the first draw picks i, the second picks among the other three.
  it.each([
    ['a vs b: a (nearer)', [0.0, 0.0], 'a'],
    ['b vs c: c ((5+1)*4/4=6 < 51/4)', [0.3, 0.4], 'c'],
    ['b vs d: d', [0.3, 0.9], 'd'],
    ['c vs d: d (21/4=5.25 < (5+1)*4/4=6)', [0.6, 0.9], 'd'],
    ['d vs a: a', [0.9, 0.0], 'a'],
  ] as [string, number[], string][])('%s', (_n, r, want) => expect(chosen(chooseLatencyAware(table, draws(...r)))).toBe(want));

  it('the two draws are always distinct members', () => {
    for (let x = 0; x < 1; x += 0.05) {
      for (let y = 0; y < 1; y += 0.05) {
        // with two members, whatever the draws, the better one (a) is chosen: a repeated draw would pick b sometimes
        expect(chosen(chooseLatencyAware([c('a', { rttMs: 1 }), c('b', { rttMs: 100 })], draws(x, y)))).toBe('a');
      }
    }
  });

  it('a single eligible member is chosen without drawing', () => {
    expect(chosen(chooseLatencyAware([c('only'), c('full', { freeSlots: 0 })], () => { throw new Error('drew'); }))).toBe('only');
  });

  it('does not herd: load spreads over equal members under a seeded random source', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const members = ['a', 'b', 'c', 'd'].map((n) => c(n, { slots: 100, freeSlots: 100 }));
    const count = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const r = chooseLatencyAware(members, rnd);
      if (!r.ok) throw new Error(r.detail);
      const m = members.find((x) => x.name === r.node)!;
      m.inFlight++;
      m.freeSlots--;
      count.set(r.node, (count.get(r.node) ?? 0) + 1);
    }
    for (const n of ['a', 'b', 'c', 'd']) expect(count.get(n)).toBeGreaterThanOrEqual(40);
  });
});

describe('bandwidth-aware', () => {
  const big = LARGE_PAYLOAD_BYTES + 1;
  const fastLink = c('fast', { rttMs: 40, throughputBytesPerSec: 100e6 });
  const slowLink = c('slow', { rttMs: 1, throughputBytesPerSec: 1e6 });
  it.each([
    ['big payload -> best throughput even if farther', [slowLink, fastLink], big, [0.0, 0.0], 'fast'],
    ['small payload -> latency-aware picks the near one', [slowLink, fastLink], 1024, [0.0, 0.0], 'slow'],
    ['exactly the threshold is small', [slowLink, fastLink], LARGE_PAYLOAD_BYTES, [0.0, 0.0], 'slow'],
    ['big payload, local free -> local (no transfer)', [fastLink, local('me')], big, [0.0], 'me'],
    ['big payload, local full -> best remote throughput', [fastLink, slowLink, local('me', { freeSlots: 0 })], big, [0.0], 'fast'],
    ['big payload, fastest is full -> next best', [c('fast', { throughputBytesPerSec: 100e6, freeSlots: 0 }), slowLink, c('mid', { throughputBytesPerSec: 10e6 })], big, [0.0], 'mid'],
    ['big payload, nothing measured -> latency-aware', [c('a', { rttMs: 30 }), c('b', { rttMs: 3 })], big, [0.0, 0.0], 'b'],
    ['big payload, throughput tie -> lower latency cost', [c('x', { rttMs: 9, throughputBytesPerSec: 5e6 }), c('y', { rttMs: 2, throughputBytesPerSec: 5e6 })], big, [0.0], 'y'],
    ['big payload, one measured, one not -> the unmeasured one (measured once)', [slowLink, c('new', { rttMs: 30 })], big, [0.0], 'new'],
    ['big payload, several unmeasured -> the cheapest of them', [fastLink, c('u1', { rttMs: 30 }), c('u2', { rttMs: 5 })], big, [0.0], 'u2'],
    ['big payload, the unmeasured one is full -> best measured', [slowLink, fastLink, c('new', { freeSlots: 0 })], big, [0.0], 'fast'],
  ] as [string, Candidate[], number, number[], string][])('%s', (_n, cands, bytes, r, want) =>
    expect(chosen(chooseBandwidthAware(cands, bytes, draws(...r)))).toBe(want),
  );
});

describe('throughput measurement (bandwidth-aware input)', () => {
  const KB = 1024;
  it.each([
    ['too small to say anything', 8 * KB, 10, 1, null],
    ['no time passed', 64 * KB, 0, 1, null],
    ['the RTT is taken off: 1 MB in 1 s after a 10 ms round trip', 1e6, 1010, 10, 1e6],
    ['no RTT known yet: the whole call counts (an underestimate)', 1e6, 1010, null, 1e6 / 1.01],
    ['faster than the RTT says: capped at 20x the naive rate, never infinite', 1e6, 10, 12, 1e6 / 0.0005],
  ] as [string, number, number, number | null, number | null][])('%s', (_n, bytes, elapsed, rtt, want) => {
    const got = throughputSample(bytes, elapsed, rtt);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 0);
  });

  it('the meter smooths samples per member and ignores small calls', () => {
    const m = new ThroughputMeter();
    expect(m.get('a')).toBeNull();
    expect(m.observe('a', 100, 5, 1)).toBe(false);
    expect(m.get('a')).toBeNull();
    expect(m.observe('a', 1e6, 1000, 0)).toBe(true); // 1 MB/s
    expect(m.get('a')).toBeCloseTo(1e6);
    m.observe('a', 1e6, 500, 0); // 2 MB/s
    expect(m.get('a')).toBeCloseTo(1e6 + THROUGHPUT_EWMA_ALPHA * 1e6);
    expect(m.get('b')).toBeNull();
    m.forget('a');
    expect(m.get('a')).toBeNull();
  });
});

describe('round-robin', () => {
  it('30 tasks over 3 members: 10 each, in name order', () => {
    const members = [c('n3', { slots: 20, freeSlots: 20 }), c('n1', { slots: 20, freeSlots: 20 }), c('n2', { slots: 20, freeSlots: 20 })];
    let cursor: string | null = null;
    const order: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = chooseRoundRobin(members, cursor);
      cursor = r.cursor;
      if (!r.choice.ok) throw new Error(r.choice.detail);
      order.push(r.choice.node);
    }
    expect(order.slice(0, 6)).toEqual(['n1', 'n2', 'n3', 'n1', 'n2', 'n3']);
    for (const n of ['n1', 'n2', 'n3']) expect(order.filter((x) => x === n)).toHaveLength(10);
  });

  it('skips members without free slots and resumes after the last name when membership changes', () => {
    const m = [c('a'), c('b', { freeSlots: 0 }), c('c')];
    expect(chooseRoundRobin(m, 'a').cursor).toBe('c');
    expect(chooseRoundRobin(m, 'c').cursor).toBe('a'); // wraps
    expect(chooseRoundRobin([c('a'), c('c')], 'b').cursor).toBe('c'); // cursor member left: next after it
    expect(chooseRoundRobin(m, null).cursor).toBe('a');
  });

  it('no capacity keeps the cursor', () => {
    const r = chooseRoundRobin([c('a', { freeSlots: 0 })], 'a');
    expect(r.choice.ok).toBe(false);
    expect(r.cursor).toBe('a');
  });
});
