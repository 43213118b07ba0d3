// `tri cluster` unattended (no terminal): runs the whole scripted scenario on real processes,
// exits 0, shows a FAILED node and a completed reassignment, and leaves no process behind.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

function nodeProcessesOnDemoAddresses(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'tri.js node start .*127\\.0\\.10\\.'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('tri cluster', () => {
  it('runs the demo to the end, exits 0 and stops every process it started', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli/tri.js', 'cluster', '--nodes', '5'], { timeout: 150_000 });
    expect(stdout).toMatch(/joined: n1 ACTIVE, n2 ACTIVE, n3 ACTIVE, n4 ACTIVE, n5 ACTIVE/);
    expect(stdout).toMatch(/memory: 5 episodes written through 5 different nodes; every replica has digest [0-9a-f]{12}/);
    for (const s of ['local-first', 'latency-aware', 'bandwidth-aware', 'round-robin']) expect(stdout).toMatch(new RegExp(`tasks, ${s}: 8 done on `));
    expect(stdout).toMatch(/detected: n5 is FAILED after [\d.]+ s/);
    expect(stdout).toMatch(/reassigned: task [0-9a-f]+ now runs on n[1-4] \(attempt [2-9]\)/);
    expect(stdout).toMatch(/completed: task [0-9a-f]+ done on n[1-4]; exactly one result and one episode recorded/);
    expect(stdout).toMatch(/graceful leave: SIGTERM to n4; the others show it LEFT/);
    expect(stdout).toMatch(/(minority n5 is DEGRADED and refuses writes|partition step skipped: )/);
    expect(stdout).toMatch(/converged: 3 surviving nodes hold memory digest [0-9a-f]{12}/);
    expect(stdout).toContain('stopped 5 node processes');
    expect(nodeProcessesOnDemoAddresses()).toEqual([]);
  }, 180_000);
});
