// A voter whose data directory is wiped and which restarts under its old name, on real processes
// (127.0.41.1-3): SIGKILL n3, delete its data directory, start it again with the same flags. It
// comes back with a new node id, as a learner (it forgot its Paxos promises, so it must not vote as
// its old entry), catches up, and the writable side admits it in place of its old entry through
// the next configuration: every node writable again with 3 voters, the write acknowledged before
// the wipe readable on n3, and a write through n3 acknowledged.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, useStartedCluster, waitFor } from './lib/index.js';

interface Quorum {
  writable: boolean;
  voters: number;
  configuration: number;
  learners: string[];
  reason: string;
}

describe('a voter wiped and restarted under its name (127.0.41.1-3)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(1, 3, 41), profile: 'lan' }), (cluster) => (c = cluster));

  it('comes back as a learner under a new node id and is admitted in place of its old entry; nothing acknowledged is lost', async () => {
    const quorumOf = async (name: string): Promise<{ nodeId: string; quorum: Quorum } | undefined> => {
      const s = await c.node(name).status();
      return s ? { nodeId: s.nodeId as string, quorum: s.quorum as unknown as Quorum } : undefined;
    };
    await waitFor('every node writable with 3 voters', async () => {
      const all = await Promise.all(['n1', 'n2', 'n3'].map(quorumOf));
      return { ok: all.every((s) => s?.quorum.writable === true && s.quorum.voters === 3), value: all, detail: JSON.stringify(all) };
    }, { timeoutMs: 30_000 });
    const before = (await quorumOf('n3'))!;
    const write = await c.cli(['memory', 'add', '--at', '127.0.41.1', '--agent', 'wiped', '--task', 'before-wipe', '--outcome', 'kept']);
    expect(write.code, describeResult(write)).toBe(0);

    const n3 = c.node('n3');
    await n3.kill();
    rmSync(n3.args[n3.args.indexOf('--data') + 1]!, { recursive: true, force: true });
    n3.start();
    const after = await waitFor('n3 admitted again under its new node id', async () => {
      const [a, b] = await Promise.all([quorumOf('n1'), quorumOf('n3')]);
      const ok = a !== undefined && b !== undefined && b.nodeId !== before.nodeId && a.quorum.configuration > before.quorum.configuration && b.quorum.configuration === a.quorum.configuration && a.quorum.writable && b.quorum.writable && a.quorum.learners.length === 0;
      return { ok, value: { n1: a, n3: b }, detail: JSON.stringify({ n1: a, n3: b }) };
    }, { timeoutMs: 60_000 });
    expect(after.n3!.quorum.voters).toBe(3);

    const show = await c.cli(['memory', 'show', '--at', '127.0.41.3', '--agent', 'wiped', '--json']);
    expect(show.code, describeResult(show)).toBe(0);
    expect(show.stdout).toContain('kept');
    const through = await c.cli(['memory', 'add', '--at', '127.0.41.3', '--agent', 'wiped', '--task', 'after-wipe', '--outcome', 'ok']);
    expect(through.code, describeResult(through)).toBe(0);
  }, 150_000);
});
