// Consistency levels on real processes (issue 21 item 6): five `tri node start` processes on
// 127.0.31.11-15, replication factor 3. `tri memory add --consistency all` is acknowledged only
// once every replica stored the episode (each replica then lists it from its own copy); a
// `--consistency majority` read on a node that holds no copy, right after a write acknowledged
// through another node, sees it; a bad level is a usage error (exit 2) in the CLI and a clear
// error over RPC, with nothing written; with one replica SIGKILLed, `all` fails at once with exit
// 3 naming the set while `majority` writes go on.
import { describe, expect, it } from 'vitest';
import { NodeClient } from '../../src/client/node-client.js';
import { isEpisode, objectWith } from '../../src/client/reply-shape.js';
import { METHODS } from '../../src/rpc/methods.js';
import { describeResult, loopbackRange, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { NodeClients } from './lib/node-clients.js';

describe('consistency levels: 5 processes, replication factor 3 (127.0.31.11-15)', () => {
  let c!: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(11, 5, 31), profile: 'local', extraArgs: () => ['--replication-factor', '3'] }),
    (x) => (c = x),
  );
  const clients = new NodeClients(() => c);
  const client = (name: string): Promise<NodeClient> => clients.get(name);
  const names = (): string[] => c.nodes.map((n) => n.name);
  const replicasOf = async (agent: string): Promise<string[]> => [...(await (await client('n1')).placement(agent)).replicas].sort();
  const localIds = async (name: string, agent: string): Promise<string[]> => (await (await client(name)).memoryPage(agent, { limit: 1000 })).items.map((e) => e.id);

  it('five voters on one configuration', async () => {
    await clients.settledOn(5, 'five voters on one configuration');
  }, 60_000);

  it('--consistency all: acknowledged once every replica stored it; each lists it from its own copy at once', async () => {
    for (const agent of ['all-a', 'all-b', 'all-c']) {
      const set = await replicasOf(agent);
      const outsider = names().find((n) => !set.includes(n))!;
      const r = await c.cli(['memory', 'add', '--at', c.node(outsider).address, '--agent', agent, '--task', 't', '--outcome', 'ok', '--consistency', 'all', '--json']);
      expect(r.code, describeResult(r)).toBe(0);
      const id = (JSON.parse(r.stdout) as { id: string }).id;
      // Local reads (no pull) on every replica: the ack of each one came before the command returned.
      for (const n of set) expect(await localIds(n, agent), `${agent} on ${n}`).toContain(id);
    }
  }, 60_000);

  it('--consistency majority read on a node holding no copy sees a write just acknowledged through another node', async () => {
    for (let k = 0; k < 5; k++) {
      const agent = `maj-${k}`;
      const set = await replicasOf(agent);
      const outsiders = names().filter((n) => !set.includes(n));
      const ep = await (await client(set[k % set.length]!)).addEpisode({ agent, task: `w${k}`, outcome: 'ok' });
      const r = await c.cli(['memory', 'show', '--at', c.node(outsiders[k % outsiders.length]!).address, '--agent', agent, '--consistency', 'majority', '--json']);
      expect(r.code, describeResult(r)).toBe(0);
      expect((JSON.parse(r.stdout) as Array<{ id: string }>).map((e) => e.id)).toContain(ep.id);
      // On a replica too (it merges from a majority of its set first).
      const onReplica = await (await client(set[(k + 1) % set.length]!)).memoryPage(agent, {}, 'majority');
      expect(onReplica.items.map((e) => e.id)).toContain(ep.id);
    }
  }, 60_000);

  it('a bad level: usage error (exit 2) in the CLI, a clear error over RPC; nothing written', async () => {
    const at = c.node('n2').address;
    const bad = await c.cli(['memory', 'add', '--at', at, '--agent', 'bad-1', '--task', 't', '--outcome', 'ok', '--consistency', 'quorum']);
    expect(bad.code, describeResult(bad)).toBe(2);
    expect(bad.stderr).toContain('majority, all');
    const badRead = await c.cli(['memory', 'show', '--at', at, '--agent', 'bad-1', '--consistency', 'all']);
    expect(badRead.code, describeResult(badRead)).toBe(2);
    const help = await c.cli(['memory', 'add', '--help']);
    expect(help.stdout).toContain('--consistency <level>');
    const k = await client('n2');
    await expect(k.call(METHODS.memoryAdd, { agent: 'bad-1', task: 't', outcome: 'ok', consistency: 'every' }, isEpisode)).rejects.toThrow(/write consistency must be one of majority, all/);
    await expect(k.call(METHODS.memoryShow, { agent: 'bad-1', consistency: 'all' }, objectWith<{ episodes: unknown[] }>({ episodes: 'array' }))).rejects.toThrow(/read consistency must be one of local, majority/);
    for (const n of names()) expect(await localIds(n, 'bad-1')).toEqual([]);
  }, 60_000);

  it('one replica SIGKILLed: `all` fails at once with exit 3 naming the set; `majority` writes go on', async () => {
    const agent = 'kill-all';
    const set = await replicasOf(agent);
    const victim = set[0]!;
    const via = names().find((n) => !set.includes(n))!;
    expect(c.node(victim).signal('SIGKILL')).toBe(true);
    await c.node(victim).waitExit(10_000);
    // Once the writer sees the replica gone (and before stable-after, 10 s, downs it), `all` is refused up front.
    await waitFor(
      `${via} sees ${victim} failed`,
      async () => {
        const m = (await (await client(via)).members()).find((x) => x.name === victim);
        return { ok: m?.state === 'FAILED', value: m, detail: m?.state ?? 'absent' };
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const refused = await c.cli(['memory', 'add', '--at', c.node(via).address, '--agent', agent, '--task', 'all', '--outcome', 'x', '--consistency', 'all']);
    expect(refused.code, describeResult(refused)).toBe(3);
    expect(refused.stderr).toContain(`consistency 'all' needs every replica`);
    expect(refused.stderr).toContain(victim);
    expect(await localIds(via, agent)).toEqual([]); // nothing applied (the writer is no replica and held no copy)
    const ok = await c.cli(['memory', 'add', '--at', c.node(via).address, '--agent', agent, '--task', 'maj', '--outcome', 'ok']);
    expect(ok.code, describeResult(ok)).toBe(0); // 2 of its 3 replicas: a majority
  }, 90_000);

  it('closes its clients', async () => {
    await clients.closeAll();
  });
});
