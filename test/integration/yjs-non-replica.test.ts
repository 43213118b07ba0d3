// A stock y-websocket client on a node that is not a replica of the agent's memory (5 `tri node
// start` processes on 127.0.67.1-5, replication factor 3): it must get the memory as the replica
// set has it (the node merges from a majority of the set before it greets the client), never the
// node's empty copy; its edits reach the replicas; writes made on a replica reach it while it is
// connected; a later client on that node still gets everything (the copy is not handed off and
// dropped under connected clients).
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeResult, loopbackRange, sleep, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { stockClient, synced, type StockClient } from './lib/yjs-client.js';

const ADDRESSES = loopbackRange(1, 5, 67);
const AGENT = 'far-scribe';
let cluster!: TriCluster;
useStartedCluster(() => ({ addresses: ADDRESSES, profile: 'local', extraArgs: () => ['--replication-factor', '3'] }), (c) => (cluster = c));

const clients: StockClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function cli(args: string[]): Promise<string> {
  const r = await cluster.cli(args);
  expect(r.code, describeResult(r)).toBe(0);
  return r.stdout;
}

async function add(at: string, task: string): Promise<string> {
  // Retried while the five voters settle on one configuration (a write may be refused meanwhile).
  return waitFor(`an episode written through ${at}`, async () => {
    const r = await cluster.cli(['memory', 'add', '--at', at, '--agent', AGENT, '--task', task, '--outcome', 'ok', '--note', `note of ${task}`, '--json']);
    return { ok: r.code === 0, value: r.code === 0 ? (JSON.parse(r.stdout) as { id: string }).id : '', detail: describeResult(r) };
  }, { timeoutMs: 30_000, intervalMs: 500 });
}

function episodeIds(doc: Y.Doc): string[] {
  return [...doc.getMap('episodes').keys()].sort();
}

describe('a stock y-websocket client on a node that holds no replica (5 processes, RF 3)', () => {
  it('gets the memory as the replica set has it, edits it, and sees later writes', { timeout: 120_000 }, async () => {
    await waitFor('five voters on one configuration', async () => {
      const all = await Promise.all(ADDRESSES.map(async (a) => (await cluster.cli(['status', '--at', a, '--json'])).stdout));
      const parsed = all.map((s) => { try { return JSON.parse(s) as { voters: unknown[]; quorum: { configuration: number } }; } catch { return undefined; } });
      const ok = parsed.every((s) => s && s.voters.length === 5 && s.quorum.configuration === parsed[0]!.quorum.configuration);
      return { ok, value: undefined, detail: all.map((s) => s.slice(0, 80)).join(' | ') };
    }, { timeoutMs: 40_000, intervalMs: 500 });
    const placement = JSON.parse(await cli(['memory', 'placement', '--at', ADDRESSES[0]!, '--agent', AGENT, '--json'])) as { replicas: string[] };
    expect(placement.replicas).toHaveLength(3);
    const addressOf = (name: string): string => cluster.nodes.find((n) => n.name === name)!.address;
    const replicas = placement.replicas.map(addressOf);
    const outside = ADDRESSES.filter((a) => !replicas.includes(a));
    expect(outside).toHaveLength(2);
    const ids = [await add(replicas[0]!, 'plan'), await add(replicas[1]!, 'draft'), await add(replicas[2]!, 'review')];

    const token = (await cli(['token', 'create'])).trim();
    const connect = async (at: string): Promise<StockClient> => {
      const c = stockClient(`ws://${at}:10080/yjs/agent`, AGENT, { token });
      clients.push(c);
      await synced(c);
      return c;
    };
    // Synced means the node's state was sent: it must already be the replica set's, not an empty copy.
    const far = await connect(outside[0]!);
    expect(episodeIds(far.doc)).toEqual([...ids].sort());

    // Its edit goes through the write path to the replica set.
    const notes = (far.doc.getMap('episodes').get(ids[0]!) as Y.Map<unknown>).get('notes') as Y.Text;
    notes.insert(notes.length, ' + edited far away');
    await far.waitEchoed();
    const shown = JSON.parse(await cli(['memory', 'show', '--at', replicas[2]!, '--agent', AGENT, '--json'])) as Array<{ id: string; notes: string }>;
    expect(shown.find((e) => e.id === ids[0])?.notes).toBe('note of plan + edited far away');

    // A write on a replica reaches the connected client (merged again every hub tick).
    const later = await add(replicas[1]!, 'ship');
    await waitFor('the replica\'s write in the far client', async () => ({ ok: far.doc.getMap('episodes').has(later), value: undefined, detail: episodeIds(far.doc).join(',') }), { timeoutMs: 20_000, intervalMs: 200 });

    // Past several handoff rounds, a new client on the other non-replica and one on the same node get everything.
    await sleep(5_000);
    const second = await connect(outside[0]!);
    const third = await connect(outside[1]!);
    for (const c of [second, third]) {
      expect(episodeIds(c.doc)).toEqual([...ids, later].sort());
      expect(((c.doc.getMap('episodes').get(ids[0]!) as Y.Map<unknown>).get('notes') as Y.Text).toString()).toBe('note of plan + edited far away');
    }
  });
});
