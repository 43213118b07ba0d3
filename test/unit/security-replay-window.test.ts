import { describe, expect, it } from 'vitest';
import { ReplayWindow, SendSequence } from '../../src/security/replay-window.js';

describe('ReplayWindow', () => {
  it('evicts the least recently used sender, also when one sender sends many packets in a row', () => {
    const w = new ReplayWindow({ maxSenders: 2 });
    w.accept(1n, 10n);
    w.accept(2n, 10n);
    w.accept(1n, 11n); // 1 becomes the most recent
    w.accept(1n, 12n); // and stays so (no refresh needed)
    w.accept(3n, 10n); // evicts 2, not 1
    expect(w.senders).toBe(2);
    expect(w.check(1n, 12n)).toBe('duplicate');
    expect(w.check(2n, 10n)).toBe('new'); // forgotten
    w.accept(2n, 10n); // evicts 1 (least recent now)
    w.accept(2n, 11n);
    expect(w.check(1n, 12n)).toBe('new');
    expect(w.check(3n, 10n)).toBe('duplicate');
  });

  it('drops a duplicate', () => {
    const w = new ReplayWindow();
    expect(w.accept(1n, 100n)).toBe('new');
    expect(w.accept(1n, 100n)).toBe('duplicate');
  });

  it('accepts out-of-order packets inside the window, once', () => {
    const w = new ReplayWindow({ size: 1024 });
    expect(w.accept(1n, 5000n)).toBe('new');
    expect(w.accept(1n, 4990n)).toBe('new');
    expect(w.accept(1n, 4995n)).toBe('new');
    expect(w.accept(1n, 4990n)).toBe('duplicate');
    expect(w.accept(1n, 5001n)).toBe('new');
    expect(w.accept(1n, 5001n - 1023n)).toBe('new'); // oldest slot still inside the window
  });

  it('drops packets older than the window', () => {
    const w = new ReplayWindow({ size: 1024 });
    w.accept(1n, 5000n);
    expect(w.accept(1n, 5000n - 1024n)).toBe('stale');
    expect(w.check(1n, 1n)).toBe('stale');
  });

  it('reuses slots correctly as the window slides', () => {
    const w = new ReplayWindow({ size: 64 });
    w.accept(1n, 10n);
    w.accept(1n, 20n);
    // 10 + 64 lands in the same slot as 10; it is new, and after it 10 is stale.
    expect(w.accept(1n, 74n)).toBe('new');
    expect(w.accept(1n, 10n)).toBe('stale');
    expect(w.accept(1n, 20n)).toBe('duplicate');
    // A big jump clears everything.
    expect(w.accept(1n, 100_000n)).toBe('new');
    expect(w.accept(1n, 99_999n)).toBe('new');
    expect(w.accept(1n, 99_999n)).toBe('duplicate');
  });

  it('keeps senders apart and bounds memory with an LRU cap', () => {
    const w = new ReplayWindow({ maxSenders: 3 });
    w.accept(1n, 10n);
    w.accept(2n, 10n);
    w.accept(3n, 10n);
    w.accept(1n, 11n); // touch 1: 2 is now least recently used
    w.accept(4n, 10n);
    expect(w.senders).toBe(3);
    expect(w.check(1n, 10n)).toBe('duplicate');
    expect(w.check(2n, 10n)).toBe('new'); // forgotten
    expect(w.check(3n, 10n)).toBe('duplicate');
  });

  it('agrees with a reference model on a random walk', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const w = new ReplayWindow({ size: 64 });
    const seen = new Set<bigint>();
    let highest = -1n;
    for (let i = 0; i < 5000; i++) {
      const seq = BigInt(Math.max(0, Number(highest) + rand(80) - 60));
      const expected = highest >= 0n && highest - seq >= 64n ? 'stale' : seen.has(seq) ? 'duplicate' : 'new';
      expect(w.accept(9n, seq)).toBe(expected);
      if (expected === 'new') {
        seen.add(seq);
        if (seq > highest) highest = seq;
      }
    }
  });
});

describe('SendSequence', () => {
  it('increases by one from a clock-seeded start, above an earlier run', () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const first = new SendSequence(clock, 5n);
    const a = first.next();
    expect(first.next()).toBe(a + 1n);
    for (let i = 0; i < 10_000; i++) first.next();
    const last = first.next();
    now += 1; // a restart one millisecond later
    const second = new SendSequence(clock, 5n);
    expect(second.next()).toBeGreaterThan(last);
  });
});
