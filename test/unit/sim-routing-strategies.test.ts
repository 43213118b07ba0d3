// Routing strategies on a simulated cluster (issue 6: "each strategy's choice ... in the simulator
// with injected latency and bandwidth differences"). Three nodes: n0 submits every task; n1 is
// close but behind a thin link, n2 is far but behind a fat one. The strategies see nothing of this
// configuration: latency-aware reads the probe RTT EWMA the nodes measure, bandwidth-aware the
// throughput the submitter measures from its own transfers (RpcEndpoint.observeCalls), exactly as
// on real sockets. Each assertion is one a swapped strategy would fail (see the contrast runs).
import { describe, expect, it } from 'vitest';
import type { Json } from '../../crdt/json.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import type { LinkConfig } from '../../src/sim/link.js';
import type { Strategy } from '../../src/tasks/index.js';
import { LARGE_PAYLOAD_BYTES } from '../../src/tasks/routing.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const { track, untrack } = simClusterPerTest();

/** n0 <-> n1: 1 ms one way, 4 MB/s. */
const NEAR_THIN: Partial<LinkConfig> = { latencyMs: 1, jitterMs: 0.5, bandwidthBytesPerSec: 4e6 };
/** n0 <-> n2: 40 ms one way, 1 GB/s. */
const FAR_FAT: Partial<LinkConfig> = { latencyMs: 40, jitterMs: 2, bandwidthBytesPerSec: 1e9 };

/** Three nodes with the links above, started, every node seeing the other two with an RTT. */
async function startCluster(seed: string, slots: [number, number, number]): Promise<SimCluster> {
  const c = track(new SimCluster({ seed, nodes: 3, nodeOptions: (i) => ({ slots: slots[i] }) }));
  c.setLink(0, 1, NEAR_THIN);
  c.setLink(0, 2, FAR_FAT);
  await c.start();
  const measured = () => c.membersSeenBy(0).filter((m) => m.name !== 'n0' && m.rttMs !== null && m.state === 'ACTIVE').length === 2;
  expect(await c.runUntil(() => c.allSeeAlive(3) && measured(), 60_000)).toBe(true);
  await c.runFor(5_000); // a few more probe rounds for the EWMA
  return c;
}

/** Submits one task to n0 and runs the world until it is done; returns the node that ran it. */
async function runOne(c: SimCluster, strategy: Strategy, type: string, input: Json): Promise<string> {
  const { id } = await c.settle(c.node(0).submit({ type, input, strategy }), 30_000);
  expect(await c.runUntil(() => c.node(0).tasks.get(id).status === 'done', 30_000)).toBe(true);
  return c.node(0).tasks.get(id).node!;
}

/** Runs `n` tasks one after another; returns how many each node ran. */
async function spread(c: SimCluster, n: number, strategy: Strategy, type: string, input: (k: number) => Json): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let k = 0; k < n; k++) {
    const node = await runOne(c, strategy, type, input(k));
    counts[node] = (counts[node] ?? 0) + 1;
  }
  return counts;
}

function rttSeenBy0(c: SimCluster, name: string): number {
  return c.membersSeenBy(0).find((m) => m.name === name)!.rttMs!;
}

/** The throughput n0 measured to `name` (what bandwidth-aware reads), bytes per second. */
function throughputSeenBy0(c: SimCluster, name: string): number | null {
  // The member directory's routing view is what the task scheduler is given.
  const members = c.node(0).directory.routingMembers();
  return members.find((m) => m.name === name)?.throughputBytesPerSec ?? null;
}

const small = (k: number): Json => ({ data: `task ${k}`, rounds: 1 });
/** A sha256 input of about 100 KB (the digest it returns is small). */
const large = (k: number): Json => ({ data: `${k}:`.padEnd(100_000, 'x'), rounds: 1 });

describe('routing strategies in the simulator', () => {
  it('latency-aware follows the measured RTT: the near node while it is near, the other once the links swap', async () => {
    const c = await startCluster('route-latency', [0, 16, 16]);
    await withReplay(c, async () => {
      // What the strategy reads: the probes' RTT EWMA, about 2 x the one-way latency.
      expect(rttSeenBy0(c, 'n1')).toBeLessThan(5);
      expect(rttSeenBy0(c, 'n2')).toBeGreaterThan(35);
      const before = await spread(c, 20, 'latency-aware', 'sha256', small);
      expect(before.n1 ?? 0).toBeGreaterThanOrEqual(18);

      // Swap the links. Nothing tells the routing; it learns it from the probes.
      c.setLink(0, 1, FAR_FAT);
      c.setLink(0, 2, NEAR_THIN);
      expect(await c.runUntil(() => rttSeenBy0(c, 'n1') > 35 && rttSeenBy0(c, 'n2') < 5, 60_000, 100)).toBe(true);
      const after = await spread(c, 20, 'latency-aware', 'sha256', small);
      expect(after.n2 ?? 0).toBeGreaterThanOrEqual(18);

      // Contrast: round-robin on the same cluster ignores the RTT.
      const rr = await spread(c, 20, 'round-robin', 'sha256', small);
      expect(rr).toEqual({ n1: 10, n2: 10 });
    });
  });

  it('bandwidth-aware sends large payloads to the node with the best measured throughput', async () => {
    const c = await startCluster('route-bandwidth', [0, 16, 16]);
    await withReplay(c, async () => {
      expect(JSON.stringify(large(0)).length).toBeGreaterThan(LARGE_PAYLOAD_BYTES);
      expect(throughputSeenBy0(c, 'n1')).toBeNull(); // nothing large was sent yet
      expect(throughputSeenBy0(c, 'n2')).toBeNull();
      const counts = await spread(c, 12, 'bandwidth-aware', 'sha256', large);
      // The first two go one to each (nothing measured: the nearer; then the unmeasured one),
      // every later one to the fat link.
      expect(counts.n2 ?? 0).toBeGreaterThanOrEqual(10);
      const thin = throughputSeenBy0(c, 'n1');
      const fat = throughputSeenBy0(c, 'n2');
      expect(thin).not.toBeNull();
      expect(fat).not.toBeNull();
      // A fast link's transfer time hides in the RTT's jitter, so its estimate is coarse (a floor
      // on the transfer time caps it), but it is well above the thin link's.
      expect(fat!).toBeGreaterThan(3 * thin!);
      expect(thin!).toBeLessThan(6e6); // the thin link is 4 MB/s; its measurement cannot exceed that by much

      // Contrast: small payloads under the same strategy go by latency (the near node), and
      // latency-aware sends large ones near as well.
      const smallOnes = await spread(c, 10, 'bandwidth-aware', 'sha256', small);
      expect(smallOnes.n1 ?? 0).toBeGreaterThanOrEqual(9);
      const byLatency = await spread(c, 6, 'latency-aware', 'sha256', large);
      expect(byLatency.n1 ?? 0).toBeGreaterThanOrEqual(5);
    });
  });

  it('round-robin spreads evenly over the members with free slots', async () => {
    const c = await startCluster('route-rr', [0, 16, 16]);
    await withReplay(c, async () => {
      expect(await spread(c, 30, 'round-robin', 'sha256', small)).toEqual({ n1: 15, n2: 15 });
    });
  });

  it('local-first keeps tasks local while slots are free, then uses the cheapest remote member', async () => {
    const c = await startCluster('route-local', [4, 16, 16]);
    await withReplay(c, async () => {
      const submit = (ms: number) => c.settle(c.node(0).submit({ type: 'sleep', input: { ms }, strategy: 'local-first', agent: 'sleeper' }), 30_000);
      const holder = (id: string) => c.node(0).tasks.get(id).node;
      const first: string[] = [];
      for (let k = 0; k < 4; k++) first.push((await submit(5_000)).id);
      expect(first.map(holder)).toEqual(['n0', 'n0', 'n0', 'n0']);
      const overflow = [];
      for (let k = 0; k < 3; k++) overflow.push((await submit(1_000)).id);
      expect(overflow.map(holder)).toEqual(['n1', 'n1', 'n1']); // n0 is full; n1 is the nearer one
      expect(await c.runUntil(() => first.every((id) => c.node(0).tasks.get(id).status === 'done'), 30_000)).toBe(true);
      const later = (await submit(100)).id;
      expect(holder(later)).toBe('n0'); // slots are free again
    });
  });
});

describe('agent time in the simulator', () => {
  /** Runs sleep and echo tasks on a fresh cluster; returns each task's recorded durationMs by task id. */
  async function durations(seed: string): Promise<Array<[string, unknown]>> {
    const c = await startCluster(seed, [4, 4, 4]);
    try {
      const ids: string[] = [];
      for (const [k, ms] of [250, 1_000, 3_333, 0].entries()) {
        ids.push((await c.settle(c.node(k % 3).submit({ type: 'sleep', input: { ms }, strategy: 'round-robin', agent: 'sleeper' }), 30_000)).id);
      }
      ids.push((await c.settle(c.node(1).submit({ type: 'echo', input: 'hi', strategy: 'local-first', agent: 'sleeper' }), 30_000)).id);
      const recorded = () => c.node(0).memory('sleeper').list();
      expect(await c.runUntil(() => recorded().length === ids.length, 60_000)).toBe(true);
      return recorded()
        .map((e): [string, unknown] => [String(e.fields.taskId), e.fields.durationMs])
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    } finally {
      await c.destroy();
      untrack();
    }
  }

  it("an episode's durationMs is virtual time: exact for sleep tasks, and the same seed replays it", async () => {
    const first = await durations('agent-clock');
    expect(first.map(([, d]) => d).sort((a, b) => Number(a) - Number(b))).toEqual([0, 0, 250, 1_000, 3_333]);
    expect(await durations('agent-clock')).toEqual(first);
  });
});
