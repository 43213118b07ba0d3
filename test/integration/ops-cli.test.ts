// Issue 15, the CLI scripts and operators rely on: every bad input exits 2 (alphabets in --help),
// `tri --version`, bare `tri`, key files that others can read, a failed start that leaves nothing
// on disk, `task submit --wait` that exits 4 when the wait ends first, terminal escapes from stored
// text never reaching the terminal, private data directories, SIGHUP as a graceful leave, and the
// startup line. Real node processes on 127.0.15.101-102 (127.0.15.250 is never bound: a start that
// wrongly passes its checks binds there; 127.0.15.251 has nothing listening).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, REPO_ROOT, TriCluster, describeResult, loopbackRange, runTri, useStartedCluster, waitFor, type CliResult } from './lib/index.js';

const NEVER_BIND = '127.0.15.250';
const EMPTY = '127.0.15.251';
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function expectUsage(r: CliResult, mentions: RegExp[]): void {
  expect(r.code, describeResult(r)).toBe(2);
  expect(r.stdout, describeResult(r)).toBe('');
  for (const m of mentions) expect(r.stderr, describeResult(r)).toMatch(m);
}

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('bad input exits 2 (no node needed)', () => {
  let dir: string;
  let goodKey: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tri-ops-'));
    goodKey = join(dir, 'good.key');
    const r = await runTri(['keys', 'generate', '--out', goodKey]);
    expect(r.code, describeResult(r)).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`tri` alone prints the help on stderr and exits 2; `tri --version` prints the package version', async () => {
    const [bare, version] = await Promise.all([runTri([]), runTri(['--version'])]);
    expect(bare.code, describeResult(bare)).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/Usage: tri/);
    expect(bare.stderr).toMatch(/node\s+run a node/);
    expect(version.code, describeResult(version)).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
  });

  it('`keys generate --out` writes a key readable by its owner only and never overwrites one', async () => {
    expect(modeOf(goodKey)).toBe(0o600);
    const before = readFileSync(goodKey, 'utf8');
    const again = await runTri(['keys', 'generate', '--out', goodKey]);
    expectUsage(again, [/already exists/]);
    expect(readFileSync(goodKey, 'utf8')).toBe(before);
  });

  it('bad names, ids, texts, key files and data paths exit 2 and name the fix', async () => {
    const garbage = join(dir, 'garbage.key');
    writeFileSync(garbage, 'not a key\n', { mode: 0o600 });
    const open = join(dir, 'open.key');
    writeFileSync(open, readFileSync(goodKey));
    chmodSync(open, 0o644);
    const client = ['--at', EMPTY, '--key-file', goodKey];
    const start = ['node', 'start', '--bind', NEVER_BIND, '--http-port', '0'];
    const cases: Array<{ args: string[]; mentions: RegExp[] }> = [
      { args: ['memory', 'add', ...client, '--agent', 'bad/id', '--task', 't', '--outcome', 'ok'], mentions: [/"bad\/id" is not an agent id/, /letters, digits/] },
      { args: ['memory', 'show', ...client, '--agent', 'white space'], mentions: [/not an agent id/] },
      { args: ['memory', 'add', ...client, '--agent', 'a', '--task', 't', '--outcome', 'ok', '--note', ''], mentions: [/--note/, /empty/] },
      { args: ['memory', 'add', ...client, '--agent', 'a', '--task', '', '--outcome', 'ok'], mentions: [/--task/, /empty/] },
      { args: ['task', 'submit', ...client, '--type', 'echo', '--input', '{}', '--agent', 'a b'], mentions: [/not an agent id/] },
      { args: ['task', 'submit', ...client, '--type', 'echo', '--input', '{}', '--wait-timeout', '0'], mentions: [/--wait-timeout/] },
      { args: [...start, '--name', 'bad name', '--insecure'], mentions: [/"bad name" is not a node name/, /letters, digits/] },
      { args: ['nodes', '--at', EMPTY, '--key-file', garbage], mentions: [/garbage\.key does not hold a valid key/] },
      { args: ['nodes', '--at', EMPTY, '--key-file', join(dir, 'missing.key')], mentions: [/missing\.key/, /tri keys generate --out/] },
      { args: ['nodes', '--at', EMPTY, '--key-file', open], mentions: [/open\.key is readable by every user/, /chmod 600 .*open\.key/, /--allow-open-key-file/] },
      { args: [...start, '--name', 'x', '--key-file', open], mentions: [/chmod 600/] },
      { args: [...start, '--name', 'x', '--key-file', garbage], mentions: [/does not hold a valid key/] },
      { args: [...start, '--name', 'x', '--insecure', '--data', join(dir, 'no-such-parent', 'n1')], mentions: [/parent directory .*no-such-parent does not exist/] },
      { args: ['cluster-bench', '--only', ''], mentions: [/--only needs at least one scenario/] },
    ];
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map((c) => runTri(c.args, { timeoutMs: 20_000 })));
      results.forEach((r, j) => expectUsage(r, batch[j]!.mentions));
    }
    expect(existsSync(join(dir, 'no-such-parent'))).toBe(false);
  });

  it('--allow-open-key-file uses an open key file with a warning', async () => {
    const open = join(dir, 'open2.key');
    writeFileSync(open, readFileSync(goodKey));
    chmodSync(open, 0o640);
    const r = await runTri(['nodes', '--at', EMPTY, '--key-file', open, '--allow-open-key-file', '--timeout', '2000']);
    expect(r.stderr, describeResult(r)).toMatch(/warning: key file .*open2\.key is readable by its group/);
    expect(r.stderr, describeResult(r)).toMatch(/cannot reach the node/); // got past the key check to the network
    expect(r.code, describeResult(r)).toBe(1);
  });

  it('--help lists the allowed alphabets', async () => {
    const [add, start] = await Promise.all([runTri(['memory', 'add', '--help']), runTri(['node', 'start', '--help'])]);
    expect(add.stdout).toMatch(/--agent <id>\s+agent id \(1-128 letters, digits/);
    expect(start.stdout).toMatch(/--name <name>\s+unique node name \(1-64 letters, digits/);
  });
});

describe('CLI against real nodes (127.0.15.101-102)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(101, 2, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('a data directory and its files are readable by their owner only', () => {
    for (const n of ['n1', 'n2']) {
      const d = join(c.dir, n);
      expect(modeOf(d).toString(8), d).toBe('700');
      for (const f of ['node.db', 'node.db-wal']) if (existsSync(join(d, f))) expect(modeOf(join(d, f)).toString(8), `${d}/${f}`).toBe('600');
    }
  });

  it('the first log line of a node names it, its addresses, profile, data directory and key fingerprint', async () => {
    const keys = await c.cli(['keys', 'list', '--at', '127.0.15.101', '--json']);
    const fingerprint = (JSON.parse(keys.stdout) as { results: Array<{ keys?: { primary: string } }> }).results[0]!.keys!.primary;
    const log = readFileSync(c.node('n1').logFile, 'utf8');
    const line = log.split('\n').find((l) => l.includes('"msg":"node n1 started'));
    expect(line, log).toBeDefined();
    const rec = JSON.parse(line!) as Record<string, unknown>;
    expect(rec).toMatchObject({ gossip: '127.0.15.101:9999', rpc: '127.0.15.101:10000', http: '127.0.15.101:10080', profile: 'lan', dataDir: join(c.dir, 'n1'), security: `key ${fingerprint}` });
  });

  it('bad input against a live node exits 2 and writes nothing', async () => {
    const before = await c.cli(['memory', 'digest', '--at', '127.0.15.101', '--json']);
    const r = await c.cli(['memory', 'add', '--at', '127.0.15.101', '--agent', 'ok-agent', '--task', 't', '--outcome', 'ok', '--note', '']);
    expectUsage(r, [/empty/]);
    const after = await c.cli(['memory', 'digest', '--at', '127.0.15.101', '--json']);
    expect(after.stdout).toBe(before.stdout);
  });

  it('`task submit --wait` exits 4 when --wait-timeout ends before the task, and prints where it stands', async () => {
    const r = await c.cli(['task', 'submit', '--at', '127.0.15.101', '--type', 'sleep', '--input', '{"ms":4000}', '--wait', '--wait-timeout', '300', '--json']);
    expect(r.code, describeResult(r)).toBe(4);
    const t = JSON.parse(r.stdout) as { id: string; status: string };
    expect(['queued', 'running']).toContain(t.status);
    expect(r.stderr).toMatch(/still (queued|running) after --wait-timeout 300 ms/);
    const done = await c.cli(['task', 'submit', '--at', '127.0.15.101', '--type', 'echo', '--input', '{"a":1}', '--wait', '--wait-timeout', '20000', '--json']);
    expect(done.code, describeResult(done)).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'done', result: { a: 1 } });
  });

  it('an agent type no live member runs is refused at submit (exit 2), leaving no task and no episode', async () => {
    const before = await c.cli(['task', 'list', '--at', '127.0.15.101', '--json']);
    const r = await c.cli(['task', 'submit', '--at', '127.0.15.102', '--type', 'no-such-type', '--input', '{}', '--wait']);
    expectUsage(r, [/no live member runs agent type "no-such-type"/, /known types: .*echo/]);
    const after = await c.cli(['task', 'list', '--at', '127.0.15.101', '--json']);
    expect((JSON.parse(after.stdout) as unknown[]).length).toBe((JSON.parse(before.stdout) as unknown[]).length);
    const mem = await c.cli(['memory', 'show', '--at', '127.0.15.101', '--agent', 'no-such-type', '--json']);
    expect(JSON.parse(mem.stdout)).toEqual([]);
  });

  it('no terminal escape from stored text reaches the terminal; one row per record; separators quoted', async () => {
    const hostile = 'ok\u001b]52;c;cHduZWQ=\u0007\u001b[2J\nFAKE-ROW  x\u009b31m\u202eevil';
    const add = await c.cli(['memory', 'add', '--at', '127.0.15.101', '--agent', 'hostile', '--task', hostile, '--outcome', 'has  two spaces', '--note', hostile]);
    expect(add.code, describeResult(add)).toBe(0);
    const sub = await c.cli(['task', 'submit', '--at', '127.0.15.101', '--type', 'echo', '--input', JSON.stringify({ s: '\u009b31m\u202e!' }), '--agent', 'hostile-task', '--wait']);
    expect(sub.code, describeResult(sub)).toBe(0);
    const [show, list] = await Promise.all([c.cli(['memory', 'show', '--at', '127.0.15.102', '--agent', 'hostile']), c.cli(['task', 'list', '--at', '127.0.15.101'])]);
    for (const r of [show, list, sub]) {
      expect(r.code, describeResult(r)).toBe(0);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    }
    const rows = show.stdout.trimEnd().split('\n');
    expect(rows, show.stdout).toHaveLength(2); // the header and one episode
    expect(rows[0]).toMatch(/^ID\s+TIME\s+TASK\s+OUTCOME/);
    expect(rows[1]).toMatch(/^\S+\s+20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\s/);
    expect(rows[1]).toContain('\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\nFAKE-ROW');
    expect(rows[1]).toContain('"has  two spaces"');
    expect(rows[1]).toContain('\\x9b31m\\u202eevil');
    // JSON.stringify leaves C1 controls and bidi overrides raw: the table escapes them.
    expect(list.stdout).toContain('{"s":"\\x9b31m\\u202e!"}');
    expect(sub.stdout).toContain('{"s":"\\x9b31m\\u202e!"}');
  });

  it('a start that fails (ports in use) prints one line, no stack, and leaves no data directory', async () => {
    const fresh = join(c.dir, 'never-created');
    const r = await runTri(['node', 'start', '--name', 'intruder', '--bind', '127.0.15.101', '--key-file', c.keyFile, '--data', fresh], { timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr.trim().split('\n'), describeResult(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/^tri: cannot bind .*127\.0\.15\.101:9999/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(fresh)).toBe(false);
  });

  it('a second node under an existing name is refused before it joins, and the real one keeps its place', async () => {
    const dir = join(c.dir, 'impostor');
    const r = await runTri(['node', 'start', '--name', 'n1', '--bind', '127.0.15.103', '--key-file', c.keyFile, '--data', dir, '--join', '127.0.15.102:9999'], { timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toMatch(/"level":50.*another node named \\"n1\\" is already a live member/); // logged at error level
    expect(r.stderr).toMatch(/another node named "n1" is already a live member at 127\.0\.15\.101:9999.*Give this node its own --name/);
    expect(existsSync(dir)).toBe(false);
    const s = await c.node('n2').status();
    expect(s?.members.map((m) => `${m.name}@${m.address}`)).toEqual(['n1@127.0.15.101', 'n2@127.0.15.102']);
    expect(s?.quorum).toMatchObject({ writable: true, voters: 2 });
  });

  it('--log-format text prints the startup line for people, and a node without --data warns', async () => {
    const n = new NodeProcess('texty', '127.0.15.104', ['node', 'start', '--name', 'texty', '--bind', '127.0.15.104', '--insecure', '--http-port', '0', '--log-format', 'text'], join(c.dir, 'texty.log'));
    n.start();
    try {
      const text = await waitFor('the startup line', async () => {
        const t = existsSync(n.logFile) ? readFileSync(n.logFile, 'utf8') : '';
        return { ok: /node texty started/.test(t) && /running without --data/.test(t), value: t, detail: t.slice(-500) };
      }, { timeoutMs: 20_000 });
      expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}texty: node texty started: gossip 127\.0\.15\.104:9999, rpc 127\.0\.15\.104:10000, http off, profile lan, data \(memory only\), INSECURE/m);
      expect(text).toMatch(/^\S+ WARN {2}texty: running without --data/m);
      expect(text).not.toMatch(/^\{"level"/m);
    } finally {
      n.signal('SIGTERM');
      await n.waitExit(15_000);
      await n.closeLog();
    }
  });

  it('SIGHUP is a graceful leave: exit 0, the others see it LEFT; its data directory refuses another name', async () => {
    const n2 = c.node('n2');
    n2.signal('SIGHUP');
    const exit = await n2.waitExit(20_000);
    expect(exit, n2.tailText()).toEqual({ code: 0, signal: null });
    // Two voters: n2's graceful stop leaves n1 alone holding the writable copy, and n2 says so.
    expect(readFileSync(n2.logFile, 'utf8')).toMatch(/"level":40.*stopping n2 leaves n1 as the only voter/);
    await c.waitStates({ n2: { state: 'LEFT' } }, { observers: [c.node('n1')], timeoutMs: 20_000 });
    const r = await runTri(['node', 'start', '--name', 'n2-impostor', '--bind', '127.0.15.102', '--key-file', c.keyFile, '--data', join(c.dir, 'n2'), '--join', '127.0.15.101:9999'], { timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr).toMatch(/belongs to node "n2", not "n2-impostor": start it with --name n2/);
    const members = await waitFor('n1 to answer', async () => {
      const s = await c.node('n1').status();
      return { ok: s !== undefined, value: s?.members ?? [] };
    }, { timeoutMs: 10_000 });
    expect(members.map((m) => m.name)).not.toContain('n2-impostor');
  });
});
