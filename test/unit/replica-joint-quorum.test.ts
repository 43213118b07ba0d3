// The quorum arithmetic of moves and consistency levels: joint plans (a majority of the current
// replica set and of each previous set a document is still moving from), `all` (every replica),
// the QuorumError naming the set that lacks a majority, forced majority reads on a replica, and
// the move records (replica-moves.ts): kept in the store across a restart, one per change not
// known finished (a second change keeps both), a set whose majority is gone from the voters no
// longer counted, a completed move needing the current set only.
import { describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { MAX_MOVE_RECORDS, MOVES_KEY, ReplicaMoves } from '../../src/memory/replica-moves.js';
import { ReplicaView } from '../../src/memory/replica-view.js';
import { ReplicaScope } from '../../src/placement/replica-scope.js';
import { allAckPlan, assertSetsReachable, jointAckPlan, replicaAckPlan, replicaReadPlan } from '../../src/quorum/replica-quorum.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import type { Logger } from '../../src/runtime/types.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);

function config(voters: string[], epoch: number, rf = 3): VoterConfig {
  return { epoch, id: `${epoch}/t`, voters: voters.map((name) => ({ name, role: 'hybrid' as const })), removed: [], replicationFactor: rf };
}

class KvStore {
  readonly kv = new Map<string, string>();
  kvGet(k: string): string | undefined {
    return this.kv.get(k);
  }
  kvSet(k: string, v: string): void {
    this.kv.set(k, v);
  }
}

describe('jointAckPlan', () => {
  it('needs a majority of the current set and of every previous set; the writer counts where it is a member', () => {
    const plan = jointAckPlan('n0', replicaAckPlan('n0', ['n0', 'n1', 'n2']), [{ replicas: ['n0', 'n3', 'n4'], epoch: 7, role: 'previous' }]);
    expect([...plan.voters].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(plan.needed).toBe(1);
    expect(plan.complete(new Set())).toBe(false);
    expect(plan.complete(new Set(['n1']))).toBe(false); // the old set has n0 alone
    expect(plan.complete(new Set(['n3']))).toBe(false); // the new set has n0 alone
    expect(plan.complete(new Set(['n1', 'n3']))).toBe(true);
  });

  it('a writer in neither set needs both majorities from others; two previous sets need three majorities', () => {
    const prev = { replicas: ['n2', 'n3', 'n4'], epoch: 7, role: 'previous' as const };
    const one = jointAckPlan('n9', replicaAckPlan('n9', ['n0', 'n1', 'n2']), [prev]);
    expect(one.needed).toBe(2);
    expect(one.complete(new Set(['n0', 'n1', 'n3']))).toBe(false);
    expect(one.complete(new Set(['n1', 'n2', 'n3']))).toBe(true);
    const two = jointAckPlan('n9', replicaAckPlan('n9', ['n0', 'n1', 'n2']), [prev, { replicas: ['n4', 'n5', 'n6'], epoch: 6, role: 'previous' }]);
    expect(two.complete(new Set(['n1', 'n2', 'n3']))).toBe(false);
    expect(two.complete(new Set(['n1', 'n2', 'n3', 'n5', 'n6']))).toBe(true);
    expect(two.complete(new Set(['n1', 'n2', 'n3', 'n4']))).toBe(false); // n4 alone is no majority of n4, n5, n6
    expect(two.complete(new Set(['n1', 'n2', 'n4', 'n5']))).toBe(true); // n4 counts in both old sets
  });

  it('no previous set: the base plan itself', () => {
    const base = replicaAckPlan('n0', ['n0', 'n1', 'n2']);
    expect(jointAckPlan('n0', base, [])).toBe(base);
  });
});

describe('allAckPlan', () => {
  it('needs every replica but the writer', () => {
    const mine = allAckPlan('n0', ['n0', 'n1', 'n2']);
    expect(mine.needed).toBe(2);
    expect(mine.complete(new Set(['n1']))).toBe(false);
    expect(mine.complete(new Set(['n1', 'n2']))).toBe(true);
    const outside = allAckPlan('n9', ['n0', 'n1', 'n2']);
    expect(outside.needed).toBe(3);
    expect(outside.complete(new Set(['n0', 'n1']))).toBe(false);
    expect(outside.complete(new Set(['n0', 'n1', 'n2', 'n7']))).toBe(true);
  });
});

describe('assertSetsReachable', () => {
  const current = { replicas: ['n0', 'n1', 'n2'], epoch: 8, role: 'current' as const };
  const previous = { replicas: ['n0', 'n3', 'n4'], epoch: 7, role: 'previous' as const };

  it('a previous set without a reachable majority: QuorumError naming that set', () => {
    let err: unknown;
    try {
      assertSetsReachable('a1', [current, previous], new Set(['n0', 'n1', 'n2', 'n5']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuorumError);
    const q = err as QuorumError;
    expect(q.replicas).toEqual(['n0', 'n3', 'n4']);
    expect(q.data()).toMatchObject({ reachable: 1, voters: 3 });
    expect(q.message).toContain('previous replica set (n0, n3, n4, configuration 7)');
    // Across the wire only the message travels: the set is read back from it.
    expect(new QuorumError(q.message).replicas).toEqual(['n0', 'n3', 'n4']);
    expect(() => assertSetsReachable('a1', [current, previous], new Set(['n0', 'n1', 'n3']))).not.toThrow();
  });

  it('the current set comes first; `all` needs every current replica reachable, a majority of previous ones', () => {
    expect(() => assertSetsReachable('a1', [current, previous], new Set(['n0', 'n3']))).toThrow(/the replica set of agent a1 \(n0, n1, n2\) has no reachable majority/);
    expect(() => assertSetsReachable('a1', [current], new Set(['n0', 'n1']), 'all')).toThrow(/consistency 'all' needs every replica/);
    expect(() => assertSetsReachable('a1', [current, previous], new Set(['n0', 'n1', 'n2', 'n3']), 'all')).not.toThrow();
  });
});

describe('replicaReadPlan, forced (consistency majority)', () => {
  it('a replica on a set that did not move merges from a majority of it too', () => {
    const alive = new Set(names(7));
    expect(replicaReadPlan('n0', ['n0', 'n1', 'n2'], [], alive)).toBeUndefined();
    const p = replicaReadPlan('n0', ['n0', 'n1', 'n2'], [], alive, true)!;
    expect(p.targets.sort()).toEqual(['n1', 'n2']);
    expect(p.complete(new Set())).toBe(false);
    expect(p.complete(new Set(['n2']))).toBe(true);
  });

  it('several previous sets: a majority of each reachable one', () => {
    const p = replicaReadPlan('n9', ['n0', 'n1', 'n2'], [['n2', 'n3', 'n4'], ['n4', 'n5', 'n6']], new Set(names(7)))!;
    expect(p.complete(new Set(['n1', 'n2', 'n3']))).toBe(false);
    expect(p.complete(new Set(['n1', 'n2', 'n3', 'n5', 'n6']))).toBe(true);
  });
});

describe('ReplicaMoves', () => {
  // Agent documents whose set differs between 7 and 8 voters (n7 joins), and one whose set does not.
  const c7 = config(names(7), 10);
  const c8 = config(names(8), 11);
  const s7 = new ReplicaScope('n0', c7);
  const s8 = new ReplicaScope('n0', c8);
  const ids = Array.from({ length: 200 }, (_, i) => `agent/m${i}`);
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n) => b.includes(n));
  const moved = ids.find((id) => !same(s7.replicasOf(id)!, s8.replicasOf(id)!))!;
  const still = ids.find((id) => same(s7.replicasOf(id)!, s8.replicasOf(id)!))!;

  it('a change records the previous configuration; a moved document needs its old set until its move completed', () => {
    const store = new KvStore();
    const moves = new ReplicaMoves('n0', store, silent);
    moves.observe(c7);
    expect(moves.epochs()).toEqual([]);
    moves.observe(c8);
    expect(moves.epochs()).toEqual([10]);
    expect(moves.previousSets(moved, s8)).toEqual([{ replicas: s7.replicasOf(moved), epoch: 10, role: 'previous' }]);
    expect(moves.previousSets(still, s8)).toEqual([]);
    expect(moves.previousSets('tasks', s8)).toEqual([]);
    moves.markDone(moved, 11);
    expect(moves.previousSets(moved, s8)).toEqual([]);
    // The next change forgets the completion marks: they were about the set of configuration 11.
    const c9 = config(names(9), 12);
    moves.observe(c9);
    expect(moves.epochs()).toEqual([10, 11]);
    expect(moves.isDone(moved, 11)).toBe(false);
  });

  it('survives a restart, including a change the node adopted but had not recorded yet', () => {
    const store = new KvStore();
    const first = new ReplicaMoves('n0', store, silent);
    first.observe(c7);
    first.observe(c8);
    const again = new ReplicaMoves('n0', store, silent);
    expect(again.epochs()).toEqual([10]);
    expect(again.previousSets(moved, s8).map((p) => p.epoch)).toEqual([10]);
    // The gate's record had configuration 12 already when the node stopped: the 11 -> 12 change is recorded on start.
    const third = new ReplicaMoves('n0', store, silent);
    third.observe(config(names(9), 12));
    expect(third.epochs()).toEqual([10, 11]);
  });

  it('a second change before a move finished keeps both previous sets (each majority required)', () => {
    const moves = new ReplicaMoves('n0', new KvStore(), silent);
    const c9 = config(names(9), 12);
    const s9 = new ReplicaScope('n0', c9);
    moves.observe(c7);
    moves.observe(c8);
    moves.observe(c9);
    const twice = ids.find((id) => !same(s7.replicasOf(id)!, s8.replicasOf(id)!) && !same(s8.replicasOf(id)!, s9.replicasOf(id)!) && !same(s7.replicasOf(id)!, s9.replicasOf(id)!))!;
    expect(twice).toBeDefined();
    expect(moves.previousSets(twice, s9).map((p) => p.epoch)).toEqual([11, 10]);
  });

  it('a previous set whose majority left the voters is no longer required; records are bounded', () => {
    const moves = new ReplicaMoves('n0', new KvStore(), silent);
    moves.observe(c7);
    moves.observe(c8);
    const old = s7.replicasOf(moved)!;
    const gone = old.filter((n) => n !== 'n0').slice(0, 2); // two of its three old replicas leave the voter set
    const without = new ReplicaScope('n0', config(names(8).filter((n) => !gone.includes(n)), 12));
    expect(moves.previousSets(moved, without).some((p) => p.epoch === 10)).toBe(false);
    const oneGone = new ReplicaScope('n0', config(names(8).filter((n) => n !== gone[0]), 12));
    const stillNeeded = moves.previousSets(moved, oneGone).find((p) => p.epoch === 10);
    expect(stillNeeded?.replicas).toEqual(old); // one of three gone: two left to make its majority
    const bounded = new ReplicaMoves('n0', new KvStore(), silent);
    for (let e = 1; e <= MAX_MOVE_RECORDS + 4; e++) bounded.observe(config(names(4 + (e % 3)), e));
    expect(bounded.epochs()).toHaveLength(MAX_MOVE_RECORDS);
    expect(bounded.epochs()).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('an unreadable record is ignored (handoff still moves everything); full replication on both sides records nothing', () => {
    const store = new KvStore();
    store.kvSet(MOVES_KEY, '{"records":[{"epoch":"x"}]}');
    const moves = new ReplicaMoves('n0', store, silent);
    expect(moves.epochs()).toEqual([]);
    moves.observe(config(names(3), 1));
    moves.observe(config(names(2), 2));
    expect(moves.epochs()).toEqual([]);
  });
});

describe('ReplicaView during a move', () => {
  it('pushes to the old set too, takes updates as an old replica, and plans joint acks', () => {
    let cfg = config(names(7), 10);
    const view = new ReplicaView('n6', { voterConfig: () => cfg, pending: () => undefined, reachableVoters: () => new Set(names(8)), ackPlan: () => ({ voters: new Set(), needed: 0, complete: () => true }) }, new KvStore(), silent);
    const before = view.current();
    cfg = config(names(8), 11);
    const after = view.current();
    const id = Array.from({ length: 400 }, (_, i) => `agent/v${i}`).find((d) => before.isReplica(d) && !after.isReplica(d))!;
    expect(id).toBeDefined();
    expect(view.accepts(id)).toBe(true); // n6 is an old replica: joint writes need its ack
    const targets = view.pushTargets(id, names(8).filter((n) => n !== 'n6'));
    expect(new Set(targets)).toEqual(new Set([...before.replicasOf(id)!, ...after.replicasOf(id)!].filter((n) => n !== 'n6')));
    const plan = view.planFor(id);
    const newSet = after.replicasOf(id)!;
    const oldOthers = before.replicasOf(id)!.filter((n) => n !== 'n6' && !newSet.includes(n));
    expect(plan.complete(new Set(newSet.slice(0, 2)))).toBe(before.replicasOf(id)!.filter((n) => n === 'n6' || newSet.slice(0, 2).includes(n)).length >= 2);
    expect(plan.complete(new Set([...newSet, ...oldOthers]))).toBe(true);
    const waiting = view.planFor(id);
    view.moves.markDone(id, 11);
    // Still taken: a writer whose move is incomplete needs this old replica's ack whatever our mark says.
    expect(view.accepts(id)).toBe(true);
    // A plan made before the move completed settles on the current set's majority once it has.
    expect(waiting.complete(new Set(newSet.filter((n) => n !== 'n6').slice(0, 2)))).toBe(true);
    expect(view.planFor(id).complete(new Set(newSet.slice(0, 2)))).toBe(true);
  });
});
