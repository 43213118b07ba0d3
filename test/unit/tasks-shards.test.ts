// Tasks sharded with their agents, the pure parts: a shard's document and placement (the same
// replica set as the agent's memory), who schedules a shard (its first live replica, then the
// next), data-local routing (local-first prefers the agent's replicas) and the merge of pages
// from several members (each task once, furthest along; nothing skipped across pages).
import { describe, expect, it } from 'vitest';
import { ReplicaScope } from '../../src/placement/replica-scope.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import type { Candidate } from '../../src/tasks/candidates.js';
import { chooseDataLocal, route } from '../../src/tasks/routing.js';
import { mergeTaskPages } from '../../src/tasks/task-page.js';
import { shardAgent, shardDocId, shardScheduler } from '../../src/tasks/task-shard.js';
import type { TaskStatus, TaskView } from '../../src/tasks/task-state.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
const config = (names: string[], rf: number): VoterConfig => ({ epoch: 4, id: '4/t', voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], replicationFactor: rf });

function c(name: string, o: Partial<Candidate> = {}): Candidate {
  return { name, local: false, freeSlots: 4, slots: 4, inFlight: 0, rttMs: 10, throughputBytesPerSec: null, state: 'ACTIVE', ...o };
}
const chosen = (r: ReturnType<typeof chooseDataLocal>) => (r.ok ? r.node : r.reason);

function view(id: string, at: number, status: TaskStatus = 'done', attempts = 1): TaskView {
  return { id, type: 'echo', agent: 'a', input: null, strategy: 'local-first', status, node: null, attempts, maxAttempts: 3, lease: null, result: null, error: null, submittedAt: at, finishedAt: null };
}

describe('task shards: documents and placement', () => {
  it('names a shard per agent id; an id that cannot name a document has no shard', () => {
    expect(shardDocId('planner-1')).toBe('tasks/planner-1');
    expect(shardAgent('tasks/planner-1')).toBe('planner-1');
    expect(shardAgent('agent/planner-1')).toBeUndefined();
    expect(shardAgent('tasks')).toBeUndefined();
    for (const bad of ['', 'has space', 'a/b', 'x'.repeat(129)]) expect(shardDocId(bad), bad).toBeUndefined();
  });

  it("a shard is placed on its agent's memory replica set; with no more voters than RF it is unplaced (every voter)", () => {
    const s = new ReplicaScope('n0', config(NAMES, 3));
    for (const agent of ['a1', 'planner', 'echo', 'z@9']) {
      const set = s.replicasOf(`tasks/${agent}`)!;
      expect(set).toHaveLength(3);
      expect(set).toEqual(s.replicasOf(`agent/${agent}`));
    }
    expect(s.replicasOf('tasks')).toBeUndefined(); // the cluster-wide table stays on every voter
    const full = new ReplicaScope('n0', config(NAMES.slice(0, 3), 3));
    expect(full.enforced).toBe(false);
    expect(full.replicasOf('tasks/a1')).toBeUndefined();
  });

  it('the scheduler is the first live replica in rendezvous order, then the next', () => {
    const replicas = ['n4', 'n1', 'n6'];
    expect(shardScheduler(replicas, () => true)).toBe('n4');
    expect(shardScheduler(replicas, (n) => n !== 'n4')).toBe('n1');
    expect(shardScheduler(replicas, (n) => n === 'n6')).toBe('n6');
    expect(shardScheduler(replicas, () => false)).toBeUndefined();
  });
});

describe('data-local routing (local-first for a sharded task)', () => {
  const replicas = new Set(['r1', 'r2', 'self']);
  it('this node when it is a replica with a free slot', () => {
    expect(chosen(chooseDataLocal([c('a', { rttMs: 1 }), c('r1'), c('self', { local: true, rttMs: null })], replicas))).toBe('self');
  });
  it('otherwise the cheapest replica with a free slot, even when a non-replica is cheaper', () => {
    const cands = [c('a', { rttMs: 1 }), c('r1', { rttMs: 30 }), c('r2', { rttMs: 5 }), c('self', { local: true, rttMs: null, freeSlots: 0 })];
    expect(chosen(chooseDataLocal(cands, replicas))).toBe('r2');
    expect(chosen(chooseDataLocal(cands, new Set(['r1', 'r2'])))).toBe('r2');
  });
  it('every replica busy or not ACTIVE: local-first over everyone', () => {
    const cands = [c('a', { rttMs: 1 }), c('b', { rttMs: 9 }), c('r1', { freeSlots: 0 }), c('r2', { state: 'DEGRADED' }), c('self', { local: true, rttMs: null, freeSlots: 0 })];
    expect(chosen(chooseDataLocal(cands, replicas))).toBe('a');
    expect(chosen(chooseDataLocal([c('r1', { freeSlots: 0 })], replicas))).toBe('no-free-slots');
  });
  it('route(): only local-first uses the replica set; without one local-first is unchanged', () => {
    const cands = [c('r1', { rttMs: 50 }), c('self', { local: true, rttMs: null })];
    const ctx = { random: () => 0, payloadBytes: 0, cursor: null };
    expect(chosen(route('local-first', cands, { ...ctx, replicas: new Set(['r1']) }).choice)).toBe('r1');
    expect(chosen(route('local-first', cands, ctx).choice)).toBe('self');
    expect(chosen(route('round-robin', cands, { ...ctx, replicas: new Set(['r1']) }).choice)).toBe('r1'); // name order, as before
  });
});

describe('mergeTaskPages', () => {
  it('keeps each task once, the copy furthest along, newest first', () => {
    const p = mergeTaskPages([{ items: [view('b', 20, 'running'), view('a', 10)] }, { items: [view('b', 20, 'done', 2), view('c', 15)] }], { limit: 10 });
    expect(p.items.map((v) => [v.id, v.status])).toEqual([['b', 'done'], ['c', 'done'], ['a', 'done']]);
    expect(p.next).toBeUndefined();
  });
  it('stops at the newest cursor of a page that has more, so the next page skips nothing', () => {
    // Member A stopped after its item at 50 (it has older ones); B's items at 40 and 30 must wait.
    const p = mergeTaskPages([{ items: [view('x', 60), view('y', 50)], next: '50:y' }, { items: [view('u', 55), view('v', 40), view('w', 30)] }], { limit: 10 });
    expect(p.items.map((v) => v.id)).toEqual(['x', 'u', 'y']);
    expect(p.next).toBe('50:y');
  });
  it('at most `limit` items; the cursor then names the last one', () => {
    const p = mergeTaskPages([{ items: [view('a', 9), view('b', 8)] }, { items: [view('c', 7), view('d', 6)] }], { limit: 3 });
    expect(p.items.map((v) => v.id)).toEqual(['a', 'b', 'c']);
    expect(p.next).toBe('7:c');
  });
});
