// Probe on connection loss, whole nodes in the simulator: a crashed host's peers get a reset on
// their streams to it (as a killed process's kernel closes its sockets), probe it at once and
// suspect it when that probe's period ends, instead of waiting for their round-robin to reach it.
// The same crashes with the hint switched off show what it saves; neither run accuses anyone else.
import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/cluster-sim.js';

const N = 16;
const PERIOD = 1000; // lan probe interval
let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Crashes three nodes in turn; per crash, virtual ms from the crash to the first suspicion of it. */
async function firstSuspicions(hints: boolean): Promise<number[]> {
  const seed = `probe-hint-${hints}`;
  const c = (cluster = new SimCluster({ seed, nodes: N, link: { latencyMs: 1, jitterMs: 2 }, nodeOptions: { gossip: { probeOnConnectionLoss: hints } } }));
  const events: { kind: string; member: string; at: number }[] = [];
  c.onMemberEvent((_i, e) => events.push({ kind: e.kind, member: e.member.name, at: c.now() }));
  await c.start(600_000);
  expect(await c.runUntil(() => c.allSeeAlive(N), 120_000, 50), seed).toBe(true);
  await c.runFor(15_000); // memory anti-entropy and quorum traffic open connections between members
  events.length = 0;
  const firsts: number[] = [];
  for (let r = 0; r < 3; r++) {
    const victim = N - 1 - r;
    const name = `n${victim}`;
    const survivors = c.live().filter((i) => i !== victim);
    const t0 = c.now();
    c.crash(victim);
    expect(await c.runUntil(() => survivors.every((i) => c.node(i).swim.member(name)?.state === 'dead'), 60_000, 10), `${seed} round ${r}`).toBe(true);
    const suspected = events.filter((e) => e.kind === 'suspect' && e.member === name).map((e) => e.at);
    firsts.push(Math.min(...suspected) - t0);
    await c.runFor(2_000 + 331 * r);
  }
  const killed = new Set([N - 1, N - 2, N - 3].map((i) => `n${i}`));
  expect(events.filter((e) => (e.kind === 'suspect' || e.kind === 'dead') && !killed.has(e.member)), seed).toEqual([]);
  await c.destroy();
  cluster = undefined;
  return firsts;
}

describe('probe on connection loss (simulated, 16 nodes, lan profile)', () => {
  it('the first suspicion of a crashed node comes one probe period after the crash, sooner than by round-robin', async () => {
    const hinted = await firstSuspicions(true);
    // The reset arrives a link delay after the crash, the hinted probe starts then and fails
    // when its period ends.
    for (const t of hinted) expect(t, `hinted first suspicions: ${hinted.join(', ')}`).toBeLessThanOrEqual(PERIOD + 50);
    const roundRobin = await firstSuspicions(false);
    expect(median(roundRobin), `round-robin ${roundRobin.join(', ')} vs hinted ${hinted.join(', ')}`).toBeGreaterThan(median(hinted));
  });
});
