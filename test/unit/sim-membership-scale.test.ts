// The membership-only simulator (src/sim/membership-sim.ts, bench sim-scale's membership mode):
// 50 nodes of the real SWIM core and driver join through one seed on the simulated network and
// converge; the same seed replays the same run.
import { afterEach, describe, expect, it } from 'vitest';
import { SimMembership } from '../../src/sim/membership-sim.js';

const N = 50;
let sim: SimMembership | undefined;
afterEach(async () => {
  await sim?.destroy();
  sim = undefined;
});

async function converge(seed: string) {
  const s = (sim = new SimMembership({ seed, nodes: N, profile: 'lan' }));
  await s.start(60_000);
  const ok = await s.runUntil(() => s.allSeeAlive(N), 60_000, 50);
  const convergedAt = s.now();
  await s.runFor(10_000);
  const result = {
    ok,
    convergedAt,
    allAlive: s.allSeeAlive(N),
    members: s.nodes.map((n) => n.swim.members().length),
    joins: s.nodes.map((n) => n.events.join),
    suspicions: s.sumStat('suspicions'),
    deaths: s.sumStat('deaths'),
    handlerErrors: s.sumStat('handlerErrors'),
    pushPulls: s.sumStat('pushPullMerges'),
    packets: s.totals().packetsSent,
    events: s.world.eventsRun,
  };
  await s.destroy();
  sim = undefined;
  return result;
}

describe('SimMembership', () => {
  it(`${N} nodes joined through one seed all see all ${N} alive, and stay so`, async () => {
    const r = await converge('membership-50');
    expect(r.ok).toBe(true);
    expect(r.allAlive).toBe(true);
    expect(r.members).toEqual(Array.from({ length: N }, () => N));
    // Every node learnt every other member through the real join and gossip paths.
    for (const joins of r.joins) expect(joins).toBeGreaterThanOrEqual(N - 1);
    // A lossless LAN: nobody suspected or declared dead, no handler failed.
    expect(r.suspicions).toBe(0);
    expect(r.deaths).toBe(0);
    expect(r.handlerErrors).toBe(0);
    expect(r.pushPulls).toBeGreaterThanOrEqual(2 * (N - 1)); // each join merges on both ends
  });

  it('replays the same run from the same seed', async () => {
    const a = await converge('membership-replay');
    const b = await converge('membership-replay');
    expect(b).toEqual(a);
    const c = await converge('membership-other');
    expect(c.packets === a.packets && c.events === a.events && c.convergedAt === a.convergedAt).toBe(false);
  });
});
