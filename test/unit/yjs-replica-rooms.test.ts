// The Yjs hub's placement hooks (src/yjs/replica-rooms.ts) against a fake memory service: agent
// documents merge from the replica set before a client is greeted, pulls coalesce per document
// (one running, one shared after it), the copy is pinned while clients are connected, and only
// non-replica rooms are merged again on a tick.
import { describe, expect, it } from 'vitest';
import type { MemoryService } from '../../src/memory/memory-service.js';
import { silentLogger } from '../../src/runtime/silent-logger.js';
import { roomPlacement } from '../../src/yjs/replica-rooms.js';

function fake(opts: { replica: boolean }) {
  const reads: Array<{ agent: string; resolve: () => void; reject: (e: Error) => void }> = [];
  const pins: string[][] = [];
  const memory = {
    beforeRead: (agent: string) => new Promise<void>((resolve, reject) => void reads.push({ agent, resolve, reject })),
    replicas: {
      pin: (ids: Iterable<string>) => {
        const list = [...ids];
        pins.push(list);
        return () => void pins.splice(pins.indexOf(list), 1);
      },
      view: { current: () => ({ replicasOf: (id: string) => (id.startsWith('agent/') ? ['n1', 'n2', 'n3'] : undefined), isReplica: () => opts.replica }) },
    },
  } as unknown as MemoryService;
  return { placement: roomPlacement(memory, silentLogger()), reads, pins };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('yjs room placement', () => {
  it('a general document loads at once; an agent document waits for its merge from the replica set', async () => {
    const f = fake({ replica: false });
    await f.placement.load('doc/notes');
    expect(f.reads).toHaveLength(0);
    let loaded = false;
    void f.placement.load('agent/a7').then(() => (loaded = true));
    await tick();
    expect(f.reads.map((r) => r.agent)).toEqual(['a7']);
    expect(loaded).toBe(false);
    f.reads[0]!.resolve();
    await tick();
    expect(loaded).toBe(true);
  });

  it('clients that arrive while a merge runs share one merge started after it, not one each', async () => {
    const f = fake({ replica: false });
    const done: number[] = [];
    void f.placement.load('agent/a').then(() => done.push(0));
    await tick();
    for (let i = 1; i <= 3; i++) void f.placement.load('agent/a').then(() => done.push(i));
    await tick();
    expect(f.reads).toHaveLength(1);
    f.reads[0]!.resolve();
    await tick();
    expect(done).toEqual([0]); // the later clients wait for a merge that began after they asked
    expect(f.reads).toHaveLength(2);
    f.reads[1]!.resolve();
    await tick();
    expect(done.sort()).toEqual([0, 1, 2, 3]);
  });

  it('a failed merge fails the load (the hub closes the client, which reconnects)', async () => {
    const f = fake({ replica: false });
    const p = f.placement.load('agent/a');
    await tick();
    f.reads[0]!.reject(new Error('no majority of the replica set'));
    await expect(p).rejects.toThrow(/no majority/);
    void f.placement.load('agent/a');
    await tick();
    expect(f.reads).toHaveLength(2); // nothing stuck: the next client merges afresh
  });

  it('pins agent documents while their room is open', () => {
    const f = fake({ replica: false });
    const release = f.placement.hold('agent/a');
    f.placement.hold('doc/x')();
    expect(f.pins).toEqual([['agent/a']]);
    release();
    expect(f.pins).toEqual([]);
  });

  it('merges non-replica rooms again on a tick, one at a time; a replica\'s rooms never', async () => {
    const far = fake({ replica: false });
    far.placement.refresh(['agent/a', 'doc/x']);
    far.placement.refresh(['agent/a']);
    await tick();
    expect(far.reads.map((r) => r.agent)).toEqual(['a']);
    far.reads[0]!.reject(new Error('timed out'));
    await tick();
    far.placement.refresh(['agent/a']);
    expect(far.reads).toHaveLength(2);
    const near = fake({ replica: true });
    near.placement.refresh(['agent/a']);
    expect(near.reads).toHaveLength(0);
  });
});
