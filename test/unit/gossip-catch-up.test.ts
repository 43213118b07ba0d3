// The catch-up push-pull (gossip/catch-up.ts): a push-pull answer that taught a node members arms
// one more pull, sent once the table has stopped growing for five gossip rounds; a node in step
// never sends one.
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { encodeMessage } from '../../gossip/messages.js';
import { encodePushPull } from '../../gossip/push-pull.js';
import { CATCH_UP_BURST } from '../../gossip/catch-up.js';
import { Swim, type SwimEffect } from '../../gossip/swim.js';
import { seeded } from '../lib/seeded.js';

const LAN = profile('lan');
const QUIET_MS = 5 * LAN.gossipIntervalMs;

function node(): Swim {
  return new Swim({ name: 'me', address: 'me:7946', meta: new Uint8Array(), config: LAN, random: seeded(5), now: 0 });
}

function alive(name: string): Uint8Array {
  return encodeMessage({ type: 'alive', incarnation: 1, name, address: `${name}:7946`, meta: new Uint8Array() });
}

function state(names: string[]): Uint8Array {
  return encodePushPull({ join: false, members: names.map((name) => ({ name, address: `${name}:7946`, meta: new Uint8Array(), incarnation: 1, state: 'alive' as const })) });
}

/** Ticks `s` at every deadline in [from, to] (and `extra` moments), collecting push-pull effects with their time. */
function run(s: Swim, from: number, to: number, at: Map<number, () => void> = new Map()): { t: number; e: SwimEffect }[] {
  const got: { t: number; e: SwimEffect }[] = [];
  const moments = [...at.keys()].sort((a, b) => a - b);
  for (let t = from; t <= to; ) {
    while (moments.length > 0 && moments[0]! <= t) at.get(moments.shift()!)!();
    for (const e of s.tick(t)) if (e.type === 'push-pull') got.push({ t, e });
    t = Math.max(t + 1, Math.min(s.nextDeadline(), moments[0] ?? Infinity));
  }
  return got;
}

describe('catch-up push-pull', () => {
  it('follows a push-pull that taught members, once the table is quiet: exactly one more pull than a node that learnt the same by gossip', () => {
    const pulled = node();
    const gossiped = node();
    pulled.mergeState(state(['a', 'b', 'c']), 10);
    for (const n of ['a', 'b', 'c']) gossiped.receive(`${n}:7946`, alive(n), 10);
    const a = run(pulled, 10, 10 + QUIET_MS + 400);
    const b = run(gossiped, 10, 10 + QUIET_MS + 400);
    expect(a.length).toBe(b.length + 1);
    const extra = a.filter((x) => !b.some((y) => y.t === x.t));
    expect(extra).toHaveLength(1);
    expect(extra[0]!.t).toBeGreaterThanOrEqual(10 + QUIET_MS);
    expect(extra[0]!.e).toMatchObject({ type: 'push-pull', join: false, to: expect.stringMatching(/^[abc]:7946$/) });
  });

  it('waits while the table keeps growing', () => {
    const s = node();
    s.mergeState(state(['a']), 0);
    // A new member every 600 ms until 3,000 ms: never QUIET_MS without one.
    const joins = new Map<number, () => void>();
    for (let i = 1; i <= 5; i++) joins.set(600 * i, () => s.receive(`m${i}:7946`, alive(`m${i}`), 600 * i));
    const pulls = run(s, 0, 3000 + QUIET_MS + 400, joins).filter((p) => p.t >= 0);
    const catchUps = pulls.filter((p) => p.t >= 3000 + QUIET_MS);
    expect(pulls.filter((p) => p.t < 3000 + QUIET_MS).length).toBeLessThanOrEqual(1); // at most the periodic one
    expect(catchUps.length).toBeGreaterThanOrEqual(1);
  });

  it('a catch-up pull that teaches nothing does not arm another', () => {
    const s = node();
    s.mergeState(state(['a', 'b']), 0);
    const first = run(s, 0, QUIET_MS + 400);
    expect(first.length).toBeGreaterThanOrEqual(1);
    s.mergeState(state(['a', 'b']), QUIET_MS + 400); // the answer: nothing new
    const gossiped = node();
    for (const n of ['a', 'b']) gossiped.receive(`${n}:7946`, alive(n), 0);
    // From here on the node pulls no more often than one that never pulled (periodic pulls only).
    const later = run(s, QUIET_MS + 401, 20_000).length;
    const baseline = run(gossiped, QUIET_MS + 401, 20_000).length;
    expect(later).toBeLessThanOrEqual(baseline);
  });

  it('a join storm: gossip teaching CATCH_UP_BURST members after a pull sends the next pull back to the member that answered it, at once', () => {
    const storm = node();
    const trickle = node();
    for (const s of [storm, trickle]) s.mergeState(state(['seed', 'a', 'b']), 0);
    // From the second gossip round on, one more member per 10 ms: BURST of them within ~0.5 s for
    // `storm`, one fewer for `trickle`.
    const joins = (s: Swim, count: number): Map<number, () => void> => {
      const at = new Map<number, () => void>();
      for (let i = 0; i < count; i++) at.set(LAN.gossipIntervalMs + 10 * i, () => s.receive(`m${i}:7946`, alive(`m${i}`), LAN.gossipIntervalMs + 10 * i));
      return at;
    };
    const end = LAN.gossipIntervalMs + 10 * CATCH_UP_BURST + 2 * LAN.gossipIntervalMs;
    const toSeed = (pulls: { t: number; e: SwimEffect }[]): number[] => pulls.filter((p) => p.e.type === 'push-pull' && p.e.to === 'seed:7946').map((p) => p.t);
    const stormPulls = run(storm, 0, end, joins(storm, CATCH_UP_BURST));
    const tricklePulls = run(trickle, 0, end, joins(trickle, CATCH_UP_BURST - 1));
    // Well before the table could be quiet for QUIET_MS.
    expect(toSeed(stormPulls)).toHaveLength(1);
    expect(toSeed(stormPulls)[0]!).toBeLessThan(QUIET_MS);
    expect(stormPulls.filter((p) => p.e.type === 'push-pull' && p.e.to !== 'seed:7946' && p.t < QUIET_MS)).toHaveLength(0);
    expect(toSeed(tricklePulls)).toHaveLength(0);
  });
});
