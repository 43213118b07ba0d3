// Issue 15 item 3: voters lost for good. Three real processes (127.0.15.131-133); n2 and n3 are
// SIGKILLed and never come back, so n1 holds every acknowledged write but can never be writable
// again (1 of 3 voters). `tri operator voters` shows it; `tri operator force-voters` (offline, on
// n1's stopped data directory) makes n1 the only voter: it starts writable and keeps what it held.
// A second cluster (127.0.15.173-175) shows what it cannot save: a write n2 and n3 acknowledged
// while n1 was down is gone once they are lost for good.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, runTri, useStartedCluster, waitFor } from './lib/index.js';

interface VotersJson {
  configuration: number;
  writable: boolean;
  voters: Array<{ name: string; state: string }>;
}

describe('recovery when voters are gone for good (127.0.15.131-133)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(131, 3, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('force-voters makes the last survivor writable again with everything it held', async () => {
    const at = ['--at', '127.0.15.131'];
    await waitFor('3 voters, writable', async () => {
      const r = await c.cli(['operator', 'voters', ...at, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === true && v.voters.length === 3, value: v, detail: r.stdout || r.stderr };
    }, { timeoutMs: 20_000 });
    const before = await c.cli(['memory', 'add', ...at, '--agent', 'survivor', '--task', 'kept', '--outcome', 'ok']);
    expect(before.code, describeResult(before)).toBe(0);

    await c.node('n2').kill();
    await c.node('n3').kill();
    const stuck = await waitFor('n1 read-only', async () => {
      const r = await c.cli(['operator', 'voters', ...at, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === false, value: v, detail: r.stdout };
    }, { timeoutMs: 30_000 });
    expect(stuck?.voters.map((v) => v.name)).toEqual(['n1', 'n2', 'n3']);
    const refused = await c.cli(['memory', 'add', ...at, '--agent', 'survivor', '--task', 'refused', '--outcome', 'ok']);
    expect(refused.code, describeResult(refused)).toBe(3);

    const dir = join(c.dir, 'n1');
    const running = await runTri(['operator', 'force-voters', '--data', dir, '--voters', 'n1', '--yes']);
    expect(running.code, describeResult(running)).toBe(2);
    expect(running.stderr).toMatch(/in use by a running node: stop it first/);

    await c.node('n1').kill();
    const unconfirmed = await runTri(['operator', 'force-voters', '--data', dir, '--voters', 'n1']);
    expect(unconfirmed.code, describeResult(unconfirmed)).toBe(2);
    expect(unconfirmed.stderr).toMatch(/WARNING: forcing node n1's voter configuration \d+ \(n1, n2, n3\) to \d+ \(n1\)/);
    expect(unconfirmed.stderr).toMatch(/nothing changed: add --yes/);
    const notVoter = await runTri(['operator', 'force-voters', '--data', dir, '--voters', 'n9', '--yes']);
    expect(notVoter.code, describeResult(notVoter)).toBe(2);
    expect(notVoter.stderr).toMatch(/n9 is not a voter/);
    const forced = await runTri(['operator', 'force-voters', '--data', dir, '--voters', 'n1', '--yes']);
    expect(forced.code, describeResult(forced)).toBe(0);
    expect(forced.stdout).toMatch(/voters n1 written to/);

    await c.restart('n1');
    const after = await waitFor('n1 writable alone', async () => {
      const r = await c.cli(['operator', 'voters', ...at, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === true, value: v, detail: r.stdout };
    }, { timeoutMs: 20_000 });
    expect(after?.voters.map((v) => v.name)).toEqual(['n1']);
    expect(after?.configuration).toBeGreaterThan(stuck?.configuration ?? Infinity);
    const write = await c.cli(['memory', 'add', ...at, '--agent', 'survivor', '--task', 'after recovery', '--outcome', 'ok']);
    expect(write.code, describeResult(write)).toBe(0);
    const show = await c.cli(['memory', 'show', ...at, '--agent', 'survivor', '--json']);
    expect((JSON.parse(show.stdout) as Array<{ task: string }>).map((e) => e.task).sort()).toEqual(['after recovery', 'kept']);
  }, 150_000);
});

describe('what force-voters cannot save (127.0.15.173-175)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(173, 3, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('a write acknowledged only by the voters then lost for good is absent after recovery; what the survivor held is kept', async () => {
    const [n1, n2, n3] = ['127.0.15.173', '127.0.15.174', '127.0.15.175'];
    await waitFor('3 voters, writable', async () => {
      const r = await c.cli(['operator', 'voters', '--at', n1!, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === true && v.voters.length === 3, value: v, detail: r.stdout || r.stderr };
    }, { timeoutMs: 20_000 });
    const kept = await c.cli(['memory', 'add', '--at', n1!, '--agent', 'ledger', '--task', 'seen by all', '--outcome', 'ok']);
    expect(kept.code, describeResult(kept)).toBe(0);
    const tasksAt = async (at: string): Promise<string[]> => {
      const r = await c.cli(['memory', 'show', '--at', at, '--agent', 'ledger', '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Array<{ task: string }>).map((e) => e.task).sort() : [];
    };
    await waitFor('n1 to hold the first write', async () => ({ ok: (await tasksAt(n1!)).includes('seen by all'), value: true }), { timeoutMs: 15_000 });

    // n1 goes down; n2 and n3 are a majority of the three voters and acknowledge a write n1 never sees.
    await c.node('n1').kill();
    const lost = await c.cli(['memory', 'add', '--at', n2!, '--agent', 'ledger', '--task', 'only n2 and n3', '--outcome', 'ok']);
    expect(lost.code, describeResult(lost)).toBe(0);
    await waitFor('n3 to hold the write n2 acknowledged', async () => ({ ok: (await tasksAt(n3!)).includes('only n2 and n3'), value: true }), { timeoutMs: 15_000 });
    // Then those two are lost for good (disks gone), before n1 is back.
    await c.node('n2').kill();
    await c.node('n3').kill();

    const forced = await runTri(['operator', 'force-voters', '--data', join(c.dir, 'n1'), '--voters', 'n1', '--yes']);
    expect(forced.code, describeResult(forced)).toBe(0);
    expect(forced.stderr).toMatch(/WARNING: dropped voters: n2, n3\. Writes only they stored are lost/);
    await c.restart('n1');
    await waitFor('n1 writable alone', async () => {
      const r = await c.cli(['operator', 'voters', '--at', n1!, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === true && v.voters.length === 1, value: v, detail: r.stdout };
    }, { timeoutMs: 20_000 });
    // The README's warning, shown: the acknowledged write only the lost voters stored is gone.
    expect(await tasksAt(n1!)).toEqual(['seen by all']);
  }, 150_000);
});

describe('operator remove-voter (127.0.15.161-163)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(161, 3, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('removes a dead voter through a configuration change before stable-after; refuses live and unknown names', async () => {
    const at = ['--at', '127.0.15.161'];
    await waitFor('3 voters, writable', async () => {
      const r = await c.cli(['operator', 'voters', ...at, '--json']);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
      return { ok: v?.writable === true && v.voters.length === 3, value: v, detail: r.stdout || r.stderr };
    }, { timeoutMs: 20_000 });
    const live = await c.cli(['operator', 'remove-voter', 'n2', ...at]);
    expect(live.code, describeResult(live)).toBe(2);
    expect(live.stderr).toMatch(/n2 is alive: stop it/);
    const unknown = await c.cli(['operator', 'remove-voter', 'n9', ...at]);
    expect(unknown.code, describeResult(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/n9 is not a voter/);

    await c.node('n3').kill();
    await c.waitStates({ n3: { state: 'FAILED' } }, { observers: [c.node('n1')], timeoutMs: 20_000 });
    const failedAt = Date.now();
    const r = await c.cli(['operator', 'remove-voter', 'n3', ...at, '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    // The writable side would down n3 by itself only once it stayed FAILED for stable-after (10 s).
    expect(Date.now() - failedAt).toBeLessThan(10_000);
    expect((JSON.parse(r.stdout) as { voters: string[] }).voters).toEqual(['n1', 'n2']);
    const write = await c.cli(['memory', 'add', '--at', '127.0.15.162', '--agent', 'a', '--task', 't', '--outcome', 'ok']);
    expect(write.code, describeResult(write)).toBe(0);
  }, 120_000);
});
