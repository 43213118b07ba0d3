// Measurements, printed rather than asserted: the size of the Yjs update one write produces
// and how fast small updates apply. Numbers feed the sync-bandwidth benchmark discussion.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { computeDocDigest } from '../../crdt/doc-digest.js';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { seeded } from '../lib/seeded.js';

function timed<T>(fn: () => T): { ms: number; result: T } {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

describe('measurements (informational)', () => {
  it('update sizes per write', () => {
    const a = new AgentMemoryDoc({ node: 'n1', random: seeded(1) });
    const sizes: number[] = [];
    a.onChange((c) => sizes.push(c.update.byteLength));
    const id = a.addEpisode({ task: 'summarize', outcome: 'ok', note: 'short note', tags: ['x'] }, { now: 1_700_000_000_000 });
    a.appendNote(id, ' more');
    a.increment(id, 'uses', 1);
    a.increment(id, 'uses', 1);
    a.tag(id, 'y');
    a.untag(id, 'y');
    a.set(id, 'grade', 'A');
    a.set(id, 'grade', 'B');
    const [episode, note, inc1, inc2, tag, untag, set1, set2] = sizes;
    console.log('update bytes:', { episode, note, inc1, inc2, tag, untag, set1, set2 });
    expect(sizes).toHaveLength(8);
  });

  it('apply throughput of small updates', () => {
    const a = new AgentMemoryDoc({ node: 'n1', random: seeded(1) });
    const updates: Uint8Array[] = [];
    const id = a.addEpisode({ task: 't', outcome: 'o' }, { now: 1 });
    // Both receivers start with the episode, then apply 5000 small updates one by one.
    const bootstrap = Y.encodeStateAsUpdate(a.doc);
    a.onChange((c) => updates.push(c.update));
    for (let i = 0; i < 5000; i++) {
      if (i % 2 === 0) a.increment(id, 'uses', 1);
      else a.appendNote(id, 'x');
    }
    // Each path runs twice on fresh receivers; the second, JIT-warm pass is reported.
    const validatedPass = (): { ms: number; result: AgentMemoryDoc } => {
      const receiver = new AgentMemoryDoc({ node: 'n2', random: seeded(2) });
      receiver.applyRemote(bootstrap, 'p');
      return timed(() => {
        updates.forEach((u) => receiver.applyRemote(u, 'p'));
        return receiver;
      });
    };
    const rawPass = (): { ms: number } => {
      const receiver = new Y.Doc();
      Y.applyUpdate(receiver, bootstrap);
      return timed(() => updates.forEach((u) => Y.applyUpdate(receiver, u)));
    };
    validatedPass();
    rawPass();
    const v = validatedPass();
    const r = rawPass();
    const validated = v.result;
    const perSec = (ms: number): number => Math.round((updates.length / ms) * 1000);
    const avgBytes = updates.reduce((s, u) => s + u.byteLength, 0) / updates.length;
    console.log('apply throughput:', {
      updates: updates.length,
      avgBytes: Number(avgBytes.toFixed(1)),
      validatedPerSec: perSec(v.ms),
      rawYjsPerSec: perSec(r.ms),
    });
    expect(validated.get(id)).toEqual(a.get(id));
  });

  it('digest cost on a large document versus a full encode', () => {
    const a = new AgentMemoryDoc({ node: 'n1', random: seeded(1) });
    for (let i = 0; i < 2000; i++) {
      const id = a.addEpisode({ task: `task ${i}`, outcome: 'ok', note: 'n'.repeat(200), tags: ['a', 'b'] }, { now: i });
      a.increment(id, 'uses', 1);
      a.untag(id, 'a');
    }
    const digest = timed(() => computeDocDigest(a.doc));
    const encode = timed(() => Y.encodeStateAsUpdate(a.doc));
    console.log('2000 episodes:', {
      snapshotBytes: encode.result.byteLength,
      digestMs: Number(digest.ms.toFixed(2)),
      encodeMs: Number(encode.ms.toFixed(2)),
    });
    expect(digest.result.byteLength).toBe(32);
  });
});
