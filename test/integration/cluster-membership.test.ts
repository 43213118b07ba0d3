// Membership with real `tri node start` processes on loopback (127.0.1.10-14, default ports):
// five nodes find each other and become ACTIVE; a graceful stop (SIGTERM) shows as LEFT, never
// FAILED, and the process exits 0; a crash (SIGKILL) shows as FAILED (SWIM dead) on every survivor.
import { describe, expect, it } from 'vitest';
import { TriCluster, useStartedCluster, describeResult, loopbackRange, type MemberJson } from './lib/index.js';

const MEMBER_KEYS = ['address', 'freeSlots', 'incarnation', 'name', 'port', 'role', 'rpcPort', 'rttMs', 'slots', 'state', 'swimState'];

describe('cluster membership: 5 real node processes', () => {
  let c: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(10, 5), profile: 'lan' }),
    (cluster) => (c = cluster),
    { started: (ms) => console.log(`[cluster-membership] 5 nodes ACTIVE everywhere ${ms} ms after the first start`) },
  );

  it('every node lists all 5 as ACTIVE/alive in `tri nodes --json`, with the documented shape', async () => {
    for (const n of c.nodes) {
      const r = await c.cli(['nodes', '--at', n.address, '--json']);
      expect(r.code, describeResult(r)).toBe(0);
      const members = JSON.parse(r.stdout) as MemberJson[];
      expect(members.map((m) => m.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
      for (const m of members) {
        // Every documented field is there (a node may add more, e.g. httpPort).
        expect(Object.keys(m)).toEqual(expect.arrayContaining(MEMBER_KEYS));
        expect(m).toMatchObject({ state: 'ACTIVE', swimState: 'alive', port: 9999, rpcPort: 10000, role: 'hybrid', slots: 16, freeSlots: 16 });
        expect(m.address).toBe(c.node(m.name).address);
        expect(Number.isInteger(m.incarnation)).toBe(true);
        expect(m.rttMs === null || (typeof m.rttMs === 'number' && m.rttMs >= 0)).toBe(true);
      }
    }
  });

  it('SIGTERM: the node leaves gracefully, exits 0, and every other node shows it LEFT (not FAILED)', async () => {
    const n4 = c.node('n4');
    const t0 = Date.now();
    expect(n4.signal('SIGTERM')).toBe(true);
    const exit = await n4.waitExit(15_000);
    const exitMs = Date.now() - t0;
    expect(exit, n4.tailText()).toEqual({ code: 0, signal: null });
    await c.waitStates({ n4: { state: 'LEFT', swimState: 'left' } }, { timeoutMs: 20_000 });
    console.log(`[cluster-membership] SIGTERM: exit 0 after ${exitMs} ms, LEFT everywhere after ${Date.now() - t0} ms`);
  });

  it('SIGKILL: every survivor marks the crashed node FAILED (swimState dead); the one that left stays LEFT', async () => {
    const n5 = c.node('n5');
    const t0 = Date.now();
    expect(n5.signal('SIGKILL')).toBe(true);
    expect(await n5.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    const seen = await c.waitStates(
      { n5: { state: 'FAILED', swimState: 'dead' }, n4: { state: 'LEFT', swimState: 'left' }, n1: { state: 'ACTIVE', swimState: 'alive' }, n2: { state: 'ACTIVE', swimState: 'alive' }, n3: { state: 'ACTIVE', swimState: 'alive' } },
      { timeoutMs: 40_000, exact: true },
    );
    console.log(`[cluster-membership] SIGKILL: FAILED on every survivor after ${Date.now() - t0} ms`);
    expect([...seen.keys()].sort()).toEqual(['n1', 'n2', 'n3']);
    // The same through the CLI, from one survivor.
    const r = await c.cli(['nodes', '--at', c.node('n2').address, '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    const byName = Object.fromEntries((JSON.parse(r.stdout) as MemberJson[]).map((m) => [m.name, `${m.state}/${m.swimState}`]));
    expect(byName).toEqual({ n1: 'ACTIVE/alive', n2: 'ACTIVE/alive', n3: 'ACTIVE/alive', n4: 'LEFT/left', n5: 'FAILED/dead' });
  });

  it('both come back: the left node and the crashed node restart on their --data and are ACTIVE everywhere with a higher incarnation', async () => {
    const before = await c.node('n1').status();
    const inc = (name: string) => before!.members.find((m) => m.name === name)!.incarnation;
    const t0 = Date.now();
    // One after the other, as startAll does (see TriCluster.startAll on concurrent joins).
    await c.restart('n4');
    await c.waitStates({ n4: { state: 'ACTIVE', swimState: 'alive' } }, { timeoutMs: 30_000 });
    await c.restart('n5');
    const seen = await c.waitAllActive(30_000);
    console.log(`[cluster-membership] restart of n4 (left) and n5 (failed): ACTIVE everywhere after ${Date.now() - t0} ms`);
    for (const [observer, s] of seen) {
      for (const name of ['n4', 'n5']) {
        expect(s.members.find((m) => m.name === name)!.incarnation, `${name} as seen by ${observer}`).toBeGreaterThan(inc(name));
      }
    }
  });
});
