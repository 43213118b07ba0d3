// Replicated agent memory with real node processes and the real CLI (127.0.1.20-25, default
// ports): concurrent `tri memory add` on every node converges to equal digests with every episode
// everywhere; a node killed with SIGKILL while writes target it, restarted on the same --data,
// holds every write the CLI reported as acknowledged (exit 0), and so do the others.
import { afterEach, describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, sleep, waitFor, type CliResult, type NodeProcess } from './lib/index.js';

interface EpisodeJson {
  id: string;
  task: string;
  outcome: string;
  notes: string;
  tags: string[];
  counters: Record<string, number>;
  fields: Record<string, unknown>;
  node: string;
  createdAt: number;
}

let cluster: TriCluster | undefined;

afterEach(async (ctx) => {
  const c = cluster;
  cluster = undefined;
  await c?.cleanup(ctx.task.result?.state === 'fail');
});

async function startCluster(from: number): Promise<TriCluster> {
  cluster = await TriCluster.create({ addresses: loopbackRange(from, 3), profile: 'lan' });
  await cluster.startAll(40_000);
  return cluster;
}

async function show(c: TriCluster, n: NodeProcess, agent: string): Promise<EpisodeJson[]> {
  const r = await c.cli(['memory', 'show', '--at', n.address, '--agent', agent, '--all', '--json']);
  expect(r.code, describeResult(r)).toBe(0);
  return JSON.parse(r.stdout) as EpisodeJson[];
}

async function digest(c: TriCluster, n: NodeProcess): Promise<{ digest: string; documents: number }> {
  const r = await c.cli(['memory', 'digest', '--at', n.address, '--json']);
  expect(r.code, describeResult(r)).toBe(0);
  return JSON.parse(r.stdout) as { digest: string; documents: number };
}

/** Waits until every running node reports the same memory digest on /status, then checks it with `tri memory digest`. */
async function waitDigestsEqual(c: TriCluster, timeoutMs: number): Promise<string> {
  await waitFor(
    'equal memory digests on every node',
    async () => {
      const ds = await Promise.all(c.running.map(async (n) => (await n.status())?.memory?.digest));
      return { ok: ds.every((d) => d !== undefined && d === ds[0]), value: ds, detail: JSON.stringify(ds) };
    },
    { timeoutMs, intervalMs: 400, diagnostics: () => c.diagnostics() },
  );
  const viaCli = [];
  for (const n of c.running) viaCli.push(await digest(c, n));
  expect(new Set(viaCli.map((d) => d.digest)).size, JSON.stringify(viaCli)).toBe(1);
  return viaCli[0]!.digest;
}

describe('replicated memory through the CLI', () => {
  it('concurrent `tri memory add` on all 3 nodes: every write acknowledged, equal digests, every episode on every node', async () => {
    const c = await startCluster(20);
    const agents = ['agent-a', 'agent-b'];
    const t0 = Date.now();
    // Two concurrent writers per node, three writes each: 18 writes from 6 CLI processes at a time.
    const writers = c.nodes.flatMap((n) =>
      [0, 1].map(async (w) => {
        const out: CliResult[] = [];
        for (let i = 0; i < 3; i++) {
          const agent = agents[(w + i) % 2]!;
          out.push(await c.cli(['memory', 'add', '--at', n.address, '--agent', agent, '--task', `task-${n.name}-${w}-${i}`, '--outcome', 'ok', '--tag', n.name, '--json']));
        }
        return out;
      }),
    );
    const results = (await Promise.all(writers)).flat();
    const writeMs = Date.now() - t0;
    for (const r of results) expect(r.code, describeResult(r)).toBe(0);
    const written = results.map((r) => JSON.parse(r.stdout) as EpisodeJson);
    expect(new Set(written.map((e) => e.id)).size).toBe(18);

    const t1 = Date.now();
    const d = await waitDigestsEqual(c, 30_000);
    console.log(`[memory] 18 concurrent adds in ${writeMs} ms; digests equal (${d}) ${Date.now() - t1} ms later`);

    for (const n of c.nodes) {
      const ids = new Set<string>();
      for (const agent of agents) for (const e of await show(c, n, agent)) ids.add(e.id);
      expect([...ids].sort(), `episodes on ${n.name}`).toEqual(written.map((e) => e.id).sort());
    }
    // Each episode is the one that was written, wherever it is read.
    const onN3 = await show(c, c.node('n3'), 'agent-a');
    for (const e of onN3) {
      const w = written.find((x) => x.id === e.id)!;
      expect(e).toMatchObject({ task: w.task, outcome: 'ok', tags: w.tags, node: w.node });
    }
  });

  it('SIGKILL a node while writes target it, restart it on the same --data: every acknowledged write is on every node', async () => {
    const c = await startCluster(23);
    const target = c.node('n3');
    const acked: string[] = [];
    const failures: CliResult[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    let ackedBeforeRestart = Infinity;
    const ackedAfterRestart = () => acked.length - ackedBeforeRestart;
    let stop = false;
    const deadline = Date.now() + 40_000;
    // Two writers, so the kill often lands while a write is in flight on the node.
    const writer = async (w: number) => {
      for (let i = 0; i < 40 && !stop && Date.now() < deadline; i++) {
        const r = await c.cli(['memory', 'add', '--at', target.address, '--agent', 'crash-agent', '--task', `w${w}-${i}-${phase}`, '--outcome', 'ok', '--json', '--timeout', '8000']);
        if (r.code === 0) acked.push((JSON.parse(r.stdout) as EpisodeJson).id);
        else {
          failures.push(r);
          await sleep(100);
        }
      }
    };
    const loop = Promise.all([writer(0), writer(1)]);
    try {
      await waitFor('3 acknowledged writes before the crash', async () => ({ ok: acked.length >= 3, value: null, detail: `${acked.length} acked` }), { timeoutMs: 20_000, diagnostics: () => c.diagnostics() });
      target.signal('SIGKILL');
      phase = 'down';
      await target.waitExit(10_000);
      const ackedAtKill = acked.length;
      // Let the loop hit the dead node a few times (each attempt is a fresh CLI process).
      await waitFor('2 failed writes against the dead node', async () => ({ ok: failures.length >= 2, value: null, detail: `${failures.length} failures` }), { timeoutMs: 15_000 });
      const tRestart = Date.now();
      await c.restart('n3', 30_000);
      ackedBeforeRestart = acked.length;
      phase = 'after';
      await waitFor('3 acknowledged writes after the restart', async () => ({ ok: ackedAfterRestart() >= 3, value: null, detail: `${ackedAfterRestart()} acked since restart` }), {
        timeoutMs: 25_000,
        diagnostics: () => `${c.diagnostics()}\nlast failures:\n${failures.slice(-3).map(describeResult).join('\n')}`,
      });
      stop = true;
      await loop;
      console.log(`[memory] crash loop: ${acked.length} acked (${ackedAtKill} before the kill), ${failures.length} failed (exit codes ${[...new Set(failures.map((f) => f.code))].join(',')}); restart to ACTIVE ${Date.now() - tRestart} ms incl. writes`);
    } finally {
      stop = true;
      await loop;
    }
    // A failed write is an error the CLI explains, never a crash or a hang.
    for (const f of failures) {
      expect([1, 3, 4], describeResult(f)).toContain(f.code);
      expect(f.stderr, describeResult(f)).toMatch(/^tri: /);
    }
    await c.waitAllActive(30_000);
    await waitDigestsEqual(c, 30_000);
    for (const n of c.nodes) {
      const ids = new Set((await show(c, n, 'crash-agent')).map((e) => e.id));
      const missing = acked.filter((id) => !ids.has(id));
      expect(missing, `acknowledged writes missing on ${n.name}`).toEqual([]);
    }
  });
});
