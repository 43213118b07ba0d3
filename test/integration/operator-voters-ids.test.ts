// `tri operator voters` shows each voter entry's node id (the data directory it admitted,
// src/quorum/voter-identity.ts), in its table and in --json, on real processes (127.0.52.21-23):
// every entry's id is the id that node's /status reports; after n3's data directory is wiped and
// it is admitted again in place of its entry, the entry shows its new id, not the old one.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TriCluster, describeResult, loopbackRange, useStartedCluster, waitFor } from './lib/index.js';

interface VotersJson {
  configuration: number;
  writable: boolean;
  voters: Array<{ name: string; nodeId: string | null; replaced: boolean; state: string; swimState: string }>;
}

describe('node ids in tri operator voters (127.0.52.21-23)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(21, 3, 52), profile: 'lan' }), (cluster) => (c = cluster));

  it('each voter shows the node id of its data directory, and the new one after a wipe and re-admission', async () => {
    const at = ['--at', '127.0.52.21'];
    const voters = async (): Promise<VotersJson | undefined> => {
      const r = await c.cli(['operator', 'voters', ...at, '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as VotersJson) : undefined;
    };
    const first = await waitFor('3 voters, writable', async () => {
      const v = await voters();
      return { ok: v?.writable === true && v.voters.length === 3, value: v!, detail: JSON.stringify(v) };
    }, { timeoutMs: 30_000 });
    const idOf = async (name: string): Promise<string> => (await c.node(name).status())!.nodeId as string;
    for (const v of first.voters) {
      expect(v.nodeId, v.name).toBe(await idOf(v.name));
      expect(v.replaced).toBe(false);
    }
    const human = await c.cli(['operator', 'voters', ...at]);
    expect(human.code, describeResult(human)).toBe(0);
    expect(human.stdout).toContain('NODE ID');
    for (const v of first.voters) expect(human.stdout).toContain(v.nodeId!);

    const n3 = c.node('n3');
    const old = first.voters.find((v) => v.name === 'n3')!.nodeId!;
    await n3.kill();
    rmSync(n3.args[n3.args.indexOf('--data') + 1]!, { recursive: true, force: true });
    n3.start();
    const after = await waitFor('n3 admitted again under a new node id', async () => {
      const v = await voters();
      const e = v?.voters.find((x) => x.name === 'n3');
      return { ok: v?.writable === true && e !== undefined && e.nodeId !== null && e.nodeId !== old && !e.replaced, value: v!, detail: JSON.stringify(v) };
    }, { timeoutMs: 60_000 });
    expect(after.voters.find((x) => x.name === 'n3')!.nodeId).toBe(await idOf('n3'));
    expect(after.configuration).toBeGreaterThan(first.configuration);
  }, 150_000);
});
