// The promise users rely on, checked on real processes as Jepsen's set workload checks it
// (127.0.1.60-64, default ports): 5 nodes take concurrent writes through all of them, 2 of the 5
// (a minority) are SIGKILLed in the middle of the load, and every write that was acknowledged,
// before or after the kill, is in the final read of each of the 3 survivors, and, once the two
// are restarted on their data directories, of theirs too. Writes in flight to a killed node
// fail, which is allowed: only acknowledged writes must survive. The survivors are a majority,
// so they keep acknowledging writes after the kill.
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { NodeClient } from '../../src/client/node-client.js';
import { TriCluster, loopbackRange, sleep, waitFor } from './lib/index.js';

let cluster: TriCluster | undefined;
const clients: NodeClient[] = [];

afterEach(async (ctx) => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  const c = cluster;
  cluster = undefined;
  await c?.cleanup(ctx.task.result?.state === 'fail');
});

const AGENT = 'set-workload';

it('every acknowledged write survives SIGKILL of a minority in the middle of the load', async () => {
  const c = (cluster = await TriCluster.create({ addresses: loopbackRange(60, 5), profile: 'lan', extraArgs: () => ['--replication-factor', '5'] }));
  await c.startAll(60_000);
  const key = readFileSync(c.keyFile, 'utf8').trim();
  for (const n of c.nodes) clients.push(await NodeClient.connect({ at: `${n.address}:10000`, key, timeoutMs: 10_000 }));

  const acked: Array<{ task: string; at: number }> = [];
  let failed = 0;
  let killedAt = Infinity;
  let next = 0;
  const deadline = Date.now() + 12_000; // bounded: 8 writers, 900 writes, 12 s
  const writer = async (w: number): Promise<void> => {
    while (next < 900 && Date.now() < deadline) {
      const i = next++;
      // Spread over all five nodes; after the kill, writes sent to n4 and n5 fail.
      const client = clients[(i + w) % clients.length]!;
      try {
        await client.addEpisode({ agent: AGENT, task: `w${i}`, outcome: 'ok' });
        acked.push({ task: `w${i}`, at: Date.now() });
      } catch {
        failed++;
        await sleep(5);
      }
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
  await waitFor('100 acknowledged writes before the kill', async () => ({ ok: acked.length >= 100, value: true, detail: `${acked.length} acked` }), { timeoutMs: 20_000 });
  c.node('n4').signal('SIGKILL');
  c.node('n5').signal('SIGKILL');
  killedAt = Date.now();
  await load;
  for (const n of ['n4', 'n5']) expect((await c.node(n).waitExit(10_000)).signal).toBe('SIGKILL');

  const afterKill = acked.filter((a) => a.at > killedAt).length;
  // The three survivors are a majority of the five voters: writes through them go on.
  expect(afterKill).toBeGreaterThan(50);
  expect(failed).toBeGreaterThan(0); // writes to the killed nodes did fail (the load really overlapped the kill)
  const expected = new Set(acked.map((a) => a.task));

  const holdsAll = async (i: number): Promise<{ ok: boolean; value: number; detail: string }> => {
    const seen = new Set((await clients[i]!.showMemory(AGENT)).map((e) => e.task));
    const missing = [...expected].filter((t) => !seen.has(t));
    return { ok: missing.length === 0, value: seen.size, detail: `${missing.length} acknowledged writes missing, e.g. ${missing.slice(0, 5).join(', ')}` };
  };
  for (const i of [0, 1, 2]) await waitFor(`survivor n${i + 1} to hold every acknowledged write`, () => holdsAll(i), { timeoutMs: 30_000 });

  // The killed nodes come back on their own data directories and catch up.
  for (const i of [3, 4]) {
    await clients[i]!.close().catch(() => undefined);
    await c.restart(`n${i + 1}`, 60_000);
    clients[i] = await NodeClient.connect({ at: `${c.nodes[i]!.address}:10000`, key, timeoutMs: 10_000 });
    await waitFor(`restarted n${i + 1} to hold every acknowledged write`, () => holdsAll(i), { timeoutMs: 60_000 });
  }
}, 240_000);
