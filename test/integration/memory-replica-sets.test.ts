// Replica sets on real processes (issue 21): seven `tri node start` processes on 127.0.21.11-17,
// replication factor 3. Concurrent writes to 20 agents through every node; each agent's memory is
// then held by exactly its 3 replicas (checked on every node through `memory.placement` (heldHere)
// and `/status` (memory.documentsHeld, documentsMoving), and by `tri memory placement`). One
// replica is SIGKILLed while writes are in flight: once the cluster downs it, every agent is back
// on 3 live nodes and every acknowledged episode is there, read through replicas and non-replicas
// (shown, recalled and edited on a node that holds no copy).
import { describe, expect, it } from 'vitest';
import { NodeClient } from '../../src/client/node-client.js';
import { describeResult, httpGet, loopbackRange, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { NodeClients } from './lib/node-clients.js';

const AGENTS = Array.from({ length: 20 }, (_, i) => `agent-${i}`);

describe('replica sets: 7 processes, replication factor 3 (127.0.21.11-17)', () => {
  let c!: TriCluster;
  useStartedCluster(
    () => ({ addresses: loopbackRange(11, 7, 21), profile: 'local', extraArgs: () => ['--replication-factor', '3'] }),
    (x) => (c = x),
  );
  const clients = new NodeClients(() => c);
  const client = (name: string): Promise<NodeClient> => clients.get(name);
  const acked = new Map<string, Set<string>>(AGENTS.map((a) => [a, new Set()]));

  /** Per live node: the agents it holds, from memory.placement, and its /status memory block. */
  const holdings = async (live: string[]) => {
    const out = new Map<string, { held: string[]; replicas: Map<string, string[]>; status: { agents: number; documentsHeld?: number; documentsMoving?: number; documents: number } }>();
    for (const name of live) {
      const k = await client(name);
      const reports = await Promise.all(AGENTS.map((a) => k.placement(a)));
      const status = (await k.status()).memory;
      out.set(name, { held: AGENTS.filter((_, i) => reports[i]!.heldHere), replicas: new Map(AGENTS.map((a, i) => [a, [...reports[i]!.replicas].sort()])), status });
    }
    return out;
  };

  /** Waits until, on every live node, each agent is held by exactly its replica set (on one configuration). */
  const settledOn = (live: string[]) =>
    waitFor(
      `every agent held by exactly its 3 replicas among ${live.join(', ')}`,
      async () => {
        const h = await holdings(live);
        const problems: string[] = [];
        const ref = h.get(live[0]!)!.replicas;
        for (const a of AGENTS) {
          const set = ref.get(a)!;
          const holders = live.filter((n) => h.get(n)!.held.includes(a)).sort();
          if (set.length !== 3 || set.some((n) => !live.includes(n))) problems.push(`${a}: replicas ${set.join(',')}`);
          if (JSON.stringify(holders) !== JSON.stringify(set)) problems.push(`${a}: held by ${holders.join(',')}, placed on ${set.join(',')}`);
          for (const n of live) if (JSON.stringify(h.get(n)!.replicas.get(a)) !== JSON.stringify(set)) problems.push(`${n} places ${a} elsewhere`);
        }
        for (const n of live) {
          const s = h.get(n)!.status;
          if (s.documentsMoving !== 0) problems.push(`${n}: ${s.documentsMoving} documents moving`);
          if (s.agents !== h.get(n)!.held.length) problems.push(`${n}: /status says ${s.agents} agents, placement ${h.get(n)!.held.length}`);
          if (s.documentsHeld !== s.documents) problems.push(`${n}: documentsHeld ${s.documentsHeld} vs documents ${s.documents}`);
        }
        return { ok: problems.length === 0, value: h, detail: problems.slice(0, 6).join('; ') };
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );

  const write = async (via: string, agent: string, task: string): Promise<void> => {
    const ep = await (await client(via)).addEpisode({ agent, task, outcome: 'ok' });
    acked.get(agent)!.add(ep.id);
  };

  it('concurrent writes to 20 agents: each agent held by exactly its 3 replicas', async () => {
    await clients.settledOn(7, 'seven voters on one configuration');
    const names = c.nodes.map((n) => n.name);
    const writes: Array<Promise<void>> = [];
    for (let r = 0; r < 3; r++) AGENTS.forEach((a, i) => writes.push(write(names[(i + r) % 7]!, a, `round ${r}`)));
    await Promise.all(writes);
    const h = await settledOn(names);
    const total = [...h.values()].reduce((t, x) => t + x.held.length, 0);
    expect(total).toBe(AGENTS.length * 3);
    // The CLI shows the same: agent-0's replicas hold it, the others do not.
    const set = h.get('n1')!.replicas.get('agent-0')!;
    for (const n of c.nodes) {
      const r = await c.cli(['memory', 'placement', '--at', n.address, '--agent', 'agent-0', '--json']);
      expect(r.code, describeResult(r)).toBe(0);
      const p = JSON.parse(r.stdout) as { replicas: string[]; enforced: boolean; heldHere: boolean; moving: boolean };
      expect([...p.replicas].sort()).toEqual(set);
      expect(p).toMatchObject({ enforced: true, moving: false, heldHere: set.includes(n.name) });
    }
    // /metrics carries the same share.
    const metrics = await httpGet(`http://${c.node('n2').address}:10080/metrics`, 5000);
    expect(metrics).toMatch(/^tri_memory_bytes_held\{node="n2"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^tri_memory_documents_moving\{node="n2"\} 0$/m);
  }, 120_000);

  it('SIGKILL of one replica mid-writes: no acknowledged write lost, every agent back on 3 live nodes', async () => {
    const names = c.nodes.map((n) => n.name);
    const placed = (await holdings(['n1'])).get('n1')!.replicas;
    const victim = placed.get('agent-0')!.find((n) => n !== 'n1')!;
    const live = names.filter((n) => n !== victim);
    const failures: string[] = [];
    const rounds: Array<Promise<void>> = [];
    for (let r = 0; r < 8; r++) {
      if (r === 3) {
        // Mid-writes: round 2's writes are still in flight when the replica dies.
        expect(c.node(victim).signal('SIGKILL')).toBe(true);
      }
      const via = (i: number) => live[(i + r) % live.length]!;
      rounds.push(
        ...AGENTS.map((a, i) =>
          write(via(i), a, `kill round ${r}`).catch((err: Error) => {
            // Not acknowledged (refused, timed out): allowed, and not counted.
            failures.push(`${a}: ${err.name}`);
          }),
        ),
      );
      await new Promise((res) => setTimeout(res, 150));
    }
    await Promise.all(rounds);
    await c.node(victim).waitExit(10_000);
    await waitFor(
      `${victim} downed: six voters on every live node`,
      async () => {
        const all = await Promise.all(live.map(async (n) => (await client(n)).status()));
        const ok = all.every((s) => s.voters.length === 6 && !s.voters.includes(victim));
        return { ok, value: all, detail: all.map((s) => s.voters.join(',')).join(' | ') };
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    const h = await settledOn(live);
    for (const a of AGENTS) expect(h.get(live[0]!)!.replicas.get(a)).not.toContain(victim);
    // A non-replica (it holds no copy: settledOn checked) recalls and edits an agent's episodes:
    // both merge from the replica set first, and the edit is on the replicas once acknowledged.
    for (const a of AGENTS.slice(0, 3)) {
      const set = h.get(live[0]!)!.replicas.get(a)!;
      const outsider = live.find((n) => !set.includes(n))!;
      const k = await client(outsider);
      const recalled = new Set((await k.recall(a, { limit: 1000 })).map((hit) => hit.episode.id));
      expect([...acked.get(a)!].filter((id) => !recalled.has(id)), `${a} recalled on ${outsider}`).toEqual([]);
      const id = [...acked.get(a)!][0]!;
      expect((await k.annotate(a, id, { op: 'tag', tag: 'seen-by-outsider' })).tags).toContain('seen-by-outsider');
      const onReplica = (await (await client(set[0]!)).recall(a, { tags: ['seen-by-outsider'], limit: 10 }, 'majority')).map((hit) => hit.episode.id);
      expect(onReplica, `${a}: the outsider's tag read on ${set[0]} at majority`).toEqual([id]);
    }
    // Every acknowledged episode is on each of its agent's replicas, and a non-replica reads it too.
    for (const a of AGENTS) {
      const set = h.get(live[0]!)!.replicas.get(a)!;
      const outsider = live.find((n) => !set.includes(n))!;
      for (const reader of [...set, outsider]) {
        const ids = new Set((await (await client(reader)).showMemory(a)).map((e) => e.id));
        const missing = [...acked.get(a)!].filter((id) => !ids.has(id));
        expect(missing, `${a} read on ${reader}`).toEqual([]);
      }
    }
    const total = [...acked.values()].reduce((t, s) => t + s.size, 0);
    console.log(`acknowledged episodes: ${total}; writes not acknowledged around the kill: ${failures.length} (${[...new Set(failures.map((f) => f.split(': ')[1]))].join(', ') || 'none'})`);
    expect(total).toBeGreaterThan(AGENTS.length * 3);
  }, 240_000);

  it('closes its clients', async () => {
    await clients.closeAll();
  });
});
