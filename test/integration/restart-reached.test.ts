// A node restarted after a full outage with --join to a member that is still down, and with no
// record of the others (its member snapshot lost, as when it was SIGKILLed right after joining):
// a member that knew it reaches it, and it must take that as joined and become ACTIVE instead of
// retrying its dead seed for ever (real processes, 127.0.14.21-23).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, useStartedCluster } from './lib/index.js';

describe('a restarted node reached by a member while its seeds are down (127.0.14.21-23)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(21, 3, 14), profile: 'lan' }), (cluster) => (c = cluster));

  it('joins through the member that reached it', async () => {
    // Let every node record the others (the snapshot is written within 50 ms of a first sighting).
    await new Promise((r) => setTimeout(r, 500));
    for (const n of c.nodes) await n.kill();
    // n3 forgets whom it knew: only n1 (which knew n3) can bring it back.
    const db = new Database(join(c.dir, 'n3', 'node.db'));
    const forgotten = db.prepare("DELETE FROM kv WHERE key = 'members/snapshot'").run().changes;
    db.close();
    expect(forgotten).toBe(1);
    const n1 = c.node('n1');
    n1.start();
    const n3 = c.node('n3');
    n3.args[n3.args.indexOf('--join') + 1] = '127.0.14.22:9999';
    n3.start();
    await c.waitStates({ n1: { state: 'ACTIVE', swimState: 'alive' }, n3: { state: 'ACTIVE', swimState: 'alive' } }, { observers: [n1, n3], timeoutMs: 30_000 });
    const write = await c.cli(['memory', 'add', '--at', '127.0.14.23', '--agent', 'reached', '--task', 't', '--outcome', 'ok']);
    expect(write.code, describeResult(write)).toBe(0);
  }, 90_000);
});
