// Issue 15 item 4: `tri snapshot save --at HOST FILE` copies what a running node holds;
// `tri snapshot restore FILE --data DIR --name NAME` makes a new data directory from it, and a node
// started on it (127.0.15.153) joins the running cluster (127.0.15.151-152) and converges with it,
// writes made after the snapshot included.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { NodeProcess, TriCluster, describeResult, loopbackRange, runTri, useStartedCluster, waitFor } from './lib/index.js';

describe('snapshot save and restore (127.0.15.151-153)', () => {
  let c: TriCluster;
  useStartedCluster(() => ({ addresses: loopbackRange(151, 2, 15), profile: 'lan' }), (cluster) => (c = cluster));

  it('a snapshot restored into a new data directory rejoins and converges', async () => {
    const at = ['--at', '127.0.15.151'];
    for (const task of ['one', 'two']) {
      const r = await c.cli(['memory', 'add', ...at, '--agent', 'backed-up', '--task', task, '--outcome', 'ok']);
      expect(r.code, describeResult(r)).toBe(0);
    }
    const file = join(c.dir, 'n1.snapshot');
    const save = await c.cli(['snapshot', 'save', ...at, file]);
    expect(save.code, describeResult(save)).toBe(0);
    expect(save.stdout).toMatch(/saved a snapshot of node n1 to .*n1\.snapshot: \d+ bytes, sha256 [0-9a-f]{64}/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await c.cli(['snapshot', 'save', ...at, file]);
    expect(again.code, describeResult(again)).toBe(2);

    const later = await c.cli(['memory', 'add', ...at, '--agent', 'backed-up', '--task', 'after the snapshot', '--outcome', 'ok']);
    expect(later.code, describeResult(later)).toBe(0);

    const dir = join(c.dir, 'restored');
    const restore = await runTri(['snapshot', 'restore', file, '--data', dir, '--name', 'n3']);
    expect(restore.code, describeResult(restore)).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // The new directory holds n1's documents at the snapshot, under a new identity and no voter record.
    const n1Id = (await c.node('n1').status())?.nodeId;
    const restored = SqliteStore.open({ dir, name: 'n3' });
    try {
      expect(restored.identity().name).toBe('n3');
      expect(restored.identity().nodeId).not.toBe(n1Id);
      expect(restored.kvGet('quorum/voters')).toBeUndefined();
      expect(restored.docIds().length).toBeGreaterThanOrEqual(1);
    } finally {
      restored.close();
    }
    const into = await runTri(['snapshot', 'restore', file, '--data', dir, '--name', 'n4']);
    expect(into.code, describeResult(into)).toBe(2);
    const garbage = await runTri(['snapshot', 'restore', c.keyFile, '--data', join(c.dir, 'garbage'), '--name', 'n5']);
    expect(garbage.code, describeResult(garbage)).toBe(2);
    expect(existsSync(join(c.dir, 'garbage'))).toBe(false);

    const n3 = new NodeProcess('n3', '127.0.15.153', ['node', 'start', '--name', 'n3', '--bind', '127.0.15.153', '--key-file', c.keyFile, '--data', dir, '--join', '127.0.15.151:9999'], join(c.dir, 'n3.log'));
    c.nodes.push(n3); // cleanup stops it with the others
    n3.start();
    await c.waitAllActive(40_000);
    const digests = await waitFor('equal digests on n1, n2, n3', async () => {
      const ds = await Promise.all(['127.0.15.151', '127.0.15.152', '127.0.15.153'].map(async (h) => (await c.cli(['memory', 'digest', '--at', h])).stdout.trim()));
      return { ok: ds[0] !== '' && ds.every((d) => d === ds[0]), value: ds, detail: ds.join(' | ') };
    }, { timeoutMs: 30_000 });
    expect(digests).toHaveLength(3);
    const show = await c.cli(['memory', 'show', '--at', '127.0.15.153', '--agent', 'backed-up', '--json']);
    expect((JSON.parse(show.stdout) as Array<{ task: string }>).map((e) => e.task).sort()).toEqual(['after the snapshot', 'one', 'two']);
  }, 150_000);
});
