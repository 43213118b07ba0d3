// Paged reads over the real RPC path (TCP, SQLite): an agent with 20,000 episodes (some with
// 64 KiB notes, one with a 4 MiB note), a task table of 10,000 rows: every page reads, pages
// never overlap or skip, nothing is refused for size, and a reply too large even for parts is an
// OversizeError that names the cause (never "cannot reach the node").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../src/node/start-node.js';
import { silentLogger } from '../../src/node/logger.js';
import { NodeClient } from '../../src/client/node-client.js';
import type { ClusterNode } from '../../src/node/cluster-node.js';
import { OversizeError, UsageError } from '../../src/errors.js';
import { MAX_NOTE_BYTES } from '../../src/limits.js';
import { runTri } from './lib/run-tri.js';
import { isEpisode } from '../../src/client/reply-shape.js';

const HOST = '127.0.14.1';
const AGENT = 'pager';
const EPISODES = 20_000;
const BIG_NOTES = 100;
const TASKS = 10_000;

describe('paged reads through the RPC port', () => {
  let node: ClusterNode;
  let client: NodeClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tri-paging-'));
    node = await startNode({ name: 'p1', bind: HOST, insecure: true, httpPort: 0, dataDir: dir, profile: 'local', slots: 0, logger: silentLogger() });
    const big = 'x'.repeat(64 * 1024);
    // One quorum write per 2,000 episodes (a single node: each resolves once stored).
    for (let start = 0; start < EPISODES; start += 2000) {
      await node.memoryService.write(AGENT, (d) => {
        for (let i = start; i < start + 2000; i++) {
          d.addEpisode({ task: `t${i}`, outcome: i % 2 === 0 ? 'ok' : 'failed', note: i < BIG_NOTES ? big : `n${i}`, tags: i % 10 === 0 ? ['tenth'] : [] }, { now: 1_000_000 + i });
        }
      });
    }
    for (let start = 0; start < TASKS; start += 2000) {
      await node.memoryService.writeQuorum(() =>
        node.tasks.table.transact(() => {
          for (let i = start; i < start + 2000; i++) node.tasks.table.submit({ id: `task-${i}`, type: i % 2 === 0 ? 'echo' : 'sleep', input: { i } }, 2_000_000 + i);
        }),
      );
    }
    client = await NodeClient.connect({ at: `${HOST}:10000`, insecure: true, timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every page of 20,000 episodes reads, newest first, without overlap or gaps', async () => {
    const seen: string[] = [];
    let pages = 0;
    let lastAt = Infinity;
    for await (const items of client.memoryPages(AGENT, { limit: 1000 })) {
      pages++;
      for (const e of items) {
        expect(e.createdAt).toBeLessThanOrEqual(lastAt);
        lastAt = e.createdAt;
        seen.push(e.task);
      }
    }
    expect(seen).toHaveLength(EPISODES);
    expect(new Set(seen).size).toBe(EPISODES);
    expect(seen[0]).toBe(`t${EPISODES - 1}`);
    expect(pages).toBeGreaterThanOrEqual(EPISODES / 1000);
  }, 60_000);

  it('filters and the time window apply before the limit; the cursor continues the filtered list', async () => {
    const first = await client.memoryPage(AGENT, { limit: 7, tag: 'tenth', outcome: 'ok' });
    expect(first.items.map((e) => e.task)).toEqual([19990, 19980, 19970, 19960, 19950, 19940, 19930].map((i) => `t${i}`));
    const second = await client.memoryPage(AGENT, { limit: 2, tag: 'tenth', after: first.next });
    expect(second.items.map((e) => e.task)).toEqual(['t19920', 't19910']);
    const window = await client.memoryPage(AGENT, { limit: 1000, since: 1_000_000 + 100, until: 1_000_000 + 110 });
    expect(window.items.map((e) => e.task)).toEqual([109, 108, 107, 106, 105, 104, 103, 102, 101, 100].map((i) => `t${i}`));
    expect(window.next).toBeUndefined();
  });

  it('pages of 64 KiB notes read (a page of 1000 of them stops at the page byte budget and continues)', async () => {
    const old = await client.memoryPage(AGENT, { limit: 1000, until: 1_000_000 + BIG_NOTES });
    // 100 notes of 64 KiB are more than a page's 4 MiB budget: the page stops early and says where to go on.
    expect(old.items.length).toBeGreaterThan(10);
    expect(old.items.length).toBeLessThan(BIG_NOTES);
    expect(old.next).toBeDefined();
    const rest = [];
    for await (const items of client.memoryPages(AGENT, { limit: 1000, until: 1_000_000 + BIG_NOTES, after: old.next })) rest.push(...items);
    const all = [...old.items, ...rest];
    expect(all).toHaveLength(BIG_NOTES);
    for (const e of all) expect(e.notes).toHaveLength(64 * 1024);
  });

  it('a 4 MiB note travels in parts both ways; one byte more is refused with the limit named', async () => {
    const note = 'y'.repeat(MAX_NOTE_BYTES);
    const ep = await client.addEpisode({ agent: 'big-note', task: 'huge', outcome: 'ok', note });
    expect(ep.notes).toHaveLength(MAX_NOTE_BYTES);
    const page = await client.memoryPage('big-note', { limit: 5 });
    expect(page.items[0]!.notes).toBe(note);
    const refused = await client.addEpisode({ agent: 'big-note', task: 'huger', outcome: 'ok', note: note + 'y' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect(String((refused as Error).message)).toMatch(/4 MiB limit/);
    expect((await client.memoryPage('big-note')).items).toHaveLength(1);
  }, 60_000);

  it('a request above what an rpc message may carry is refused locally with OversizeError, naming the cause', async () => {
    const r = await client.call('memory.add', { agent: 'x', task: 't', outcome: 'o', note: 'z'.repeat(70 * 1024 * 1024) }, isEpisode).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(OversizeError);
    expect(String((r as Error).message)).toMatch(/above the 64 MiB an rpc message may carry/);
  }, 60_000);

  it('a task table of 10,000 rows pages through, filtered by status and type; tri task get reads one', async () => {
    const ids: string[] = [];
    for await (const items of client.taskPages({ limit: 500, type: 'echo' })) ids.push(...items.map((t) => t.id));
    expect(ids).toHaveLength(TASKS / 2);
    expect(ids[0]).toBe(`task-${TASKS - 2}`);
    expect((await client.taskPage({ status: 'done' })).items).toEqual([]);
    const t = await client.getTask('task-17');
    expect(t.input).toEqual({ i: 17 });
  }, 60_000);

  it('the CLI prints one page and says how to get the next', async () => {
    const r = await runTri(['memory', 'show', '--at', HOST, '--insecure', '--agent', AGENT, '--limit', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ task: string }>).map((e) => e.task)).toEqual(['t19999', 't19998', 't19997']);
    const hint = /more: tri memory show --agent pager --limit 3 --after (\S+)/.exec(r.stderr);
    expect(hint, r.stderr).not.toBeNull();
    const next = await runTri(['memory', 'show', '--at', HOST, '--insecure', '--agent', AGENT, '--limit', '2', '--after', hint![1]!, '--json']);
    expect((JSON.parse(next.stdout) as Array<{ task: string }>).map((e) => e.task)).toEqual(['t19996', 't19995']);
    const tasks = await runTri(['task', 'list', '--at', HOST, '--insecure', '--limit', '2', '--status', 'queued']);
    expect(tasks.code, tasks.stderr).toBe(0);
    expect(tasks.stdout).toMatch(/task-9999/);
    expect(tasks.stdout).toMatch(/more: tri task list --limit 2 --after /);
    const get = await runTri(['task', 'get', 'task-3', '--at', HOST, '--insecure', '--json']);
    expect(get.code, get.stderr).toBe(0);
    expect((JSON.parse(get.stdout) as { input: unknown }).input).toEqual({ i: 3 });
  }, 60_000);
});
