// `tri mcp` driven by the MCP TypeScript SDK's own client against a 3-node cluster of real
// processes (127.0.19.20-22): every tool listed and called; a remember through the server on n1
// is recalled through the server on n3; concurrent add_observations through two nodes both
// survive; the knowledge-graph tools give the same read_graph and search_nodes results as the
// reference server (@modelcontextprotocol/server-memory) run in the same test; bad input gives
// tool errors and the servers and nodes keep serving; Streamable HTTP demands the bearer token;
// recall and annotate take consistency levels (an edit at `all` refused with a replica down, a
// recall at `majority` refused on a minority).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRI, TriCluster, waitFor } from './lib/index.js';

interface CallResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

let cluster: TriCluster;
const clients: Client[] = [];
let s1: Client;
let s3: Client;
let failed = false;

async function stdioClient(at: string, keyFile: string): Promise<Client> {
  const c = new Client({ name: 'mcp-test', version: '1.0.0' });
  await c.connect(new StdioClientTransport({ command: process.execPath, args: [TRI, 'mcp', '--at', at, '--key-file', keyFile], stderr: 'pipe' }));
  clients.push(c);
  return c;
}

const call = async (c: Client, name: string, args: Record<string, unknown> = {}): Promise<CallResult> => (await c.callTool({ name, arguments: args })) as CallResult;
const ok = async (c: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
  const r = await call(c, name, args);
  expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
  return r.structuredContent!;
};

beforeAll(async () => {
  cluster = await TriCluster.create({ addresses: ['127.0.19.20', '127.0.19.21', '127.0.19.22'], profile: 'lan' });
  await cluster.startAll(40_000);
  s1 = await stdioClient(cluster.nodes[0]!.address, cluster.keyFile);
  s3 = await stdioClient(cluster.nodes[2]!.address, cluster.keyFile);
}, 90_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await cluster?.cleanup(failed);
});

describe('tri mcp', { timeout: 120_000 }, () => {
  it('the knowledge-graph tools answer as the reference memory server does', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    const dir = mkdtempSync(join(tmpdir(), 'tri-mcp-ref-'));
    const require = createRequire(import.meta.url);
    const refMain = require.resolve('@modelcontextprotocol/server-memory/dist/index.js');
    const ref = new Client({ name: 'mcp-test', version: '1.0.0' });
    await ref.connect(new StdioClientTransport({ command: process.execPath, args: [refMain], env: { ...process.env, MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } as Record<string, string>, stderr: 'pipe' }));
    try {
      const script: Array<[string, Record<string, unknown>]> = [
        ['create_entities', { entities: [{ name: 'Alice', entityType: 'person', observations: ['likes tea', 'works at Acme'] }, { name: 'Acme', entityType: 'company', observations: [] }] }],
        ['create_entities', { entities: [{ name: 'Alice', entityType: 'robot', observations: ['ignored: exists'] }, { name: 'Bob', entityType: 'person', observations: ['knows Alice'] }] }],
        ['create_relations', { relations: [{ from: 'Alice', to: 'Acme', relationType: 'works_at' }, { from: 'Bob', to: 'Alice', relationType: 'knows' }] }],
        ['create_relations', { relations: [{ from: 'Alice', to: 'Acme', relationType: 'works_at' }, { from: 'Acme', to: 'Bob', relationType: 'employs' }] }],
        ['add_observations', { observations: [{ entityName: 'Alice', contents: ['likes tea', 'plays chess'] }, { entityName: 'Acme', contents: ['makes anvils'] }] }],
        ['delete_observations', { deletions: [{ entityName: 'Alice', observations: ['works at Acme'] }] }],
        ['create_entities', { entities: [{ name: 'Carol', entityType: 'person', observations: ['temp'] }] }],
        ['create_relations', { relations: [{ from: 'Carol', to: 'Bob', relationType: 'knows' }, { from: 'Bob', to: 'Carol', relationType: 'mentors' }] }],
        ['delete_relations', { relations: [{ from: 'Bob', to: 'Carol', relationType: 'mentors' }] }],
        ['delete_entities', { entityNames: ['Carol'] }],
        ['add_observations', { observations: [{ entityName: 'Nobody', contents: ['x'] }] }],
      ];
      for (const [tool, args] of script) {
        const [ours, theirs] = [await call(s1, tool, args), await call(ref, tool, args)];
        expect(Boolean(ours.isError), `${tool} ${JSON.stringify(args)}: ${ours.content[0]?.text}`).toBe(Boolean(theirs.isError));
        if (!theirs.isError) {
          expect(ours.structuredContent, tool).toEqual(theirs.structuredContent);
          expect(ours.content, tool).toEqual(theirs.content);
        } else expect(ours.content[0]?.text).toContain('Entity with name Nobody not found');
      }
      for (const c of [s1, s3]) {
        await waitFor('the graph to replicate', async () => {
          const [a, b] = [await call(c, 'read_graph'), await call(ref, 'read_graph')];
          return { ok: JSON.stringify(a.structuredContent) === JSON.stringify(b.structuredContent), value: a, detail: JSON.stringify(a.structuredContent) };
        }, { timeoutMs: 10_000, intervalMs: 200 });
        for (const query of ['alice', 'PERSON', 'chess', 'acme', '', 'nothing-matches', '"*(']) {
          expect((await call(c, 'search_nodes', { query })).structuredContent, query).toEqual((await call(ref, 'search_nodes', { query })).structuredContent);
        }
        expect((await call(c, 'open_nodes', { names: ['Bob', 'Zed'] })).structuredContent).toEqual((await call(ref, 'open_nodes', { names: ['Bob', 'Zed'] })).structuredContent);
      }
      const [ourTools, refTools] = [(await s1.listTools()).tools, (await ref.listTools()).tools];
      for (const t of refTools) {
        const mine = ourTools.find((x) => x.name === t.name);
        expect(mine, t.name).toBeDefined();
        expect(mine!.inputSchema, t.name).toEqual(t.inputSchema);
      }
    } finally {
      await ref.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every tool and serves each; what n1 remembers, n3 recalls', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    const names = (await s1.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(
      ['add_observations', 'annotate', 'cluster_status', 'create_entities', 'create_relations', 'delete_entities', 'delete_observations', 'delete_relations', 'list_agents', 'open_nodes', 'read_graph', 'recall', 'remember', 'search_nodes', 'submit_task', 'task_status'].sort(),
    );
    const { episode } = (await ok(s1, 'remember', { agent: 'planner', task: 'book the venue for the offsite', outcome: 'ok', note: 'chose the lighthouse', tags: ['offsite'] })) as { episode: { id: string } };
    await ok(s1, 'remember', { agent: 'planner', task: 'order catering', outcome: 'ok' });
    const hits = await waitFor('n3 to recall the episode remembered through n1', async () => {
      const r = (await ok(s3, 'recall', { agent: 'planner', text: 'lighthouse venue' })) as { hits: Array<{ episode: { id: string } }> };
      return { ok: r.hits.length > 0, value: r.hits, detail: JSON.stringify(r) };
    }, { timeoutMs: 10_000, intervalMs: 200 });
    expect(hits[0]!.episode.id).toBe(episode.id);
    const annotated = (await ok(s3, 'annotate', { agent: 'planner', id: episode.id, op: 'tag', tag: 'booked' })) as { episode: { tags: string[] } };
    expect(annotated.episode.tags).toEqual(['booked', 'offsite']);
    await ok(s3, 'annotate', { agent: 'planner', id: episode.id, op: 'set', field: 'budget', value: 1200 });
    await waitFor('n1 to recall by the field set through n3', async () => {
      const r = (await ok(s1, 'recall', { agent: 'planner', fields: { budget: 1200 }, tags: ['booked'], since: '1h' })) as { hits: unknown[] };
      return { ok: r.hits.length === 1, value: r, detail: JSON.stringify(r) };
    }, { timeoutMs: 10_000, intervalMs: 200 });
    // Embeddings: remembered through n1 with a vector, recalled by nearest vector through n3.
    const near = (await ok(s1, 'remember', { agent: 'vectors', task: 'pointing north', outcome: 'ok', embedding: [1, 0, 0.1] })) as { episode: { id: string } };
    await ok(s1, 'remember', { agent: 'vectors', task: 'pointing east', outcome: 'ok', embedding: [0, 1, 0] });
    await waitFor('n3 to recall by vector', async () => {
      const r = (await ok(s3, 'recall', { agent: 'vectors', vector: [0.9, 0.1, 0] })) as { hits: Array<{ episode: { id: string } }> };
      return { ok: r.hits.length === 2 && r.hits[0]!.episode.id === near.episode.id, value: r, detail: JSON.stringify(r.hits.map((h) => h.episode.id)) };
    }, { timeoutMs: 10_000, intervalMs: 200 });
    const agents = (await ok(s1, 'list_agents')) as { agents: Array<{ agent: string; episodes: number }> };
    expect(agents.agents).toContainEqual({ agent: 'planner', episodes: 2 });
    const { task } = (await ok(s1, 'submit_task', { type: 'wordcount', input: { text: 'a b a' }, wait_ms: 20_000 })) as { task: { id: string; status: string; result: unknown } };
    expect(task.status).toBe('done');
    expect(((await ok(s3, 'task_status', { id: task.id })) as { task: { result: unknown } }).task.result).toEqual(task.result);
    const status = (await ok(s3, 'cluster_status')) as { name: string; quorum: { voters: number; reachable: number; writable: boolean }; members: unknown[] };
    expect(status).toMatchObject({ name: 'n3', quorum: { voters: 3, reachable: 3, writable: true } });
    expect(status.members.length).toBe(3);

    // Resources: an agent's episodes and the graph.
    const listed = (await s1.listResources()).resources.map((r) => r.uri);
    expect(listed).toContain('memory://graph');
    expect(listed).toContain('memory://agent/planner');
    const agentRes = await s3.readResource({ uri: 'memory://agent/planner' });
    expect((JSON.parse((agentRes.contents[0] as { text: string }).text) as unknown[]).length).toBe(2);
    const graphRes = await s3.readResource({ uri: 'memory://graph' });
    expect(JSON.parse((graphRes.contents[0] as { text: string }).text)).toHaveProperty('entities');
  });

  it('concurrent add_observations to one entity through two nodes both survive', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    await ok(s1, 'create_entities', { entities: [{ name: 'Shared', entityType: 'doc', observations: ['v0'] }] });
    await waitFor('n3 to see the entity', async () => {
      const r = (await ok(s3, 'open_nodes', { names: ['Shared'] })) as { entities: unknown[] };
      return { ok: r.entities.length === 1, value: r };
    }, { timeoutMs: 10_000, intervalMs: 100 });
    await Promise.all([
      ok(s1, 'add_observations', { observations: [{ entityName: 'Shared', contents: ['from n1'] }] }),
      ok(s3, 'add_observations', { observations: [{ entityName: 'Shared', contents: ['from n3'] }] }),
    ]);
    for (const c of [s1, s3]) {
      await waitFor('both observations everywhere', async () => {
        const r = (await ok(c, 'open_nodes', { names: ['Shared'] })) as { entities: Array<{ observations: string[] }> };
        const obs = r.entities[0]?.observations ?? [];
        return { ok: obs.includes('from n1') && obs.includes('from n3') && obs.includes('v0'), value: obs, detail: JSON.stringify(obs) };
      }, { timeoutMs: 10_000, intervalMs: 200 });
    }
  });

  it('bad input is a tool error with a reason, and the servers and nodes keep serving', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    const expectError = async (name: string, args: Record<string, unknown>, pattern: RegExp) => {
      const r = await call(s1, name, args);
      expect(r.isError, `${name} ${JSON.stringify(args).slice(0, 200)}`).toBe(true);
      expect(r.content[0]?.text).toMatch(pattern);
    };
    await expectError('no_such_tool', {}, /not found/);
    await expectError('remember', { agent: 'a', task: 42, outcome: 'ok' }, /task/);
    await expectError('recall', { agent: 'a', limit: 'ten' }, /limit/);
    await expectError('recall', { text: 'x' }, /agent or all_agents/);
    await expectError('create_entities', { entities: 'Alice' }, /entities/);
    await expectError('annotate', { agent: 'planner', id: 'ffffffffffffffff', op: 'tag', tag: 'x' }, /Not found/);
    await expectError('annotate', { agent: 'planner', id: 'x', op: 'explode' }, /op/);
    // Consistency levels: the read levels on recall, the write levels on annotate; anything else is refused.
    await expectError('recall', { agent: 'planner', consistency: 'all' }, /consistency/);
    await expectError('recall', { agent: 'planner', consistency: 'quorum' }, /consistency/);
    await expectError('recall', { all_agents: true, consistency: 'majority' }, /Bad arguments: consistency needs one agent/);
    await expectError('annotate', { agent: 'planner', id: 'x', op: 'tag', tag: 't', consistency: 'local' }, /consistency/);
    await expectError('annotate', { agent: 'planner', id: 'x', op: 'tag', tag: 't', consistency: 7 }, /consistency/);
    await expectError('remember', { agent: 'bad agent id!', task: 't', outcome: 'ok' }, /Bad arguments: agent id/);
    await expectError('submit_task', { type: 'no-such-type', input: {}, wait_ms: 30_000 }, /Unknown agent type: task \S+ failed .*unknown agent type "no-such-type".*--agents MODULE/);
    await expectError('remember', { agent: 'a', task: 'x'.repeat(200_000), outcome: 'ok' }, /Bad arguments: the task text is [\d.]+ KiB, above the 64 KiB limit/);
    await expectError('search_nodes', { query: 'x'.repeat(100_000) }, /Bad arguments: query/);
    // Megabytes of arguments: refused with a reason (over the node's RPC frame or the per-call bounds), nothing written.
    const huge = Array.from({ length: 100 }, (_, i) => ({ name: `huge-${i}`, entityType: 't', observations: Array.from({ length: 40 }, () => 'y'.repeat(1000)) }));
    const hugeResult = await call(s1, 'create_entities', { entities: huge });
    expect(hugeResult.isError, hugeResult.content[0]?.text).toBe(true);
    expect(hugeResult.content[0]?.text).toMatch(/frame|bytes|at most|large/i);
    expect(((await ok(s1, 'open_nodes', { names: ['huge-0'] })) as { entities: unknown[] }).entities).toEqual([]);
    // Over the SDK's 10 MiB stdio bound: the SDK ends that session (bounded memory); the node and other sessions go on.
    const extra = await stdioClient(cluster.nodes[0]!.address, cluster.keyFile);
    const tooBig = Array.from({ length: 300 }, (_, i) => ({ name: `huge-${i}`, entityType: 't', observations: Array.from({ length: 40 }, () => 'y'.repeat(1000)) }));
    await expect(extra.callTool({ name: 'create_entities', arguments: { entities: tooBig } })).rejects.toThrow(/Connection closed/);
    expect(((await ok(s1, 'open_nodes', { names: ['huge-0'] })) as { entities: unknown[] }).entities).toEqual([]);
    for (const text of ['"', 'NEAR(a b', '*', 'a:b', '^x', 'AND OR', '(((']) {
      const r = await ok(s1, 'recall', { agent: 'planner', text });
      expect(r.hits).toBeDefined();
    }
    expect((await ok(s1, 'cluster_status')).name).toBe('n1');
    expect((await ok(s3, 'cluster_status')).name).toBe('n3');
  });

  it('serves Streamable HTTP with a bearer token, refusing requests without it', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    const { spawn } = await import('node:child_process');
    const token = 'a'.repeat(8) + 'test-token-0123456789';
    const proc = spawn(process.execPath, [TRI, 'mcp', '--at', cluster.nodes[1]!.address, '--key-file', cluster.keyFile, '--http', '18719', '--http-host', '127.0.19.21'], { env: { ...process.env, TRI_MCP_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('tri mcp --http to listen', async () => ({ ok: stderr.includes('/mcp'), value: stderr, detail: stderr }), { timeoutMs: 15_000, intervalMs: 100 });
      const url = new URL('http://127.0.19.21:18719/mcp');
      const bare = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
      expect(bare.status).toBe(401);
      const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
      expect(wrong.status).toBe(401);
      const c = new Client({ name: 'mcp-http-test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      try {
        expect((await c.listTools()).tools.length).toBe(16);
        const r = (await c.callTool({ name: 'cluster_status', arguments: {} })) as CallResult;
        expect(r.structuredContent?.name).toBe('n2');
        const hits = (await c.callTool({ name: 'recall', arguments: { all_agents: true, text: 'lighthouse' } })) as CallResult;
        expect((hits.structuredContent as { hits: unknown[] }).hits.length).toBe(1);
      } finally {
        await c.close();
      }
    } finally {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      // SIGTERM ends it (it closes its HTTP server and its node client).
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 5000))])).not.toBe('still running');
    }
  });

  it('without quorum a write is a tool error that counts the reachable voters', async (ctx) => {
    ctx.onTestFailed(() => void (failed = true));
    const planner = (await ok(s1, 'recall', { agent: 'planner', text: 'lighthouse', consistency: 'majority' })) as { hits: Array<{ episode: { id: string } }> };
    expect(planner.hits).toHaveLength(1);
    const id = planner.hits[0]!.episode.id;
    expect(await ok(s1, 'annotate', { agent: 'planner', id, op: 'tag', tag: 'all-three', consistency: 'all' })).toHaveProperty('episode');
    // One replica down: an edit at `all` is refused (nothing applied) while one at `majority` goes through.
    await cluster.nodes[2]!.kill();
    await waitFor('n1 to refuse an edit at consistency all', async () => {
      const res = await call(s1, 'annotate', { agent: 'planner', id, op: 'tag', tag: 'needs-all', consistency: 'all' });
      return { ok: res.isError === true && /No quorum/.test(res.content[0]?.text ?? ''), value: res, detail: JSON.stringify(res.content) };
    }, { timeoutMs: 30_000, intervalMs: 500 });
    // (Attempts before n1 saw n3 down may have been applied and timed out; one refused now applies nothing.)
    const refused = await call(s1, 'annotate', { agent: 'planner', id, op: 'tag', tag: 'refused-at-all', consistency: 'all' });
    expect(refused.content[0]?.text).toMatch(/No quorum, nothing was written/);
    const edited = (await ok(s1, 'annotate', { agent: 'planner', id, op: 'tag', tag: 'two-of-three', consistency: 'majority' })) as { episode: { tags: string[] } };
    expect(edited.episode.tags).toContain('two-of-three');
    expect(edited.episode.tags).not.toContain('refused-at-all');
    expect(edited.episode.tags).toContain('all-three');
    await cluster.nodes[1]!.kill();
    const r = await waitFor('n1 to refuse writes for lack of quorum', async () => {
      const res = await call(s1, 'remember', { agent: 'planner', task: 'during the outage', outcome: 'ok' });
      return { ok: res.isError === true && /No quorum/.test(res.content[0]?.text ?? ''), value: res, detail: JSON.stringify(res.content) };
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(r.content[0]?.text).toMatch(/No quorum, nothing was written: 1 of 3 voters are reachable from node 127\.0\.19\.20.*Retry once the cluster heals/);
    // Reads still work on the minority, at consistency local; at majority they are refused.
    expect((await ok(s1, 'recall', { agent: 'planner', text: 'lighthouse' })).hits).toHaveLength(1);
    expect((await ok(s1, 'recall', { agent: 'planner', text: 'lighthouse', consistency: 'local' })).hits).toHaveLength(1);
    const majority = await call(s1, 'recall', { agent: 'planner', text: 'lighthouse', consistency: 'majority' });
    expect(majority.isError, JSON.stringify(majority.content)).toBe(true);
    expect(majority.content[0]?.text).toMatch(/No quorum|Cannot reach|replica set/);
  });
});
