// Tasks on 3 real `tri node start` processes (127.0.8.11-13, default ports, `local` profile):
//   - echo returns its input;
//   - 30 round-robin tasks spread over the 3 nodes (each runs at least 8);
//   - bad input (unknown agent type, input that is not JSON, bad built-in input, an agent that
//     throws or returns something that is not JSON) gives a clear error on that task, never a
//     crashed node;
//   - a `sleep` task whose node is SIGKILLed mid-run completes on another node, with exactly one
//     result recorded (one outcome in the table, one episode in the agent's memory).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TriCluster, useStartedCluster, describeResult, sleep, waitFor, type CliResult } from './lib/index.js';

interface TaskJson {
  id: string;
  type: string;
  status: string;
  node: string | null;
  attempts: number;
  result: unknown;
  error?: string;
}

interface EpisodeJson {
  id: string;
  task: string;
  outcome: string;
  node: string;
  fields: Record<string, unknown>;
}

const ADDRESSES = ['127.0.8.11', '127.0.8.12', '127.0.8.13'];

// A user agent module: handlers that throw (synchronously and asynchronously) and one that
// returns a value that is not JSON.
const AGENTS_MODULE = `
export default {
  boom: () => { throw new Error('boom: the agent blew up on purpose'); },
  'boom-async': async () => { await new Promise((r) => setTimeout(r, 10)); throw new TypeError('async boom'); },
  'not-json': () => ({ f: () => 1 }),
  'throws-string': () => { throw 'a thrown string'; },
};
`;

/** Runs `fn` over `items` with at most `limit` at a time (CLI processes are heavy on 2 cores). */
async function pool<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

describe('tasks on 3 real node processes', () => {
  let c: TriCluster;
  let agentsDir: string;
  let agentsFile: string;

  const at = (name: string): string => c.node(name).address;
  const json = <T>(r: CliResult): T => {
    expect(r.code, describeResult(r)).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const list = async (node: string): Promise<TaskJson[]> => json<TaskJson[]>(await c.cli(['task', 'list', '--at', at(node), '--all', '--json']));

  useStartedCluster(
    () => ({ addresses: ADDRESSES, profile: 'local', extraArgs: () => ['--agents', agentsFile] }),
    (cluster) => (c = cluster),
    {
      before: () => {
        agentsDir = mkdtempSync(join(tmpdir(), 'tri-it-agents-'));
        agentsFile = join(agentsDir, 'agents.mjs');
        writeFileSync(agentsFile, AGENTS_MODULE);
      },
      after: () => {
        if (agentsDir) rmSync(agentsDir, { recursive: true, force: true });
      },
    },
  );

  it('echo returns its input', async () => {
    const input = { text: 'hello', n: 42, nested: { list: [1, 'two', null, true] } };
    const r = await c.cli(['task', 'submit', '--at', at('n1'), '--type', 'echo', '--input', JSON.stringify(input), '--wait', '--json']);
    const t = json<TaskJson>(r);
    expect(t).toMatchObject({ type: 'echo', status: 'done', attempts: 1, result: input });
    expect(Object.keys(t)).toEqual(expect.arrayContaining(['id', 'type', 'status', 'node', 'attempts', 'result']));
    expect(['n1', 'n2', 'n3']).toContain(t.node);
  });

  it('30 round-robin tasks spread over the 3 nodes, each running at least 8', async () => {
    const submitted = await pool(
      Array.from({ length: 30 }, (_, i) => i),
      4,
      async (i) => json<TaskJson>(await c.cli(['task', 'submit', '--at', at('n1'), '--type', 'echo', '--input', JSON.stringify({ i }), '--strategy', 'round-robin', '--agent', 'rr', '--json'])),
    );
    const ids = new Set(submitted.map((t) => t.id));
    expect(ids.size).toBe(30);
    const done = await waitFor(
      '30 round-robin tasks done',
      async () => {
        const mine = (await list('n1')).filter((t) => ids.has(t.id));
        const finished = mine.filter((t) => t.status === 'done');
        return { ok: finished.length === 30, value: finished, detail: `${finished.length}/30 done: ${JSON.stringify(mine.filter((t) => t.status !== 'done'))}` };
      },
      { timeoutMs: 20_000, intervalMs: 300, diagnostics: () => c.diagnostics() },
    );
    const perNode: Record<string, number> = { n1: 0, n2: 0, n3: 0 };
    for (const t of done) perNode[t.node!] = (perNode[t.node!] ?? 0) + 1;
    console.log(`[tasks-run] round-robin spread: ${JSON.stringify(perNode)}`);
    for (const n of ['n1', 'n2', 'n3']) expect(perNode[n], JSON.stringify(perNode)).toBeGreaterThanOrEqual(8);
    for (const t of done) expect(t.result).toEqual({ i: submitted.findIndex((s) => s.id === t.id) });
  });

  it('bad input gives a failed task with the reason, never a crashed node', async () => {
    // Every node takes one of each: local-first at each node runs it there.
    const cases: { type: string; input: string; reason: RegExp }[] = [
      { type: 'sleep', input: '{"ms":"soon"}', reason: /sleep needs input \{"ms": N\}/ },
      { type: 'sha256', input: '[1,2]', reason: /sha256 needs input/ },
      { type: 'boom', input: '{}', reason: /agent "boom" failed: boom: the agent blew up on purpose/ },
      { type: 'boom-async', input: '{}', reason: /agent "boom-async" failed: async boom/ },
      { type: 'throws-string', input: '{}', reason: /a thrown string/ },
      { type: 'not-json', input: '{}', reason: /not JSON/ },
    ];
    for (const node of ['n1', 'n2', 'n3']) {
      await pool(cases, 3, async (k) => {
        const r = await c.cli(['task', 'submit', '--at', at(node), '--type', k.type, '--input', k.input, '--wait', '--json']);
        // --wait on a failed task: exit 1 with the reason on stderr, and the JSON record on stdout.
        expect(r.code, describeResult(r)).toBe(1);
        const t = JSON.parse(r.stdout) as TaskJson;
        expect(t.status, describeResult(r)).toBe('failed');
        expect(t.node).toBe(node);
        expect(t.attempts).toBe(1); // a failure is final, not retried
        expect(t.error).toMatch(k.reason);
        expect(r.stderr).toMatch(k.reason);
      });
    }
    // A type no live member runs is refused by the CLI before anything is written (issue 15).
    const unknown = await c.cli(['task', 'submit', '--at', at('n1'), '--type', 'no-such-agent', '--input', '{}', '--wait', '--json']);
    expect(unknown.code, describeResult(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/no live member runs agent type "no-such-agent"; known types: .*echo/);
    // Input that is not JSON never reaches a node: a usage error (exit 2) saying what to send.
    const notJson = await c.cli(['task', 'submit', '--at', at('n2'), '--type', 'echo', '--input', '{not json', '--json']);
    expect(notJson.code, describeResult(notJson)).toBe(2);
    expect(notJson.stderr).toMatch(/--input is not JSON/);
    expect(notJson.stdout).toBe('');
    // Every node is still running, ACTIVE, and still runs tasks.
    for (const n of c.nodes) expect(n.running, n.tailText()).toBe(true);
    await c.waitAllActive(10_000);
    for (const node of ['n1', 'n2', 'n3']) {
      const t = json<TaskJson>(await c.cli(['task', 'submit', '--at', at(node), '--type', 'wordcount', '--input', '{"text":"still alive"}', '--wait', '--json']));
      expect(t).toMatchObject({ status: 'done', node, result: { words: 2 } });
    }
  });

  it('a sleep task whose node is SIGKILLed mid-run completes on another node, one result recorded', async () => {
    // local-first at n2 runs it on n2; n1 (lowest name, ACTIVE) is the scheduling leader.
    const agent = `sleeper-${Date.now()}`;
    const sub = json<TaskJson>(await c.cli(['task', 'submit', '--at', at('n2'), '--type', 'sleep', '--input', '{"ms":4000}', '--agent', agent, '--json']));
    expect(sub).toMatchObject({ status: 'running', node: 'n2', attempts: 1 });
    // The assignment is replicated before the kill (the submit was a quorum write).
    await waitFor(
      'n1 to see the task running on n2',
      async () => {
        const t = (await list('n1')).find((x) => x.id === sub.id);
        return { ok: t?.status === 'running' && t.node === 'n2', value: t, detail: JSON.stringify(t) };
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    await sleep(500);
    const killedAt = Date.now();
    expect(c.node('n2').signal('SIGKILL')).toBe(true);
    await c.node('n2').waitExit(5_000);
    await c.waitStates({ n2: { state: 'FAILED' } }, { timeoutMs: 30_000, observers: [c.node('n1')] });
    const detectedMs = Date.now() - killedAt;
    const done = await waitFor(
      'the task to finish on a survivor',
      async () => {
        const t = (await list('n1')).find((x) => x.id === sub.id);
        return { ok: t?.status === 'done' || t?.status === 'failed', value: t!, detail: JSON.stringify(t) };
      },
      { timeoutMs: 30_000, intervalMs: 200, diagnostics: () => c.diagnostics() },
    );
    console.log(`[tasks-run] failover: n1 saw n2 FAILED ${detectedMs} ms and the task done on ${done.node} ${Date.now() - killedAt} ms after SIGKILL of n2 (includes the 4 s sleep)`);
    expect(done).toMatchObject({ status: 'done', attempts: 2, result: { sleptMs: 4000 } });
    expect(['n1', 'n3']).toContain(done.node);
    // Both survivors agree on the record, and the agent's memory holds exactly one episode for it.
    for (const node of ['n1', 'n3']) {
      await waitFor(
        `${node} to hold the result and exactly one episode for the task`,
        async () => {
          const t = (await list(node)).filter((x) => x.id === sub.id);
          const eps = json<EpisodeJson[]>(await c.cli(['memory', 'show', '--at', at(node), '--agent', agent, '--all', '--json'])).filter((e) => e.fields.taskId === sub.id);
          const ok = t.length === 1 && t[0]!.status === 'done' && t[0]!.node === done.node && eps.length === 1 && eps[0]!.node === done.node && eps[0]!.outcome === 'done';
          return { ok, value: eps, detail: `tasks ${JSON.stringify(t)} episodes ${JSON.stringify(eps)}` };
        },
        { timeoutMs: 10_000, intervalMs: 300 },
      );
    }
    // No second result turns up later (the killed run never reported; nothing runs it again).
    await sleep(1_000);
    const eps = json<EpisodeJson[]>(await c.cli(['memory', 'show', '--at', at('n1'), '--agent', agent, '--all', '--json']));
    expect(eps.filter((e) => e.fields.taskId === sub.id)).toHaveLength(1);
  });
});
