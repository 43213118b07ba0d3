// Placement on real processes (issue 21, groundwork): three `tri node start` processes on
// 127.0.21.1-3. The founder (n1) starts with --replication-factor 1 and the joiners with 5: the
// founder's factor holds cluster-wide (on /status and `tri status` of every node), every node
// computes the same replica set for an agent (`tri memory placement`), equal to what the library
// computes from the same voters, and storage follows it (enforced: with factor 1 a write is held
// by its one replica only, and every node still reads it, pulling from the replica). `tri operator replication-factor 3` changes it through a configuration change; a
// restarted node keeps the cluster's factor over its own flag and says so in its log.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Placement } from '../../src/placement/index.js';
import { NodeClient } from '../../src/client/node-client.js';
import { objectWith } from '../../src/client/reply-shape.js';
import { ConfigError, DecodeError, UsageError } from '../../src/errors.js';
import { METHODS } from '../../src/rpc/methods.js';
import type { PlacementReport } from '../../src/node/placement-rpc.js';
import { describeResult, loopbackRange, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';

type PlacementJson = PlacementReport;

interface StatusJson {
  voters: string[];
  quorum: { configuration: number };
  placement?: { replicationFactor: number; enforced: boolean };
}

const AGENTS = ['agent-0', 'agent-1', 'research-bot', 'planner@team.a', 'x'];

describe('tri memory placement and the replication factor (real processes, 127.0.21.x)', () => {
  let c!: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(1, 3, 21), profile: 'local', extraArgs: (i) => ['--replication-factor', i === 0 ? '1' : '5'] }),
    (x) => (c = x),
  );

  const json = async <T>(args: string[]): Promise<T> => {
    const r = await c.cli(args);
    expect(r.code, describeResult(r)).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const statusOf = (at: string) => json<StatusJson>(['status', '--at', at, '--json']);
  /** Waits until every node is on one configuration listing all three voters, with this factor. */
  const settled = (factor: number) =>
    waitFor(
      `three voters on one configuration with replication factor ${factor}`,
      async () => {
        const all = await Promise.all(c.nodes.map((n) => statusOf(n.address)));
        const ok = all.every((s) => s.voters.length === 3 && s.quorum.configuration === all[0]!.quorum.configuration && s.placement?.replicationFactor === factor);
        return { ok, value: all, detail: JSON.stringify(all.map((s) => ({ voters: s.voters, configuration: s.quorum.configuration, placement: s.placement }))) };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

  it("the founder's factor holds on every node, and every node places each agent alike", async () => {
    const statuses = await settled(1);
    for (const s of statuses) expect(s.placement).toMatchObject({ replicationFactor: 1, enforced: true, partial: true });
    const voters = statuses[0]!.voters.map((name) => ({ name }));
    const expected = new Placement(voters, 1);
    for (const agent of AGENTS) {
      const answers = await Promise.all(c.nodes.map((n) => json<PlacementJson>(['memory', 'placement', '--at', n.address, '--agent', agent, '--json'])));
      for (const p of answers) {
        expect(p).toMatchObject({ agent, replicationFactor: 1, voters: 3, moving: false, enforced: true, pending: null, epoch: statuses[0]!.quorum.configuration });
        expect(p.replicas).toEqual(expected.replicas(agent));
      }
    }
    // The sets spread over the voters (5 agents on 3 voters with RF 1: not all on one).
    const owners = new Set(AGENTS.map((a) => expected.replicas(a)[0]));
    expect(owners.size).toBeGreaterThan(1);

    const human = await c.cli(['memory', 'placement', '--at', c.nodes[1]!.address, '--agent', 'agent-0']);
    expect(human.code, describeResult(human)).toBe(0);
    expect(human.stdout).toContain(`agent agent-0: replicas ${expected.replicas('agent-0').join(', ')} (configuration ${statuses[0]!.quorum.configuration}, replication factor 1, 3 voters)`);
    expect(human.stdout).toMatch(/this node holds (a|no) copy/);
    const status = await c.cli(['status', '--at', c.nodes[2]!.address]);
    expect(status.stdout).toMatch(/replication\s+factor 1 \(each agent on its replica set\)/);
  }, 60_000);

  it('placement is enforced: a write is held by its replica only, and every node reads it', async () => {
    const add = await c.cli(['memory', 'add', '--at', c.nodes[0]!.address, '--agent', 'agent-1', '--task', 'placed', '--outcome', 'ok']);
    expect(add.code, describeResult(add)).toBe(0);
    const [owner] = (await json<PlacementJson>(['memory', 'placement', '--at', c.nodes[0]!.address, '--agent', 'agent-1', '--json'])).replicas;
    await waitFor(
      `only ${owner} to hold agent-1 (handoff drops the writer's copy)`,
      async () => {
        const held = await Promise.all(c.nodes.map((n) => json<PlacementJson>(['memory', 'placement', '--at', n.address, '--agent', 'agent-1', '--json'])));
        const holders = c.nodes.filter((_, i) => held[i]!.heldHere).map((n) => n.name);
        return { ok: holders.length === 1 && holders[0] === owner, value: holders, detail: holders.join(',') };
      },
      { timeoutMs: 20_000 },
    );
    // `tri nodes` shows each member's share, as each member's own /status reports it.
    const heldBy = await Promise.all(c.nodes.map(async (n) => (await json<{ memory: { documentsHeld: number } }>(['status', '--at', n.address, '--json'])).memory.documentsHeld));
    const rows = await json<Array<{ name: string; documentsHeld: number | null }>>(['nodes', '--at', c.nodes[2]!.address, '--json']);
    for (const [i, n] of c.nodes.entries()) expect(rows.find((r) => r.name === n.name)?.documentsHeld, n.name).toBe(heldBy[i]);
    expect(rows.find((r) => r.name === owner)!.documentsHeld).toBeGreaterThanOrEqual(1);
    const table = await c.cli(['nodes', '--at', c.nodes[0]!.address]);
    expect(table.code, describeResult(table)).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/\bDOCS$/);
    for (const [i, n] of c.nodes.entries()) expect(lines.find((l) => l.startsWith(`${n.name} `))).toMatch(new RegExp(`\\s${heldBy[i]}$`));
    for (const n of c.nodes) {
      await waitFor(
        `${n.name} to hold agent-1's episode`,
        async () => {
          const r = await c.cli(['memory', 'show', '--at', n.address, '--agent', 'agent-1', '--json']);
          const eps = r.code === 0 ? (JSON.parse(r.stdout) as Array<{ task: string }>) : [];
          return { ok: eps.some((e) => e.task === 'placed'), value: eps, detail: describeResult(r) };
        },
        { timeoutMs: 15_000 },
      );
    }
  }, 60_000);

  it('bad input exits 2 and changes nothing', async () => {
    const at = c.nodes[0]!.address;
    for (const args of [
      ['memory', 'placement', '--at', at, '--agent', 'bad id'],
      ['operator', 'replication-factor', '--at', at, '4'],
      ['operator', 'replication-factor', '--at', at, '0'],
      ['operator', 'replication-factor', '--at', at, '33'],
    ]) {
      const r = await c.cli(args);
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.stdout).toBe('');
    }
    // Straight to the node, past the CLI's checks: refused with a typed error, nothing changed.
    const client = await NodeClient.connect({ at, key: readFileSync(c.keyFile, 'utf8').trim() });
    try {
      const any = objectWith<Record<string, unknown>>({});
      await expect(client.call(METHODS.memoryPlacement, { agent: 'bad id' }, any)).rejects.toBeInstanceOf(ConfigError);
      await expect(client.call(METHODS.memoryPlacement, { agent: 7 }, any)).rejects.toBeInstanceOf(DecodeError);
      await expect(client.call(METHODS.memoryPlacement, ['x'], any)).rejects.toBeInstanceOf(DecodeError);
      await expect(client.call(METHODS.setReplicationFactor, { replicationFactor: 4 }, any)).rejects.toBeInstanceOf(UsageError);
      await expect(client.call(METHODS.setReplicationFactor, { replicationFactor: '3' }, any)).rejects.toBeInstanceOf(DecodeError);
    } finally {
      await client.close();
    }
    const s = await statusOf(at);
    expect(s.placement?.replicationFactor).toBe(1);
  }, 60_000);

  it('`tri operator replication-factor 3` is a configuration change every node adopts; a restart keeps it over its own flag', async () => {
    const before = (await statusOf(c.nodes[1]!.address)).quorum.configuration;
    const r = await json<{ configuration: number; replicationFactor: number; changed: boolean }>(['operator', 'replication-factor', '--at', c.nodes[1]!.address, '3', '--json']);
    expect(r).toEqual({ configuration: before + 1, replicationFactor: 3, changed: true });
    await settled(3);
    // No more voters than the factor: every voter is in every set.
    const p = await json<PlacementJson>(['memory', 'placement', '--at', c.nodes[0]!.address, '--agent', 'agent-0', '--json']);
    expect([...p.replicas].sort()).toEqual(['n1', 'n2', 'n3']);
    const again = await json<{ changed: boolean }>(['operator', 'replication-factor', '--at', c.nodes[0]!.address, '3', '--json']);
    expect(again.changed).toBe(false);

    // n3 was started with --replication-factor 5: restarted, the persisted configuration's 3 holds.
    const n3 = c.node('n3');
    n3.signal('SIGTERM');
    await n3.waitExit(20_000);
    // A member that cannot be asked shows `-`; the listing itself still succeeds.
    const listed = await c.cli(['nodes', '--at', c.nodes[0]!.address, '--json']);
    expect(listed.code, describeResult(listed)).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ name: string; documentsHeld: number | null }>;
    expect(rows.find((r) => r.name === 'n3')?.documentsHeld).toBeNull();
    expect(rows.find((r) => r.name === 'n1')?.documentsHeld).toEqual(expect.any(Number));
    const table = await c.cli(['nodes', '--at', c.nodes[0]!.address]);
    expect(table.code, describeResult(table)).toBe(0);
    expect(table.stdout.split('\n').find((l) => l.startsWith('n3 '))).toMatch(/\s-$/);
    await c.restart('n3');
    await settled(3);
    expect(readFileSync(n3.logFile, 'utf8')).toContain('--replication-factor 5 is not in force: this node\'s cluster has replication factor 3');
  }, 90_000);
});
