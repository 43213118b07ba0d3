// `tri memory recall` and the episode edits on real node processes (127.0.19.10-12): an episode
// added through n1 and edited through n2 (note, tag, untag, set, incr) is recalled through n3
// by text and by every filter; n3 killed with SIGKILL and restarted on its data directory still
// answers, and follows a write made while it was down.
import { afterEach, expect, it } from 'vitest';
import { TriCluster, describeResult, waitFor, type CliResult } from './lib/index.js';

interface Hit {
  agent: string;
  score: number;
  episode: { id: string; task: string; notes: string; tags: string[]; counters: Record<string, number>; fields: Record<string, unknown> };
}

let cluster: TriCluster | undefined;
afterEach(async (ctx) => {
  const c = cluster;
  cluster = undefined;
  await c?.cleanup(ctx.task.result?.state === 'fail');
});

const ok = (r: CliResult): string => {
  expect(r.code, describeResult(r)).toBe(0);
  return r.stdout;
};

it('recalls through any node what was written and edited through others, across a SIGKILL restart', { timeout: 240_000 }, async () => {
  const c = (cluster = await TriCluster.create({ addresses: ['127.0.19.10', '127.0.19.11', '127.0.19.12'], profile: 'lan' }));
  await c.startAll(40_000);
  const [n1, n2, n3] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
  const add = async (task: string, note: string, tags: string[]) => JSON.parse(ok(await c.cli(['memory', 'add', '--at', n1.address, '--agent', 'ops', '--task', task, '--outcome', 'ok', '--note', note, ...tags.flatMap((t) => ['--tag', t]), '--json']))) as { id: string };
  const db = await add('migrate the orders database', 'schema v7', ['prod']);
  const other = await add('rotate certificates', 'nothing about databases', ['prod']);
  await add('write weekly report', 'quiet week', ['office']);
  await c.cli(['memory', 'add', '--at', n1.address, '--agent', 'other-agent', '--task', 'database backup', '--outcome', 'ok', '--json']).then(ok);

  // Edits through n2.
  const edit = (...args: string[]) => c.cli(['memory', ...args, '--at', n2.address, '--agent', 'ops', '--json']).then(ok);
  await edit('note', db.id, ' then vacuumed the database');
  await edit('tag', db.id, 'reviewed');
  await edit('tag', other.id, 'reviewed');
  await edit('untag', other.id, 'reviewed');
  await edit('set', db.id, 'grade', 'A');
  const last = JSON.parse(await edit('incr', db.id, 'uses', '--by', '3')) as Hit['episode'];
  expect(last.counters).toEqual({ uses: 3 });

  const recall = async (...args: string[]) => JSON.parse(ok(await c.cli(['memory', 'recall', '--at', n3.address, ...args, '--json']))) as Hit[];
  await waitFor('n3 to recall the edited episode', async () => {
    const hits = await recall('--agent', 'ops', '--text', 'vacuumed', '--tag', 'reviewed');
    return { ok: hits.length === 1 && hits[0]!.episode.id === db.id, value: hits, detail: JSON.stringify(hits) };
  }, { timeoutMs: 10_000, intervalMs: 200 });
  const ranked = await recall('--agent', 'ops', '--text', 'database');
  expect(ranked.map((h) => h.episode.id)).toEqual([db.id, other.id]);
  expect((await recall('--agent', 'ops', '--tag', 'reviewed')).map((h) => h.episode.id)).toEqual([db.id]);
  expect((await recall('--agent', 'ops', '--field', 'grade=A')).map((h) => h.episode.id)).toEqual([db.id]);
  expect((await recall('--agent', 'ops', '--outcome', 'ok', '--limit', '2')).length).toBe(2);
  expect(await recall('--agent', 'ops', '--since', '2h', '--until', '1h')).toEqual([]);
  expect((await recall('--all-agents', '--text', 'database')).map((h) => h.agent).sort()).toEqual(['ops', 'ops', 'other-agent']);
  // An embedding set through n2, searched by vector through n3.
  await edit('set', other.id, 'embedding', '[0, 1, 0]');
  await edit('set', db.id, 'embedding', '[1, 0, 0]');
  await waitFor('n3 to recall by vector', async () => {
    const hits = await recall('--agent', 'ops', '--vector', '[0.1, 0.9, 0]');
    return { ok: hits.length === 2 && hits[0]!.episode.id === other.id, value: hits, detail: JSON.stringify(hits.map((h) => h.episode.id)) };
  }, { timeoutMs: 10_000, intervalMs: 200 });
  const badVector = await c.cli(['memory', 'recall', '--at', n3.address, '--agent', 'ops', '--vector', '[1, "x"]']);
  expect(badVector.code, describeResult(badVector)).toBe(2);
  // FTS syntax is text, never an error.
  expect(await recall('--agent', 'ops', '--text', '"NEAR( * -x:')).toEqual([]);
  // Bad usage: exit 2 and a reason.
  const both = await c.cli(['memory', 'recall', '--at', n3.address, '--agent', 'ops', '--all-agents']);
  expect(both.code, describeResult(both)).toBe(2);
  expect(both.stderr).toMatch(/either --agent ID or --all-agents/);
  const missing = await c.cli(['memory', 'tag', 'ffffffffffffffff', 'x', '--at', n2.address, '--agent', 'ops']);
  expect(missing.code, describeResult(missing)).toBe(1);
  expect(missing.stderr).toMatch(/does not exist/);
  const human = ok(await c.cli(['memory', 'recall', '--at', n3.address, '--agent', 'ops', '--text', 'database']));
  expect(human).toMatch(/SCORE\s+AGENT\s+ID/);

  // n3 crashes; a write lands while it is down; after the restart it recalls both.
  n3.signal('SIGKILL');
  await n3.waitExit(10_000);
  const late = await add('late database work', 'while n3 was down', []);
  await c.restart('n3', 40_000);
  await waitFor('n3 to recall the write made while it was down', async () => {
    const hits = await recall('--agent', 'ops', '--text', 'database');
    return { ok: hits.some((h) => h.episode.id === late.id) && hits.some((h) => h.episode.id === db.id), value: hits, detail: JSON.stringify(hits.map((h) => h.episode.id)) };
  }, { timeoutMs: 20_000, intervalMs: 300 });
});
