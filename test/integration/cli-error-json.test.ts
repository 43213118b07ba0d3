// With --json a failing command also prints its error as JSON, with the stable machine code, as
// the last line of stderr; stdout stays the command's own output. Uses 127.0.16.x (nothing listens
// there) and the built CLI.
import { describe, expect, it } from 'vitest';
import { describeResult, runTri } from './lib/index.js';

describe('CLI errors with --json', () => {
  it('a node that cannot be reached: exit 1, nothing on stdout, {error:{code:"TRI_TRANSPORT",...}} on stderr', async () => {
    const r = await runTri(['nodes', '--at', '127.0.16.9', '--insecure', '--json']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toBe('');
    const last = r.stderr.trim().split('\n').at(-1)!;
    const parsed = JSON.parse(last) as { error: { code: string; name: string; message: string } };
    expect(parsed.error).toMatchObject({ code: 'TRI_TRANSPORT', name: 'TransportError' });
    expect(parsed.error.message).toMatch(/127\.0\.16\.9:10000/);
  });

  it('without --json the error is only the human line', async () => {
    const r = await runTri(['nodes', '--at', '127.0.16.9', '--insecure']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr).not.toMatch(/TRI_TRANSPORT/);
    expect(r.stderr).toMatch(/^tri: cannot reach the node at 127\.0\.16\.9:10000/);
  });
});
