// A name is one node, on the seed's side (issue 15 item 2). A joining node asks its seeds first
// (src/node/name-check.ts), but a node that skipped that question (an older binary, or one whose
// seed did not answer in time: the check lets the join decide) must still not take a live
// member's name. Here the impostor's only seed is paused (SIGSTOP) while it asks, so its check
// passes; once the seed resumes, the impostor's join retry reaches it and the seed refuses it:
// nothing merged, an error-level line saying what to do, and the impostor exits with the reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeProcess, TriCluster, loopbackRange, useStartedCluster, waitFor } from './lib/index.js';

describe('a seed refuses a second node under a live member name (127.0.15.170-172)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(170, 2, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('the join of an impostor that skipped the name check is refused by the seed; the real node keeps its place', async () => {
    const n2 = c.node('n2');
    const args = ['node', 'start', '--name', 'n1', '--bind', '127.0.15.172', '--key-file', c.keyFile, '--data', join(c.dir, 'impostor'), '--join', '127.0.15.171:9999', '--profile', 'lan'];
    const impostor = new NodeProcess('impostor', '127.0.15.172', args, join(c.dir, 'impostor.log'));
    n2.signal('SIGSTOP');
    try {
      impostor.start();
      // The join loop's first warning comes after the name check gave up on the paused seed.
      await waitFor('the impostor to pass its own name check and retry the join', async () => ({ ok: /no seed answered yet; retrying/.test(impostor.tailText(60)), value: true, detail: impostor.tailText(10) }), { timeoutMs: 30_000 });
    } finally {
      n2.signal('SIGCONT');
    }
    try {
      const exit = await impostor.waitExit(45_000);
      expect(exit.code, impostor.tailText(60)).toBe(1);
      const out = impostor.tailText(60);
      expect(out).toMatch(/tri: the member at 127\.0\.15\.171:9999 refused this node: another node named "n1" is already a live member at 127\.0\.15\.170:9999 .*Give this node its own --name/);
      expect(out).toMatch(/"level":50.*refused this node/); // logged at error level by the impostor too
    } finally {
      await impostor.kill();
      await impostor.closeLog();
    }
    const seedLog = await waitFor(
      'the seed to log the refusal',
      async () => {
        const log = readFileSync(n2.logFile, 'utf8');
        return { ok: /refused the node at 127\.0\.15\.172:9999/.test(log), value: log, detail: log.slice(-800) };
      },
      { timeoutMs: 10_000 },
    );
    const line = seedLog.split('\n').find((l) => l.includes('refused the node at 127.0.15.172:9999'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, name: 'n1', from: '127.0.15.172:9999', member: '127.0.15.170:9999' });
    expect(line).toMatch(/start the node at 127\.0\.15\.172:9999 with its own --name/);
    await waitFor(
      'both real nodes to list exactly n1@.170 and n2@.171, writable',
      async () => {
        const [s1, s2] = await Promise.all([c.node('n1').status(), n2.status()]);
        const seen = [s1, s2].map((s) => s?.members.map((m) => `${m.name}@${m.address}:${m.swimState}`).join(','));
        const ok = seen.every((v) => v === 'n1@127.0.15.170:alive,n2@127.0.15.171:alive') && s2?.quorum?.writable === true;
        return { ok, value: true, detail: JSON.stringify({ seen, quorum: s2?.quorum }) };
      },
      { timeoutMs: 30_000 },
    );
  }, 120_000);
});
