// UDP broadcast discovery across real network namespaces on one bridge (root only; skips loudly
// elsewhere). Hosts a and b run responders with the cluster key, c runs one too and discovers,
// and x holds a different key. Every process is bounded in time and the LAN is destroyed after.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/security/keyring.js';
import { canUseNetns, createLan, sweepStale, udpPing, waitForLine, type Host, type Lan } from './lib/index.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING discovery netns tests: ${support.reason}`);

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT_SOURCE = join(REPO, 'test/netns/fixtures/discovery-agent.ts');
const KEY = generateKey();
const OTHER_KEY = generateKey();
const LABEL = 'netns-test';

/**
 * Compiles the agent and what it imports (src/discovery and the few security modules) to a temp
 * directory. The namespaces run plain node, and dist/ does not hold test fixtures; emitting
 * ignores type errors elsewhere in the tree, so other work in progress cannot break this test.
 */
function compileAgent(outDir: string): string {
  const program = ts.createProgram([AGENT_SOURCE], {
    outDir,
    rootDir: REPO,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: ['node'],
    noEmitOnError: false,
  });
  const result = program.emit();
  if (result.emitSkipped) throw new Error('could not compile the discovery agent');
  // Node treats the .js output as ESM only under a package.json that says so.
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, 'test/netns/fixtures/discovery-agent.js');
}

interface Peer {
  name: string;
  address: string;
  rpcPort?: number;
  from: string;
}

describe.skipIf(!support.ok)('discovery over UDP broadcast between network namespaces', () => {
  let lan: Lan;
  let a: Host, b: Host, c: Host, x: Host;
  let outDir: string;
  let agent: string;
  const responders = new Map<string, ChildProcess>();

  async function startResponder(host: Host, name: string, key: string, opts: { gossipStandIn?: boolean; insecure?: boolean; gossipPort?: number } = {}): Promise<void> {
    const child = lan.spawn(host, process.execPath, [agent]);
    child.stdin!.end(
      JSON.stringify({ mode: 'respond', key, label: LABEL, name, gossipHost: host.address, gossipPort: 9999, rpcPort: 10000, lifetimeMs: 90_000, ...opts }),
    );
    await waitForLine(child, (line) => line === 'ready', 15_000);
    responders.set(name, child);
  }

  async function discoverFrom(host: Host, key: string, extra: object = {}): Promise<Peer[]> {
    const cfg = { mode: 'discover', key, label: LABEL, bindHost: host.address, timeoutMs: 1_500, attempts: 3, self: [`${host.address}:9999`], ...extra };
    const res = await lan.exec(host, process.execPath, [agent], { input: JSON.stringify(cfg), timeoutMs: 15_000 });
    const line = res.stdout.trim().split('\n').pop() ?? '';
    return (JSON.parse(line) as { peers: Peer[] }).peers;
  }

  const addresses = (peers: Peer[]): string[] => peers.map((p) => p.address).sort();

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'tri-discovery-'));
    agent = compileAgent(outDir);
    await sweepStale();
    lan = await createLan(4, ['a', 'b', 'c', 'x']);
    [a, b, c, x] = lan.hosts as [Host, Host, Host, Host];
    // a also has a stand-in gossip socket on a.address:9999, bound first: the wildcard responder
    // must coexist with it on the same port.
    await startResponder(a, 'node-a', KEY, { gossipStandIn: true });
    await startResponder(b, 'node-b', KEY);
    await startResponder(c, 'node-c', KEY);
    await startResponder(x, 'node-x', OTHER_KEY);
  });

  afterAll(async () => {
    await lan?.destroy();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('finds both keyed responders from the third host, with names and rpc ports, and not itself', async () => {
    const peers = await discoverFrom(c, KEY);
    expect(addresses(peers)).toEqual([`${a.address}:9999`, `${b.address}:9999`]);
    const byName = Object.fromEntries(peers.map((p) => [p.name, p]));
    expect(byName['node-a']).toMatchObject({ rpcPort: 10000, from: a.address });
    expect(byName['node-b']).toMatchObject({ rpcPort: 10000, from: b.address });
  });

  it('a host with a different key is not found, and finds nobody', async () => {
    expect(addresses(await discoverFrom(c, KEY))).not.toContain(`${x.address}:9999`);
    expect(await discoverFrom(x, OTHER_KEY)).toEqual([]);
  });

  it('an --insecure discoverer finds no keyed responder', async () => {
    expect(await discoverFrom(c, '', { insecure: true })).toEqual([]);
  });

  it('an --insecure responder shares the host and port with a keyed one and answers only --insecure discoverers', async () => {
    await startResponder(x, 'node-x-plain', '', { insecure: true, gossipPort: 10001 });
    expect(addresses(await discoverFrom(c, '', { insecure: true }))).toEqual([`${x.address}:10001`]);
    expect(addresses(await discoverFrom(c, KEY))).toEqual([`${a.address}:9999`, `${b.address}:9999`]);
    responders.get('node-x-plain')!.kill('SIGKILL');
  });

  it('a partitioned host is not found; after heal it is again', async () => {
    await lan.partition([[b], [a, c, x]]);
    try {
      expect(addresses(await discoverFrom(c, KEY))).toEqual([`${a.address}:9999`]);
    } finally {
      await lan.heal();
    }
    expect(addresses(await discoverFrom(c, KEY))).toEqual([`${a.address}:9999`, `${b.address}:9999`]);
  });

  it('unicast to the gossip address still reaches the gossip socket sharing port 9999', async () => {
    // The stand-in gossip socket echoes; the responder would drop these bytes without a reply.
    expect(await udpPing(lan, c, a.address, 9999, 3, 300)).toBeGreaterThan(0);
  });

  it('responders answered only authentic requests and counted the rest', async () => {
    const stats = await Promise.all(
      ['node-a', 'node-x'].map(async (name) => {
        const child = responders.get(name)!;
        const line = waitForLine(child, (l) => l.startsWith('{"stats"'), 5_000);
        child.kill('SIGTERM');
        return (JSON.parse(await line) as { stats: { replies: number; dropped: Record<string, number> } }).stats;
      }),
    );
    const [statsA, statsX] = stats as [(typeof stats)[0], (typeof stats)[0]];
    expect(statsA.replies).toBeGreaterThan(0);
    // x answered only its own host's run (3 attempts; left out there as self): the copy of each
    // request that arrived by the second broadcast address was dropped as a replay.
    expect(statsX.replies).toBe(3);
    expect(statsX.dropped.replay).toBeGreaterThan(0);
    expect(statsX.dropped.auth).toBeGreaterThan(0);
    // a heard x's requests (other key) and the --insecure run's plaintext ones.
    expect(statsA.dropped.auth + statsA.dropped.malformed).toBeGreaterThan(0);
  });
});
