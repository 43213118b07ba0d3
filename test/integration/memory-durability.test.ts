// Durability and quorum of replicated memory with real processes (127.0.1.50-55, default ports):
// every write the CLI acknowledged survives a crash of the whole cluster (SIGKILL of every node,
// restart on the same --data dirs); a node cut off from the majority refuses writes with exit 3
// (nothing applied) while reads still work, and takes writes again once a majority is back.
import { afterEach, describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, waitFor, type NodeProcess } from './lib/index.js';

let cluster: TriCluster | undefined;

afterEach(async (ctx) => {
  const c = cluster;
  cluster = undefined;
  await c?.cleanup(ctx.task.result?.state === 'fail');
});

async function showIds(c: TriCluster, n: NodeProcess, agent: string): Promise<Array<{ id: string; task: string }>> {
  const r = await c.cli(['memory', 'show', '--at', n.address, '--agent', agent, '--all', '--json']);
  expect(r.code, describeResult(r)).toBe(0);
  return JSON.parse(r.stdout) as Array<{ id: string; task: string }>;
}

describe('memory durability and quorum', () => {
  it('every acknowledged write survives SIGKILL of the whole cluster and a restart on the same --data', async () => {
    const c = (cluster = await TriCluster.create({ addresses: loopbackRange(50, 3), profile: 'lan' }));
    await c.startAll(40_000);
    const acked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const n = c.nodes[i % 3]!;
      const r = await c.cli(['memory', 'add', '--at', n.address, '--agent', 'durable', '--task', `d${i}`, '--outcome', 'ok', '--json']);
      expect(r.code, describeResult(r)).toBe(0);
      acked.push((JSON.parse(r.stdout) as { id: string }).id);
    }
    // Crash everything at once: no graceful leave, no flush beyond what the writes already did.
    for (const n of c.nodes) n.signal('SIGKILL');
    for (const n of c.nodes) expect((await n.waitExit(10_000)).signal).toBe('SIGKILL');

    const t0 = Date.now();
    await c.startAll(40_000);
    console.log(`[memory-durability] whole cluster restarted and ACTIVE in ${Date.now() - t0} ms`);
    await waitFor(
      'every acknowledged write on every node after the restart',
      async () => {
        const missing: string[] = [];
        for (const n of c.nodes) {
          const ids = new Set((await showIds(c, n, 'durable')).map((e) => e.id));
          for (const id of acked) if (!ids.has(id)) missing.push(`${id}@${n.name}`);
        }
        return { ok: missing.length === 0, value: null, detail: `missing ${missing.join(', ')}` };
      },
      { timeoutMs: 30_000, intervalMs: 1_000, diagnostics: () => c.diagnostics() },
    );
  });

  it('a node without a majority refuses writes with exit 3 (nothing applied), still serves reads, and writes again once a majority is back', async () => {
    const c = (cluster = await TriCluster.create({ addresses: loopbackRange(53, 3), profile: 'lan' }));
    await c.startAll(40_000);
    const n1 = c.node('n1');
    const first = await c.cli(['memory', 'add', '--at', n1.address, '--agent', 'q', '--task', 'before', '--outcome', 'ok', '--json']);
    expect(first.code, describeResult(first)).toBe(0);

    c.node('n2').signal('SIGKILL');
    c.node('n3').signal('SIGKILL');
    await Promise.all([c.node('n2').waitExit(10_000), c.node('n3').waitExit(10_000)]);
    const t0 = Date.now();
    await waitFor(
      'n1 to report itself read-only (DEGRADED, not writable)',
      async () => {
        const s = await n1.status();
        return { ok: s?.state === 'DEGRADED' && s.quorum?.writable === false, value: null, detail: `${s?.state} ${JSON.stringify(s?.quorum)}` };
      },
      { timeoutMs: 30_000, diagnostics: () => c.diagnostics() },
    );
    console.log(`[memory-durability] n1 DEGRADED ${Date.now() - t0} ms after losing 2 of 3`);

    const refused = await c.cli(['memory', 'add', '--at', n1.address, '--agent', 'q', '--task', 'refused', '--outcome', 'ok', '--json']);
    expect(refused.code, describeResult(refused)).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr, describeResult(refused)).toMatch(/quorum|majority|read-only/i);
    expect((await showIds(c, n1, 'q')).map((e) => e.task)).toEqual(['before']);

    await c.restart('n2', 30_000);
    await c.waitStates({ n1: { state: 'ACTIVE', swimState: 'alive' }, n2: { state: 'ACTIVE', swimState: 'alive' } }, { timeoutMs: 30_000 });
    const again = await c.cli(['memory', 'add', '--at', n1.address, '--agent', 'q', '--task', 'after', '--outcome', 'ok', '--json']);
    expect(again.code, describeResult(again)).toBe(0);
    for (const n of [n1, c.node('n2')]) {
      await waitFor(
        `both writes and not the refused one on ${n.name}`,
        async () => {
          const tasks = (await showIds(c, n, 'q')).map((e) => e.task).sort();
          return { ok: tasks.join() === 'after,before', value: null, detail: tasks.join() };
        },
        { timeoutMs: 20_000, intervalMs: 500, diagnostics: () => c.diagnostics() },
      );
    }
  });
});
