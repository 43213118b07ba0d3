// The command-line contract of DESIGN.md ("Command line") against the built CLI and, where a node
// is needed, two real node processes on 127.0.1.30-31 (127.0.1.38-39 are left empty on purpose):
// exit codes (0 ok, 1 error, 2 bad usage), error messages that say what was wrong and what to do,
// and the documented `--json` shapes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TriCluster, useStartedCluster, describeResult, loopbackRange, runTri, type CliResult, type MemberJson } from './lib/index.js';

const EMPTY = '127.0.1.39'; // nothing listens here
const NEVER_BIND = '127.0.1.38'; // a `node start` that wrongly got past its checks binds here, not on anyone's range
/** A 5 MiB note, above the 4 MiB limit (too long for an argument: read with --note-file). */
const BIG_NOTE = join(mkdtempSync(join(tmpdir(), 'tri-cli-note-')), 'note.txt');
writeFileSync(BIG_NOTE, 'n'.repeat(5 * 1024 * 1024));
const MEMBER_KEYS = ['address', 'freeSlots', 'incarnation', 'name', 'port', 'role', 'rpcPort', 'rttMs', 'slots', 'state', 'swimState'];
const EPISODE_KEYS = ['counters', 'createdAt', 'fields', 'id', 'node', 'notes', 'outcome', 'tags', 'task'];
const LIFECYCLE = ['DISCOVERING', 'JOINING', 'ACTIVE', 'SYNCING', 'DEGRADED', 'LEAVING', 'LEFT', 'FAILED'];

function expectUsage(r: CliResult, mentions: RegExp[]): void {
  expect(r.code, describeResult(r)).toBe(2);
  expect(r.stdout, describeResult(r)).toBe('');
  for (const m of mentions) expect(r.stderr, describeResult(r)).toMatch(m);
}

function expectEpisode(e: unknown): void {
  expect(Object.keys(e as object).sort()).toEqual(expect.arrayContaining(EPISODE_KEYS));
  const ep = e as Record<string, unknown>;
  expect(typeof ep.id).toBe('string');
  expect(typeof ep.task).toBe('string');
  expect(typeof ep.outcome).toBe('string');
  expect(typeof ep.notes).toBe('string');
  expect(Array.isArray(ep.tags)).toBe(true);
  expect(typeof ep.counters).toBe('object');
  expect(typeof ep.fields).toBe('object');
  expect(typeof ep.node).toBe('string');
  expect(typeof ep.createdAt).toBe('number');
}

describe('CLI usage errors (no node needed)', () => {
  // Each run is a fresh process; a few at a time keeps the 2 shared cores usable.
  const cases: Array<{ args: string[]; mentions: RegExp[] }> = [
    { args: ['frobnicate'], mentions: [/unknown command 'frobnicate'/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--port', 'abc'], mentions: [/--port/, /"abc" is not a port/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--rpc-port', '70000'], mentions: [/--rpc-port/, /70000/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--role', 'boss'], mentions: [/--role/, /"boss" is not one of coordinator, worker, hybrid/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--profile', 'fast'], mentions: [/--profile/, /lan, local, wan/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--slots', '-1'], mentions: [/--slots/, /0 to 4096/] },
    { args: ['node', 'start', '--bind', NEVER_BIND, '--insecure'], mentions: [/required option '--name/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--frob'], mentions: [/unknown option '--frob'/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--key-file', '/nonexistent'], mentions: [/either --key-file or --insecure/] },
    { args: ['nodes', '--key-file', '/nonexistent'], mentions: [/required option '--at/] },
    { args: ['nodes', '--at', `${EMPTY}:99999`, '--insecure'], mentions: [/--at/, /"99999" is not a port/] },
    { args: ['nodes', '--at', EMPTY, '--insecure', '--timeout', '0'], mentions: [/--timeout/, /whole number/] },
    { args: ['nodes', '--at', EMPTY, '--insecure', '--key-file', '/nonexistent'], mentions: [/either --key-file or --insecure/] },
    { args: ['nodes', 'bogus', '--at', EMPTY, '--insecure'], mentions: [/unknown nodes subcommand "bogus"/] },
    { args: ['nodes', '--at', EMPTY], mentions: [/no cluster key/, /--key-file/, /--insecure/] },
    { args: ['memory', 'add', '--at', EMPTY, '--insecure', '--agent', 'a', '--outcome', 'ok'], mentions: [/required option '--task/] },
    { args: ['memory', 'show', '--at', EMPTY, '--insecure'], mentions: [/required option '--agent/] },
    // Paging, limits and retention flags (issue 14): refused before anything is sent.
    { args: ['memory', 'show', '--at', EMPTY, '--insecure', '--agent', 'a', '--limit', '0'], mentions: [/--limit/, /1 to 1000/] },
    { args: ['memory', 'show', '--at', EMPTY, '--insecure', '--agent', 'a', '--since', 'yesterday-ish'], mentions: [/--since/, /is not a time/] },
    { args: ['task', 'list', '--at', EMPTY, '--insecure', '--status', 'sleeping'], mentions: [/--status/, /queued, running, done, failed/] },
    { args: ['task', 'submit', '--at', EMPTY, '--insecure', '--type', 'echo'], mentions: [/either --input JSON or --input-file/] },
    { args: ['memory', 'add', '--at', EMPTY, '--insecure', '--agent', 'a', '--task', 't', '--outcome', 'o', '--note', 'x', '--note-file', '-'], mentions: [/either --note or --note-file/] },
    { args: ['memory', 'add', '--at', EMPTY, '--insecure', '--agent', 'a', '--task', 't', '--outcome', 'o', '--note-file', BIG_NOTE], mentions: [/the note is 5 MiB, above the 4 MiB limit/] },
    { args: ['memory', 'policy', '--at', EMPTY, '--insecure', '--agent', 'a', '--max-age', 'forever'], mentions: [/--max-age/, /is not a duration/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--memory-budget', 'lots'], mentions: [/--memory-budget/, /is not a size/] },
    { args: ['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--insecure', '--task-retention', '0s'], mentions: [/--task-retention/, /not a positive duration/] },
  ];

  it('bad flags exit 2 with a message naming the problem, print nothing on stdout, and start nothing', async () => {
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map((c) => runTri(c.args, { timeoutMs: 20_000 })));
      results.forEach((r, j) => expectUsage(r, batch[j]!.mentions));
    }
  });

  it('`node start` without --key-file or --insecure refuses (exit 2) and says how to make a key', async () => {
    const r = await runTri(['node', 'start', '--name', 'x', '--bind', NEVER_BIND], { timeoutMs: 20_000 });
    expectUsage(r, [/no cluster key/, /tri keys generate --out cluster\.key/, /--key-file/, /--insecure/]);
  });

  it('`node start --key-file` of a missing file is bad input (exit 2) that says how to create it', async () => {
    const r = await runTri(['node', 'start', '--name', 'x', '--bind', NEVER_BIND, '--key-file', '/nonexistent/cluster.key'], { timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/cluster\.key/);
    expect(r.stderr).toMatch(/tri keys generate/);
  });

  it('`keys generate` prints one base64 32-byte key; help is not an error', async () => {
    const r = await runTri(['keys', 'generate']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(Buffer.from(r.stdout.trim(), 'base64')).toHaveLength(32);
    const h = await runTri(['--help']);
    expect(h.code, describeResult(h)).toBe(0);
    expect(h.stdout).toMatch(/node/);
  });
});

describe('CLI against real nodes (127.0.1.30-31)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(30, 2), profile: 'lan' }), (cluster) => (c = cluster));

  it('`tri nodes --json` (and its alias `nodes list`) prints the documented member array', async () => {
    const [plain, alias, human] = await Promise.all([
      c.cli(['nodes', '--at', '127.0.1.30', '--json']),
      c.cli(['nodes', 'list', '--at', '127.0.1.31:10000', '--json']),
      c.cli(['nodes', '--at', '127.0.1.30']),
    ]);
    for (const r of [plain, alias, human]) expect(r.code, describeResult(r)).toBe(0);
    for (const r of [plain, alias]) {
      const members = JSON.parse(r.stdout) as MemberJson[];
      expect(Array.isArray(members)).toBe(true);
      expect(members.map((m) => m.name)).toEqual(['n1', 'n2']);
      for (const m of members) {
        expect(Object.keys(m)).toEqual(expect.arrayContaining(MEMBER_KEYS));
        expect(typeof m.address).toBe('string');
        expect(m.port).toBe(9999);
        expect(m.rpcPort).toBe(10000);
        expect(['coordinator', 'worker', 'hybrid']).toContain(m.role);
        expect(LIFECYCLE).toContain(m.state);
        expect(['alive', 'suspect', 'dead', 'left']).toContain(m.swimState);
        expect(Number.isInteger(m.incarnation)).toBe(true);
        expect(m.rttMs === null || typeof m.rttMs === 'number').toBe(true);
        expect(m.slots).toBe(16);
        expect(m.freeSlots).toBeLessThanOrEqual(16);
      }
    }
    expect(human.stdout).toMatch(/^NAME\s+ADDRESS/);
    expect(human.stdout).toMatch(/n2\s+127\.0\.1\.31:9999/);
  });

  it('`memory add/show/digest --json` print an episode, an episode array and {digest, documents}', async () => {
    const add = await c.cli(['memory', 'add', '--at', '127.0.1.30', '--agent', 'cli-agent', '--task', 'summarize', '--outcome', 'ok', '--note', 'first note', '--tag', 'x', '--tag', 'y', '--json']);
    expect(add.code, describeResult(add)).toBe(0);
    const ep = JSON.parse(add.stdout) as Record<string, unknown>;
    expectEpisode(ep);
    expect(ep).toMatchObject({ task: 'summarize', outcome: 'ok', notes: 'first note', tags: ['x', 'y'], node: 'n1' });

    const [show, digest, human] = await Promise.all([
      c.cli(['memory', 'show', '--at', '127.0.1.30', '--agent', 'cli-agent', '--json']),
      c.cli(['memory', 'digest', '--at', '127.0.1.30', '--json']),
      c.cli(['memory', 'add', '--at', '127.0.1.31', '--agent', 'cli-agent', '--task', 'second', '--outcome', 'ok']),
    ]);
    for (const r of [show, digest, human]) expect(r.code, describeResult(r)).toBe(0);
    const eps = JSON.parse(show.stdout) as unknown[];
    expect(Array.isArray(eps)).toBe(true);
    eps.forEach(expectEpisode);
    expect(eps.map((e) => (e as { id: string }).id)).toContain(ep.id);
    const d = JSON.parse(digest.stdout) as Record<string, unknown>;
    expect(Object.keys(d).sort()).toEqual(['digest', 'documents']);
    expect(typeof d.digest).toBe('string');
    expect((d.digest as string).length).toBeGreaterThan(0);
    expect(d.documents).toBeGreaterThanOrEqual(1);
    expect(human.stdout).toMatch(/recorded episode \S+ for agent cli-agent/);
  });

  it('`memory add` without --task is a usage error (exit 2) and writes nothing', async () => {
    const before = await c.cli(['memory', 'show', '--at', '127.0.1.30', '--agent', 'no-task-agent', '--json']);
    const r = await c.cli(['memory', 'add', '--at', '127.0.1.30', '--agent', 'no-task-agent', '--outcome', 'ok']);
    expectUsage(r, [/required option '--task/]);
    const after = await c.cli(['memory', 'show', '--at', '127.0.1.30', '--agent', 'no-task-agent', '--json']);
    expect(before.stdout.trim()).toBe('[]');
    expect(after.stdout.trim()).toBe('[]');
  });

  it('`memory show` of an unknown agent prints [] and exits 0', async () => {
    const r = await c.cli(['memory', 'show', '--at', '127.0.1.31', '--agent', 'nobody-ever', '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const human = await c.cli(['memory', 'show', '--at', '127.0.1.31', '--agent', 'nobody-ever']);
    expect(human.code, describeResult(human)).toBe(0);
  });

  it('`tri nodes` where nothing listens exits 1, quickly, saying what to check', async () => {
    const [noHost, wrongPort] = await Promise.all([
      c.cli(['nodes', '--at', EMPTY, '--json']),
      c.cli(['nodes', '--at', '127.0.1.30:10001', '--json']),
    ]);
    for (const [r, at] of [[noHost, `${EMPTY}:10000`], [wrongPort, '127.0.1.30:10001']] as const) {
      expect(r.code, describeResult(r)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(at);
      expect(r.stderr, describeResult(r)).toMatch(/Is it running/);
      expect(r.stderr, describeResult(r)).toMatch(/RPC port/);
      expect(r.ms, describeResult(r)).toBeLessThan(10_000);
    }
  });

  it('a client with the wrong cluster key is refused (exit 1) with a message about the key', async () => {
    const gen = await runTri(['keys', 'generate']);
    const other = `${c.dir}/other.key`;
    writeFileSync(other, gen.stdout, { mode: 0o600 });
    const r = await runTri(['nodes', '--at', '127.0.1.30', '--key-file', other, '--json']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr, describeResult(r)).toMatch(/same cluster key/);
  });
});
