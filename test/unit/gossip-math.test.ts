// Table tests of the SWIM/Lifeguard formulas against hashicorp/memberlist's own vectors
// (util_test.go and suspicion_test.go), plus the suspicion timer and awareness built on them.
import { describe, expect, it } from 'vitest';
import { Awareness } from '../../gossip/awareness.js';
import { profile } from '../../gossip/config.js';
import { pushPullScale, remainingSuspicionTime, retransmitLimit, suspicionConfirmationsWanted, suspicionTimeout } from '../../gossip/math.js';
import { Suspicion } from '../../gossip/suspicion.js';
import { ConfigError } from '../../src/errors.js';

describe('suspicionTimeout (memberlist TestSuspicionTimeout)', () => {
  it.each([
    [5, 1000],
    [10, 1000],
    [50, 1698],
    [100, 2000],
    [500, 2698],
    [1000, 3000],
  ])('n=%i gives %i ms per unit of mult', (n, expected) => {
    expect(suspicionTimeout(3, n, 1000) / 3).toBe(expected);
  });

  it('floors the node scale at 1 for tiny clusters', () => {
    expect(suspicionTimeout(3, 0, 1000)).toBe(3000);
    expect(suspicionTimeout(3, 1, 1000)).toBe(3000);
  });

  it('lan profile at 5 nodes: 4 s minimum, 24 s maximum', () => {
    const cfg = profile('lan');
    const min = suspicionTimeout(cfg.suspicionMult, 5, cfg.probeIntervalMs);
    expect(min).toBe(4000);
    expect(min * cfg.suspicionMaxTimeoutMult).toBe(24_000);
  });
});

describe('retransmitLimit (memberlist TestRetransmitLimit)', () => {
  it.each([
    [0, 0],
    [1, 3],
    [99, 6],
    [100, 9],
  ])('mult 3, n=%i -> %i', (n, expected) => {
    expect(retransmitLimit(3, n)).toBe(expected);
  });
});

describe('remainingSuspicionTime (memberlist TestSuspicion_remainingSuspicionTime)', () => {
  it.each([
    [0, 3, 0, 2000, 30_000, 30_000],
    [1, 3, 2000, 2000, 30_000, 14_000],
    [2, 3, 3000, 2000, 30_000, 4810],
    [3, 3, 4000, 2000, 30_000, -2000],
    [4, 3, 5000, 2000, 30_000, -3000],
    [5, 3, 10_000, 2000, 30_000, -8000],
  ])('n=%i k=%i elapsed=%i min=%i max=%i -> %i', (n, k, elapsed, min, max, expected) => {
    expect(remainingSuspicionTime(n, k, elapsed, min, max)).toBe(expected);
  });

  it('k = 0 goes straight to the minimum', () => {
    expect(remainingSuspicionTime(0, 0, 100, 2000, 30_000)).toBe(1900);
  });
});

describe('suspicionConfirmationsWanted', () => {
  it('is suspicionMult - 2, capped by the members able to confirm', () => {
    expect(suspicionConfirmationsWanted(4, 32)).toBe(2);
    expect(suspicionConfirmationsWanted(4, 5)).toBe(2);
    expect(suspicionConfirmationsWanted(4, 3)).toBe(1);
    expect(suspicionConfirmationsWanted(4, 2)).toBe(0);
    expect(suspicionConfirmationsWanted(6, 4)).toBe(2);
  });
});

describe('pushPullScale (memberlist TestPushPullScale)', () => {
  it('is flat up to 32 nodes, then grows one interval per doubling', () => {
    for (let n = 0; n <= 32; n++) expect(pushPullScale(1000, n)).toBe(1000);
    for (let n = 33; n <= 64; n++) expect(pushPullScale(1000, n)).toBe(2000);
    for (let n = 65; n <= 128; n++) expect(pushPullScale(1000, n)).toBe(3000);
  });
});

describe('Suspicion timer (memberlist TestSuspicion_Timer, k=3, min 500 ms, max 2 s)', () => {
  const cases: { confirmations: [string, boolean][]; expected: number; count: number }[] = [
    { confirmations: [], expected: 2000, count: 0 },
    { confirmations: [['me', false], ['foo', true]], expected: 1250, count: 1 },
    { confirmations: [['me', false], ['foo', true], ['foo', false], ['foo', false]], expected: 1250, count: 1 },
    // memberlist's timing test says 810 ms within a 25 ms fudge; the exact value is floor(811.28).
    { confirmations: [['me', false], ['foo', true], ['bar', true]], expected: 811, count: 2 },
    { confirmations: [['me', false], ['foo', true], ['bar', true], ['baz', true]], expected: 500, count: 3 },
    { confirmations: [['me', false], ['foo', true], ['bar', true], ['baz', true], ['zoo', false]], expected: 500, count: 3 },
  ];
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const s = new Suspicion('me', 3, 500, 2000, 10_000);
    for (const [from, newInfo] of c.confirmations) expect(s.confirm(from)).toBe(newInfo);
    expect(s.confirmations()).toBe(c.count);
    expect(s.deadline()).toBe(10_000 + c.expected);
  });

  it('k = 0 fires at the minimum (memberlist: fewer than k possible confirmers)', () => {
    expect(new Suspicion('me', 0, 100, 30_000, 0).deadline()).toBe(100);
  });
});

describe('Awareness', () => {
  it('scales timeouts by score + 1 and clamps to [0, max - 1]', () => {
    const a = new Awareness(8);
    expect(a.scale(500)).toBe(500);
    a.applyDelta(3);
    expect(a.healthScore()).toBe(3);
    expect(a.scale(1000)).toBe(4000);
    a.applyDelta(100);
    expect(a.healthScore()).toBe(7);
    a.applyDelta(-100);
    expect(a.healthScore()).toBe(0);
  });
});

describe('profiles', () => {
  it('carry memberlist defaults', () => {
    expect(profile('lan')).toMatchObject({ probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, retransmitMult: 4, suspicionMult: 4, suspicionMaxTimeoutMult: 6, gossipIntervalMs: 200, gossipNodes: 3, gossipToTheDeadMs: 30_000, pushPullIntervalMs: 30_000, awarenessMaxMultiplier: 8, maxPacketBytes: 1336, reapAfterMs: 86_400_000 });
    expect(profile('local')).toMatchObject({ probeTimeoutMs: 200, indirectChecks: 1, retransmitMult: 2, suspicionMult: 3, gossipIntervalMs: 100, pushPullIntervalMs: 15_000, gossipToTheDeadMs: 15_000 });
    expect(profile('wan')).toMatchObject({ probeIntervalMs: 5000, probeTimeoutMs: 3000, suspicionMult: 6, gossipNodes: 4, gossipIntervalMs: 500, pushPullIntervalMs: 60_000, gossipToTheDeadMs: 60_000 });
  });

  it('reject settings that cannot work, with ConfigError', () => {
    expect(() => profile('lan', { probeTimeoutMs: 1000 })).toThrow(ConfigError);
    expect(() => profile('lan', { indirectChecks: 0 })).toThrow(ConfigError);
    expect(() => profile('lan', { maxPacketBytes: 200 })).toThrow(ConfigError);
    expect(() => profile('nope' as never)).toThrow(ConfigError);
    expect(() => profile('lan', { suspicionMinMult: 5 })).toThrow(/suspicionMinMult/);
    expect(() => profile('lan', { suspicionMinMult: 0.5 })).toThrow(/suspicionMinMult/);
    expect(() => profile('lan', { suspicionMinMult: Number.NaN })).toThrow(/suspicionMinMult/);
    expect(profile('lan', { suspicionMinMult: 2 }).suspicionMinMult).toBe(2);
    expect(profile('lan', { suspicionMinMult: 1.5 }).suspicionMinMult).toBe(1.5);
  });
});
