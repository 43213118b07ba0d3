// Writes through a node outside the agent's replica set, on real processes: five `tri node start`
// processes on 127.0.74.11-15, replication factor 3. The node forwards each client write to a live
// replica (src/memory/write-forward.ts) and never makes a copy: the add is acknowledged by a
// majority of the replica set (each of them lists it from its own copy), the writer holds nothing
// at any moment, edits/forget/policy through it work on the replicas' copy, and with two of the
// three replicas SIGKILLed the write fails at once with exit 3 naming the set, nothing applied.
import { describe, expect, it } from 'vitest';
import { NodeClient } from '../../src/client/node-client.js';
import { describeResult, loopbackRange, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { NodeClients } from './lib/node-clients.js';

describe('writes through a non-replica are forwarded: 5 processes, replication factor 3 (127.0.74.11-15)', () => {
  let c!: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(11, 5, 74), profile: 'local', extraArgs: () => ['--replication-factor', '3'] }),
    (x) => (c = x),
  );
  const clients = new NodeClients(() => c);
  const client = (name: string): Promise<NodeClient> => clients.get(name);
  const names = (): string[] => c.nodes.map((n) => n.name);
  const replicasOf = async (agent: string): Promise<string[]> => [...(await (await client('n1')).placement(agent)).replicas];
  const localIds = async (name: string, agent: string): Promise<string[]> => (await (await client(name)).memoryPage(agent, { limit: 1000 })).items.map((e) => e.id);
  const forwardCounts = async (name: string) => {
    const p = (await (await client(name)).status()).placement;
    return { forwarded: p?.writesForwarded ?? -1, served: p?.forwardedWritesServed ?? -1 };
  };

  it('five voters on one configuration', async () => {
    await clients.settledOn(5, 'five voters on one configuration');
  }, 60_000);

  it('an add through a non-replica: acknowledged by a majority of the set, answered with the episode, no copy on the writer', async () => {
    for (let k = 0; k < 4; k++) {
      const agent = `fwd-${k}`;
      const set = await replicasOf(agent);
      const via = names().find((n) => !set.includes(n))!;
      const before = await forwardCounts(via);
      const servedBefore = await forwardCounts(set[0]!);
      const ep = await (await client(via)).addEpisode({ agent, task: `forwarded ${k}`, outcome: 'ok', tags: ['fwd'] });
      expect(ep).toMatchObject({ task: `forwarded ${k}`, outcome: 'ok', tags: ['fwd'] });
      // Acknowledged: at least two of the three replicas list it from their own copies at once.
      const holding = (await Promise.all(set.map((n) => localIds(n, agent)))).filter((ids) => ids.includes(ep.id));
      expect(holding.length, `${agent}: replicas listing ${ep.id}`).toBeGreaterThanOrEqual(2);
      // The writer never held a copy (before forwarding it stored one and handed it off later).
      expect((await (await client(via)).placement(agent)).heldHere, `${via} holds ${agent}`).toBe(false);
      expect(await forwardCounts(via)).toMatchObject({ forwarded: before.forwarded + 1 });
      expect((await forwardCounts(set[0]!)).served).toBe(servedBefore.served + 1);
      // A read through the writer merges from the replica set: it sees its own write.
      expect((await (await client(via)).showMemory(agent)).map((e) => e.id)).toContain(ep.id);
    }
  }, 90_000);

  it('edits, forget and policy through a non-replica act on the replicas; the writer still holds nothing', async () => {
    const agent = 'fwd-edit';
    const set = await replicasOf(agent);
    const via = names().find((n) => !set.includes(n))!;
    const k = await client(set[1]!);
    const keep = await k.addEpisode({ agent, task: 'keep', outcome: 'ok' });
    const gone = await k.addEpisode({ agent, task: 'gone', outcome: 'ok' });
    const w = await client(via);
    expect((await w.annotate(agent, keep.id, { op: 'tag', tag: 'outside' })).tags).toContain('outside');
    expect((await w.annotate(agent, keep.id, { op: 'incr', counter: 'seen', by: 2 })).counters).toMatchObject({ seen: 2 });
    expect(await w.forgetEpisode(agent, gone.id)).toBe(true);
    expect(await w.memoryPolicy(agent, { maxEpisodes: 10 })).toMatchObject({ maxEpisodes: 10 });
    expect((await w.placement(agent)).heldHere).toBe(false);
    // On the replicas, read at majority: the tag and the counter are there, the forgotten episode is not.
    const page = await (await client(set[2]!)).memoryPage(agent, { limit: 100 }, 'majority');
    expect(page.items.map((e) => e.id)).toEqual([keep.id]);
    expect(page.items[0]).toMatchObject({ tags: ['outside'], counters: { seen: 2 } });
    // A missing episode is the replica's NotFoundError, passed back as is.
    await expect(w.annotate(agent, 'ffffffffffffffff', { op: 'tag', tag: 'x' })).rejects.toThrow(/does not exist in agent fwd-edit/);
  }, 60_000);

  it('two of the three replicas SIGKILLed: a write through a non-replica fails at once with exit 3 naming the set; nothing applied', async () => {
    const agent = 'fwd-kill';
    const set = await replicasOf(agent);
    const via = names().find((n) => !set.includes(n))!;
    const victims = set.slice(0, 2);
    for (const v of victims) expect(c.node(v).signal('SIGKILL')).toBe(true);
    for (const v of victims) await c.node(v).waitExit(10_000);
    for (const v of victims) clients.forget(v);
    // Once the writer sees both gone (and before stable-after, 10 s, downs them), the write is refused up front.
    await waitFor(
      `${via} sees ${victims.join(' and ')} failed`,
      async () => {
        const ms = await (await client(via)).members();
        const ok = victims.every((v) => ms.find((x) => x.name === v)?.state === 'FAILED');
        return { ok, value: ms, detail: ms.map((m) => `${m.name}:${m.state}`).join(' ') };
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const r = await c.cli(['memory', 'add', '--at', c.node(via).address, '--agent', agent, '--task', 't', '--outcome', 'x']);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(`replica set of agent ${agent}`);
    for (const n of set) expect(r.stderr).toContain(n);
    expect((await (await client(via)).placement(agent)).heldHere).toBe(false);
    expect(await localIds(set[2]!, agent)).toEqual([]); // the live replica reads its own copy: nothing arrived
  }, 90_000);

  it('closes its clients', async () => {
    await clients.closeAll();
  });
});
