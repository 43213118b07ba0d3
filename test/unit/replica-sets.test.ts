// The sans-IO pieces of replica sets: the per-configuration scope, the replica-set quorum, the
// subset digest tree, the sync engine under a scope (pushes to the replica set only, non-replicas
// refuse and do not ack, anti-entropy among co-replicas over shared documents, quiet when in
// sync), storage dropping a document, and handoff's drop rule (a majority of same-configuration
// acks, and the document unchanged since the push).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { Handoff } from '../../src/memory/handoff.js';
import { ReplicaView } from '../../src/memory/replica-view.js';
import { ReplicaScope } from '../../src/placement/replica-scope.js';
import { assertReplicaMajority, replicaAckPlan, replicaReadPlan } from '../../src/quorum/replica-quorum.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import type { Scheduler } from '../../src/runtime/types.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { DigestTree } from '../../src/sync/digest-tree.js';
import { hash16 } from '../../src/sync/hash.js';
import { LoopbackNet } from '../../src/sync/loopback.js';
import { encodeMessage } from '../../src/sync/messages.js';
import type { SyncEffect } from '../../src/sync/types.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'];

function config(names: string[], rf: number, epoch = 5): VoterConfig {
  return { epoch, id: `${epoch}/t`, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], replicationFactor: rf };
}

describe('ReplicaScope', () => {
  it('places agent documents on RF voters and everything else everywhere; no more voters than RF: unscoped', () => {
    const s = new ReplicaScope('n0', config(NAMES, 3));
    expect(s.enforced).toBe(true);
    const set = s.replicasOf('agent/a1')!;
    expect(set).toHaveLength(3);
    expect(new Set(set).size).toBe(3);
    expect(s.replicasOf('tasks')).toBeUndefined();
    expect(s.holds('n6', 'tasks')).toBe(true);
    expect(s.holds('learner-x', 'tasks')).toBe(true);
    const outsider = NAMES.find((n) => !set.includes(n))!;
    expect(s.holds(outsider, 'agent/a1')).toBe(false);
    expect(s.pushTargets('agent/a1', NAMES)).toEqual(NAMES.filter((n) => set.includes(n)));
    expect(s.pushTargets('tasks', NAMES)).toEqual(NAMES);
    expect(s.sharedWith(outsider)!('agent/a1')).toBe(false);
    expect(s.sharedWith(set[0]!)!('agent/a1')).toBe(true);
    // Every node on one configuration computes the same sets.
    for (const n of NAMES) expect(new ReplicaScope(n, config([...NAMES].reverse(), 3)).replicasOf('agent/a1')).toEqual(set);
    const all = new ReplicaScope('n0', config(NAMES.slice(0, 3), 3));
    expect(all.enforced).toBe(false);
    expect(all.replicasOf('agent/a1')).toBeUndefined();
    expect(all.isReplica('agent/a1')).toBe(true);
    expect(all.sharedWith('n1')).toBeUndefined();
  });
});

describe('replica-set quorum', () => {
  it('a strict majority of the set, the writer counted only when it is a replica', () => {
    const p = replicaAckPlan('n0', ['n0', 'n1', 'n2']);
    expect(p.needed).toBe(1);
    expect(p.complete(new Set())).toBe(false);
    expect(p.complete(new Set(['n5']))).toBe(false); // not a replica: does not count
    expect(p.complete(new Set(['n2']))).toBe(true);
    const outside = replicaAckPlan('n6', ['n0', 'n1', 'n2']);
    expect(outside.needed).toBe(2);
    expect(outside.complete(new Set(['n1']))).toBe(false);
    expect(outside.complete(new Set(['n1', 'n0']))).toBe(true);
    expect(replicaAckPlan('n0', ['n0']).needed).toBe(0);
  });

  it('no reachable majority: QuorumError naming the set, with counts and replicas that survive the wire', () => {
    expect(() => assertReplicaMajority('a', ['n0', 'n1', 'n2'], new Set(['n0', 'n1', 'n5']))).not.toThrow();
    let err: QuorumError | undefined;
    try {
      assertReplicaMajority('a', ['n2', 'n0', 'n1'], new Set(['n0', 'n5', 'n6', 'n3']));
    } catch (e) {
      err = e as QuorumError;
    }
    expect(err).toBeInstanceOf(QuorumError);
    expect(err!.exitCode).toBe(3);
    expect(err!.data()).toEqual({ reachable: 1, voters: 3, replicas: ['n2', 'n0', 'n1'] });
    // Across the wire only the message travels: a client rebuilds the same data from it.
    expect(new QuorumError(err!.message).data()).toEqual({ reachable: 1, voters: 3, replicas: ['n2', 'n0', 'n1'] });
  });
});

describe('DigestTree subset and remove', () => {
  it('a subset root equals the root of a tree over just those documents; remove takes a document out', () => {
    const digest = (id: string) => hash16(new TextEncoder().encode(`content of ${id}`));
    const full = new DigestTree(digest);
    const part = new DigestTree(digest);
    for (let i = 0; i < 300; i++) {
      full.markDirty(`d${i}`);
      if (i % 3 === 0) part.markDirty(`d${i}`);
    }
    const sub = full.subset((id) => Number(id.slice(1)) % 3 === 0);
    expect(Buffer.from(sub.root()).toString('hex')).toBe(Buffer.from(part.root()).toString('hex'));
    expect(sub.size).toBe(100);
    for (let i = 0; i < 300; i++) if (i % 3 !== 0) full.remove(`d${i}`);
    expect(Buffer.from(full.root()).toString('hex')).toBe(Buffer.from(part.root()).toString('hex'));
    expect(full.allDocs().sort()).toEqual(part.allDocs().sort());
  });
});

/** Seven engines on a loopback network, each scoped by its own view of one configuration. */
function scopedNet(rf = 3): LoopbackNet<YDocSet> {
  const n = new LoopbackNet<YDocSet>();
  const cfg = config(NAMES, rf);
  for (const name of NAMES) {
    const s = new ReplicaScope(name, cfg);
    n.add(name, new YDocSet(), undefined, { pushTargets: (d, p) => s.pushTargets(d, p), sharedWith: (p) => s.sharedWith(p), accepts: (d) => s.isReplica(d) });
  }
  return n;
}

function write(docs: YDocSet, id: string, key: string): void {
  docs.doc(id).getMap('m').set(key, key);
}

describe('sync engine under a replica scope', () => {
  it('pushes reach only the replica set; a non-replica refuses an update (no store, no ack)', () => {
    const n = scopedNet();
    const set = new ReplicaScope('n0', config(NAMES, 3)).replicasOf('agent/x')!;
    const writer = set[0]!;
    write(n.node(writer).docs, 'agent/x', 'k1');
    n.run();
    for (const name of NAMES) expect(n.node(name).docs.has('agent/x')).toBe(set.includes(name));
    // An outsider sent the update anyway (a stale or hostile peer): refused, counted, not acked.
    const outsider = NAMES.find((m) => !set.includes(m))!;
    const effects = n.node(outsider).engine.handle(writer, encodeUpdate(n, writer, outsider), 0);
    expect(effects.filter((e) => e.type === 'send')).toHaveLength(0);
    expect(n.node(outsider).docs.has('agent/x')).toBe(false);
    expect(n.node(outsider).engine.refused()).toBe(1);
  });

  it('a catch-up answer carrying a document the receiver is not a replica of is refused and counted, nothing stored', () => {
    const n = scopedNet();
    const set = new ReplicaScope('n0', config(NAMES, 3)).replicasOf('agent/x')!;
    const writer = set[0]!;
    write(n.node(writer).docs, 'agent/x', 'k1');
    n.run();
    const outsider = NAMES.find((m) => !set.includes(m))!;
    // As if answering a pull or a snapshot the outsider never asked for this document in.
    const update = n.node(writer).docs.diff('agent/x', Uint8Array.of(0));
    for (const mode of ['on_demand', 'full_snapshot'] as const) {
      const bytes = encodeMessage({ kind: 'doc-deltas', session: 7, mode, reply: true, entries: [{ id: 'agent/x', update }] });
      n.node(outsider).engine.handle(writer, bytes, 0);
    }
    expect(n.node(outsider).docs.has('agent/x')).toBe(false);
    expect(n.node(outsider).engine.refused()).toBe(2);
  });

  it('anti-entropy between co-replicas repairs only shared documents and is one quiet probe when in sync', () => {
    const n = scopedNet();
    const scope0 = new ReplicaScope('n0', config(NAMES, 3));
    // Many agents; pushes off, so only anti-entropy moves anything.
    n.continuous = false;
    const agents = Array.from({ length: 60 }, (_, i) => `agent/a${i}`);
    for (const id of agents) {
      const [first] = scope0.replicasOf(id)!;
      write(n.node(first!).docs, id, 'v');
    }
    // Rounds between every pair, both ways.
    for (let r = 0; r < 2; r++) for (const a of NAMES) for (const b of NAMES) if (a !== b) n.antiEntropy(a, b);
    for (const id of agents) {
      const set = scope0.replicasOf(id)!;
      for (const name of NAMES) expect(n.node(name).docs.has(id)).toBe(set.includes(name));
    }
    // In sync: one probe under 64 bytes, no answer.
    const [a, b] = scope0.replicasOf('agent/a0')!;
    const bSent = n.node(b!).engine.stats().sentBytes;
    expect(n.antiEntropy(a!, b!)).toBeLessThan(64);
    expect(n.node(b!).engine.stats().sentBytes).toBe(bSent);
  });
});

/** The bytes of an `update` message from `from` to `to` (taken from a real push). */
function encodeUpdate(n: LoopbackNet<YDocSet>, from: string, to: string): Uint8Array {
  const probe = n.node(from).engine.pushWhole('agent/x', [to]);
  const send = probe!.effects.find((e): e is Extract<SyncEffect, { type: 'send' }> => e.type === 'send');
  return send!.bytes;
}

describe('storage drops a document', () => {
  it('SQLite and memory stores forget every byte of it; DurableDocSet tells holders of its Y.Doc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-drop-'));
    try {
      for (const store of [new MemoryStore({ nodeId: 'x', name: 'x' }), SqliteStore.open({ dir, name: 'x' })]) {
        const docs = new DurableDocSet(store);
        docs.doc('agent/a').getMap('m').set('k', 'v');
        docs.doc('agent/b').getMap('m').set('k', 'w');
        store.compact('agent/a');
        docs.doc('agent/a').getMap('m').set('k2', 'v2');
        const evicted: string[] = [];
        docs.onEvict((id) => evicted.push(id));
        expect(docs.drop('agent/a')).toBe(true);
        expect(evicted).toEqual(['agent/a']);
        expect(docs.has('agent/a')).toBe(false);
        expect(store.docIds()).toEqual(['agent/b']);
        expect(store.loadDoc('agent/a')).toEqual([]);
        // A held update (group commit) blocks the drop: the document's newest state is not stored yet.
        docs.hold();
        docs.doc('agent/b').getMap('m').set('k3', 'x');
        expect(docs.drop('agent/b')).toBe(false);
        docs.release();
        expect(docs.drop('agent/b')).toBe(true);
        store.close();
      }
      // Reopened: nothing comes back.
      const again = SqliteStore.open({ dir, name: 'x' });
      expect(again.docIds()).toEqual([]);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('handoff', () => {
  function setup() {
    const docs = new DurableDocSet(new MemoryStore({ nodeId: 'n6', name: 'n6' }));
    let cfg = config(NAMES, 3);
    const view = new ReplicaView('n6', { voterConfig: () => cfg, pending: () => undefined, reachableVoters: () => new Set(NAMES), ackPlan: () => ({ voters: new Set(), needed: 0, complete: () => true }) });
    // An agent n6 is not a replica of.
    const agent = Array.from({ length: 100 }, (_, i) => `agent/h${i}`).find((id) => !view.current().isReplica(id))!;
    const replicas = view.current().replicasOf(agent)!;
    docs.doc(agent).getMap('m').set('k', 'v');
    const pushed: Array<{ id: string; targets: readonly string[]; requestId: number }> = [];
    const forgotten: string[] = [];
    let next = 1;
    const scheduler: Scheduler = { schedule: () => () => undefined };
    const h = new Handoff({
      view,
      docs,
      pushWhole: (id, targets) => {
        pushed.push({ id, targets, requestId: next });
        return { requestId: next++, effects: [] };
      },
      forgetDoc: (id) => forgotten.push(id),
      peers: () => NAMES,
      countsAck: (w) => w === 10,
      run: () => undefined,
      scheduler,
      now: () => 0,
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => undefined as never } as never,
    });
    return { docs, h, agent, replicas, pushed, forgotten, setConfig: (c: VoterConfig) => (cfg = c) };
  }

  it('drops only after a majority of the replica set acked on our configuration', () => {
    const { docs, h, agent, replicas, pushed, forgotten } = setup();
    h.round();
    expect(pushed).toEqual([{ id: agent, targets: replicas, requestId: 1 }]);
    h.ack(1, replicas[0]!, 10);
    h.ack(1, 'n6', 10); // not a replica: ignored
    h.ack(1, replicas[1]!, 99); // another configuration: ignored
    expect(docs.has(agent)).toBe(true);
    h.ack(1, replicas[1]!, 10);
    expect(docs.has(agent)).toBe(false);
    expect(forgotten).toEqual([agent]);
    expect(h.dropped).toBe(1);
  });

  it('a document changed after the push is pushed again, not dropped', () => {
    const { docs, h, agent, replicas, pushed } = setup();
    h.round();
    docs.doc(agent).getMap('m').set('later', 'x');
    h.ack(1, replicas[0]!, 10);
    h.ack(1, replicas[1]!, 10);
    expect(docs.has(agent)).toBe(true);
    h.round();
    expect(pushed).toHaveLength(2);
    h.ack(2, replicas[0]!, 10);
    h.ack(2, replicas[2]!, 10);
    expect(docs.has(agent)).toBe(false);
  });

  it('a configuration change that makes us a replica again cancels the drop', () => {
    const { docs, h, agent, replicas, setConfig } = setup();
    h.round();
    // n6 becomes one of the only three voters: every voter holds everything.
    setConfig(config(['n6', ...replicas.slice(0, 2)], 3, 6));
    h.ack(1, replicas[0]!, 10);
    h.ack(1, replicas[1]!, 10);
    expect(docs.has(agent)).toBe(true);
  });
});

describe('replicaReadPlan', () => {
  const alive = new Set(NAMES);
  it('a replica whose set did not move reads locally; a non-replica needs a majority of the set', () => {
    expect(replicaReadPlan('n0', ['n0', 'n1', 'n2'], undefined, alive)).toBeUndefined();
    expect(replicaReadPlan('n0', ['n0', 'n1', 'n2'], ['n2', 'n1', 'n0'], alive)).toBeUndefined();
    const p = replicaReadPlan('n6', ['n0', 'n1', 'n2'], undefined, alive)!;
    expect(p.targets).toEqual(['n0', 'n1', 'n2']);
    expect(p.complete(new Set(['n0']))).toBe(false);
    expect(p.complete(new Set(['n0', 'n2']))).toBe(true);
  });

  it('during a move: majorities of the previous and of the current set; a new replica counts only where it is', () => {
    // n3 replaced n2: n3 is new and may not hold what n0 and n2 acknowledged on the last configuration.
    const p = replicaReadPlan('n3', ['n0', 'n1', 'n3'], ['n0', 'n1', 'n2'], alive)!;
    expect(p.targets.sort()).toEqual(['n0', 'n1', 'n2']);
    expect(p.complete(new Set(['n0']))).toBe(false);
    expect(p.complete(new Set(['n0', 'n1']))).toBe(true); // 2 of the previous set (n3 counts for the current one only)
    const outsider = replicaReadPlan('n6', ['n0', 'n1', 'n3'], ['n0', 'n1', 'n2'], alive)!;
    expect(outsider.complete(new Set(['n0', 'n3']))).toBe(false); // only 1 of the previous set
    expect(outsider.complete(new Set(['n0', 'n3', 'n2']))).toBe(true);
    // The previous set lost its majority (two of it downed): the current set is all there is.
    const lost = replicaReadPlan('n6', ['n0', 'n4', 'n5'], ['n0', 'n1', 'n2'], new Set(['n0', 'n4', 'n5', 'n6']))!;
    expect(lost.complete(new Set(['n0', 'n4']))).toBe(true);
  });
});

describe('replicaReadPlan with one replica', () => {
  it('a replica new to a set of one reads once the previous holder answered (or at once if it is gone)', () => {
    const p = replicaReadPlan('n3', ['n3'], ['n2'], new Set(NAMES))!;
    expect(p.targets).toEqual(['n2']);
    expect(p.complete(new Set())).toBe(false);
    expect(p.complete(new Set(['n2']))).toBe(true);
    expect(replicaReadPlan('n3', ['n3'], ['n2'], new Set(['n3']))!.complete(new Set())).toBe(true);
  });
});
