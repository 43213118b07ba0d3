// Issue 15 items 1, 7 (/health) and 11 on real processes (127.0.15.111-113): after a full outage
// (every node SIGKILLed) nodes restarted with the README's command, without --join, find the
// members they knew from their data directory and the cluster is writable again; a node started
// with --join to a member that is down joins the others it knew. `tri nodes` lists voters a node
// cannot see (UNKNOWN) with a VOTE column; `tri status` shows the quorum and configuration;
// /health answers 200 when ACTIVE and writable, 503 otherwise.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, useStartedCluster, waitFor } from './lib/index.js';

function healthCode(address: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(`http://${address}:10080/health`, { timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

interface NodeRowJson {
  name: string;
  state: string;
  vote: string;
}

describe('restarts after a full outage (127.0.15.111-113)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(111, 3, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('status, nodes and /health of a healthy cluster', async () => {
    await waitFor('n1 writable with 3 voters', async () => {
      const r = await c.cli(['status', '--at', '127.0.15.111', '--json']);
      const s = r.code === 0 ? (JSON.parse(r.stdout) as { quorum: { writable: boolean; voters: number }; voters: string[] }) : undefined;
      return { ok: s?.quorum.writable === true && s.voters.length === 3, value: s, detail: r.stdout || r.stderr };
    }, { timeoutMs: 20_000 });
    const human = await c.cli(['status', '--at', '127.0.15.111']);
    expect(human.code, describeResult(human)).toBe(0);
    expect(human.stdout).toMatch(/lifecycle\s+ACTIVE/);
    expect(human.stdout).toMatch(/writable\s+yes \(3\/3 voters reachable\)/);
    expect(human.stdout).toMatch(/voters\s+n1,n2,n3/);
    const nodes = await c.cli(['nodes', '--at', '127.0.15.112']);
    expect(nodes.stdout).toMatch(/^NAME\s+ADDRESS\s+ROLE\s+VOTE\s+STATE/);
    expect(nodes.stdout).toMatch(/n3\s+127\.0\.15\.113:9999\s+hybrid\s+VOTER\s+ACTIVE/);
    expect(await healthCode('127.0.15.111')).toBe(200);
  });

  it('every node SIGKILLed, then restarted without --join (n1) and with --join to a member still down: they find each other', async () => {
    for (const n of c.nodes) await n.kill();
    // n1 as the README starts the first node: no --join. It knows n2 and n3 from its data directory.
    const n1 = c.node('n1');
    const withoutJoin = n1.args.filter((a, i, all) => a !== '--join' && all[i - 1] !== '--join');
    (n1 as { args: string[] }).args.splice(0, n1.args.length, ...withoutJoin);
    n1.start();
    await waitFor('n1 to answer /health', async () => ({ ok: (await healthCode('127.0.15.111')) !== undefined, value: true }), { timeoutMs: 20_000 });
    // Alone, n1 cannot be writable (1 of 3 voters): /health says so, and `tri nodes` lists the voters it cannot see.
    expect(await healthCode('127.0.15.111')).toBe(503);
    const alone = await c.cli(['nodes', '--at', '127.0.15.111', '--json']);
    const rows = JSON.parse(alone.stdout) as NodeRowJson[];
    expect(rows.map((r) => [r.name, r.vote])).toEqual([['n1', 'voter'], ['n2', 'voter'], ['n3', 'voter']]);
    expect(rows.filter((r) => r.name !== 'n1').every((r) => r.state === 'UNKNOWN' || r.state === 'FAILED')).toBe(true);
    // n3 with --join to n2, which is still down: it must find n1, which it knew.
    const n3 = c.node('n3');
    const joinAt = n3.args.indexOf('--join');
    n3.args[joinAt + 1] = '127.0.15.112:9999';
    n3.start();
    await c.waitStates({ n1: { state: 'ACTIVE', swimState: 'alive' }, n3: { state: 'ACTIVE', swimState: 'alive' } }, { observers: [n1, n3], timeoutMs: 30_000 });
    const write = await c.cli(['memory', 'add', '--at', '127.0.15.113', '--agent', 'after-outage', '--task', 't', '--outcome', 'ok']);
    expect(write.code, describeResult(write)).toBe(0);
    // n2 back without --join either: everyone sees everyone.
    const n2 = c.node('n2');
    n2.args.splice(n2.args.indexOf('--join'), 2);
    n2.start();
    await c.waitAllActive(30_000);
    expect(await healthCode('127.0.15.112')).toBe(200);
  }, 120_000);
});
