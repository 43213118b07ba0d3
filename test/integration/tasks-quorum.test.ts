// A task submitted to a read-only minority fails with exit code 3 (DESIGN.md "Quorum and split
// brain"): 3 real node processes (127.0.8.21-23, default ports, `local` profile); n2 and n3 are
// SIGKILLed, so n1 reaches 1 of 3 voters. It cannot remove them from the voter set itself (only
// a writable side downs members), so it stays read-only: reads work, a submit fails at once with
// exit 3 and applies nothing.
import { describe, expect, it } from 'vitest';
import { TriCluster, useStartedCluster, describeResult, waitFor } from './lib/index.js';

interface TaskJson {
  id: string;
  status: string;
  node: string | null;
}

describe('tasks on a read-only minority', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: ['127.0.8.21', '127.0.8.22', '127.0.8.23'], profile: 'local' }), (cluster) => (c = cluster));

  it('a submit on the minority side exits 3 and records nothing; reads still work', async () => {
    const n1 = c.node('n1').address;
    const ok = await c.cli(['task', 'submit', '--at', n1, '--type', 'echo', '--input', '{"before":true}', '--wait', '--json']);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'done', result: { before: true } });

    c.node('n2').signal('SIGKILL');
    c.node('n3').signal('SIGKILL');
    await Promise.all([c.node('n2').waitExit(5_000), c.node('n3').waitExit(5_000)]);
    await waitFor(
      'n1 to report itself read-only',
      async () => {
        const s = await c.node('n1').status();
        return { ok: s?.quorum?.writable === false, value: s, detail: JSON.stringify(s?.quorum ?? null) + ` state ${s?.state}` };
      },
      { timeoutMs: 30_000, intervalMs: 200, diagnostics: () => c.diagnostics() },
    );

    for (const extra of [[], ['--wait'], ['--strategy', 'round-robin']]) {
      const t0 = Date.now();
      const r = await c.cli(['task', 'submit', '--at', n1, '--type', 'echo', '--input', '{"after":true}', '--json', ...extra]);
      expect(r.code, describeResult(r)).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/quorum|read-only/i);
      // Refused at once, not after a write timeout.
      expect(Date.now() - t0).toBeLessThan(5_000);
    }

    // Reads work on the read-only node, and nothing of the refused submits was applied.
    const list = await c.cli(['task', 'list', '--at', n1, '--json']);
    expect(list.code, describeResult(list)).toBe(0);
    const tasks = JSON.parse(list.stdout) as TaskJson[];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ status: 'done' });
    expect(c.node('n1').running).toBe(true);
  });
});
