// A task submit waits for admission (adoption-wait.ts) while the configuration moves on; a move
// may meanwhile drop the submitter's copy of the agent's task shard and make it again. The write
// must go into the shard's document as held when it runs (task-writes.ts `current`): written into
// the dropped one, it changed nothing stored, needed no acknowledgement, and the submit resolved
// with a task no node kept. Found by `tri fuzz --seed 1212 --nodes 7 --replication-factor 3`
// (run 158, "lost-task": n2, wiped and re-admitted, submitted during epochs 7 -> 8 -> 9, where 8
// made it a non-replica of tasks/echo and 9 a replica again). The replay fails without the change.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';

describe('a task submit whose shard document was dropped and remade while it waited', () => {
  it('is kept by the shard (seed 1212, 7 nodes, RF 3, run 158)', async () => {
    const r = await runFuzz({ seed: 1212, runs: 1000, nodes: 7, replicationFactor: 3, replayPath: '157:21:31:28:30:28:30' });
    const f = r.failures[0];
    expect(f, f ? `${f.invariant} at ${f.when}: ${f.message}\nreplay: ${f.replay}` : '').toBeUndefined();
  }, 180_000);
});
