import { describe, expect, it } from 'vitest';
import { RateLimiter, TokenBucket } from '../../src/discovery/rate-limit.js';

function fakeClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  it('allows a burst of capacity, then refills at the configured rate', () => {
    const b = new TokenBucket({ capacity: 3, refillPerSecond: 2 }, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(400)).toBe(false); // 0.8 tokens
    expect(b.take(500)).toBe(true); // 1.0
    expect(b.take(10_000)).toBe(true);
    // Refill is capped at capacity however long it was idle.
    expect([b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([true, true, false]);
  });

  it('adds nothing when the clock steps backwards', () => {
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 1 }, 5_000);
    expect(b.take(5_000)).toBe(true);
    expect(b.take(1_000)).toBe(false);
    expect(b.take(5_500)).toBe(false);
    expect(b.take(6_000)).toBe(true);
  });

  it('rejects nonsense configurations', () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }, 0)).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: -1 }, 0)).toThrow(RangeError);
  });
});

describe('RateLimiter', () => {
  const config = { perSource: { capacity: 2, refillPerSecond: 1 }, global: { capacity: 3, refillPerSecond: 1 }, maxSources: 2 };

  it('limits each source, then all sources together', () => {
    const clock = fakeClock();
    const rl = new RateLimiter(config, clock);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual(['ok', 'ok', 'source']);
    expect([rl.take('b'), rl.take('b')]).toEqual(['ok', 'global']);
    clock.advance(1_000);
    expect(rl.take('b')).toBe('ok');
  });

  it('a source over its own limit does not drain the global bucket', () => {
    const rl = new RateLimiter(config, fakeClock());
    // Only the flood's first 2 requests (its own burst) spend global tokens; 1 of 3 is left.
    for (let i = 0; i < 100; i++) rl.take('flood');
    expect([rl.take('x'), rl.take('y')]).toEqual(['ok', 'global']);
  });

  it('tracks a bounded number of sources', () => {
    const rl = new RateLimiter(config, fakeClock());
    for (let i = 0; i < 50; i++) rl.take(`10.0.0.${i}`);
    expect(rl.sources).toBe(2);
  });
});
