// The exact guarantee under group commit (MemoryService on a runtime with scheduler.immediate):
// a replica acknowledges only after its commit returned, and a write resolves only once a
// majority acknowledged AND its own copy is committed, whatever the order those happen in.
// With scheduler.soon too (real nodes), the pushes of one turn's writes leave together at the end
// of the turn, and still before the writer's own commit.
import { expect, it } from 'vitest';
import { MemoryService } from '../../src/memory/memory-service.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import { silentLogger } from '../../src/node/logger.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { AppendEntry } from '../../src/storage/types.js';
import type { RpcEndpoint } from '../../src/rpc/endpoint.js';
import type { Runtime } from '../../src/runtime/types.js';

interface Node {
  name: string;
  service: MemoryService;
  store: MemoryStore;
  immediates: Array<() => void>;
  soons: Array<() => void>;
  /** With `deferredSync`: callbacks of commits whose (simulated) fsync has not finished. */
  syncs: Array<(err?: Error) => void>;
  /** Notifications this node sent, by receiver. */
  sent: Map<string, number>;
  handler?: (payload: Uint8Array) => void;
}

/** `soon`: give the runtime scheduler.soon (as real nodes have), queued until endTurn runs it. */
/** Configuration `epoch` with `names` as its voters. */
function configOf(names: string[], epoch: number): VoterConfig {
  return { epoch, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: `${epoch}/b`, replicationFactor: 3 };
}

/** `deferredSync`: the store commits at once but reports durability only when the test runs `syncs` (SqliteStore.appendManyThenSync). */
/** `syncIdle`: the store also says when no sync runs (SqliteStore.syncIdle): a write then commits as soon as it returns. */
function makeNode(name: string, names: string[], net: Map<string, Node>, opts: { soon?: boolean; deferredSync?: boolean; syncIdle?: boolean } = {}): Node & { gate: QuorumGate } {
  const immediates: Array<() => void> = [];
  const soons: Array<() => void> = [];
  let seed = names.indexOf(name) + 1;
  const runtime: Runtime = {
    clock: { now: () => 0 },
    scheduler: {
      schedule: () => () => undefined,
      immediate: (fn) => void immediates.push(fn),
      ...(opts.soon ? { soon: (fn: () => void) => void soons.push(fn) } : {}),
    },
    // Distinct values (episode ids are drawn from it); a constant would repeat ids.
    rng: { next: () => ((seed = (seed * 48271) % 2147483647) / 2147483647) },
    logger: silentLogger(),
  };
  const store = new MemoryStore({ nodeId: name, name });
  const syncs: Array<(err?: Error) => void> = [];
  if (opts.deferredSync) {
    (store as MemoryStore & { appendManyThenSync?: unknown }).appendManyThenSync = (e: readonly AppendEntry[], synced: (err?: Error) => void): number[] => {
      const seqs = store.appendMany(e);
      syncs.push(synced);
      return seqs;
    };
    if (opts.syncIdle) (store as MemoryStore & { syncIdle?: () => boolean }).syncIdle = () => syncs.length === 0;
  }
  const node = { name, store, immediates, soons, syncs, sent: new Map<string, number>() } as unknown as Node;
  const rpc = {
    // Request handlers (the replica-set questions) are not exercised here.
    handle: () => undefined,
    onNotify: (_m: string, _a: string, fn: (p: Uint8Array) => void) => {
      node.handler = fn;
    },
    // Delivered at once (synchronously), as if the network took no time.
    notify: (to: string, _m: string, payload: Uint8Array) => {
      node.sent.set(to, (node.sent.get(to) ?? 0) + 1);
      net.get(to)!.handler!(payload);
      return Promise.resolve();
    },
  } as unknown as RpcEndpoint;
  // Every node on configuration 1, whose voters are `names`.
  const members = (): QuorumMember[] => names.map((n) => ({ name: n, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 2 }));
  const gate = new QuorumGate(name, members, 10_000, silentLogger());
  gate.adopt(configOf(names, 1));
  node.service = new MemoryService({ self: name, runtime, store, rpc, gate, addressOf: (n) => n });
  for (const n of names) node.service.addPeer(n);
  net.set(name, node);
  return Object.assign(node, { gate });
}

function runImmediates(n: Node): void {
  for (const fn of n.immediates.splice(0)) fn();
}

/** The rest of a Node.js turn, in its order: nextTick callbacks (soon) before setImmediate ones. */
function endTurn(n: Node): void {
  while (n.soons.length > 0) n.soons.shift()!();
  runImmediates(n);
}

function appended(store: MemoryStore): number {
  return store.docIds().reduce((a, id) => a + store.docStats(id).lastSeq, 0);
}

it('acks only after the replica committed; resolves only after our own commit too', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b, c] = names.map((n) => makeNode(n, names, net)) as unknown as [Node, Node, Node];
  const batches: number[] = [];
  const appendMany = b.store.appendMany.bind(b.store);
  b.store.appendMany = (e: readonly AppendEntry[]) => (batches.push(e.length), appendMany(e));

  let resolved = false;
  const w1 = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' }).then(() => (resolved = true));
  const w2 = a.service.memory('x').addEpisode({ task: 't2', outcome: 'ok' });
  // The pushes went out at once; the replicas applied them but stored nothing and acked nothing yet.
  expect(b.service.memory('x').list()).toHaveLength(2);
  expect(appended(b.store)).toBe(0);
  expect(appended(a.store)).toBe(0);

  // b commits both updates in one batch, then acks: a has a majority of acks but not its own copy.
  runImmediates(b);
  expect(batches).toEqual([2]);
  await Promise.resolve();
  expect(resolved).toBe(false);

  // a's own commit completes the write.
  runImmediates(a);
  expect(appended(a.store)).toBe(2);
  await w1;
  await w2;
  expect(resolved).toBe(true);
  runImmediates(c);
  expect(appended(c.store)).toBe(2);
});

it('with scheduler.soon: the pushes of a turn leave as one frame per peer, before the writer commits, and acks still wait for the replica commit', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b, c] = names.map((n) => makeNode(n, names, net, { soon: true })) as unknown as [Node, Node, Node];
  // What each replica held when a's commit (its fsync) ran.
  const heldAtCommit: number[] = [];
  const appendMany = a.store.appendMany.bind(a.store);
  a.store.appendMany = (e: readonly AppendEntry[]) => (heldAtCommit.push(b.service.memory('x').list().length, c.service.memory('x').list().length), appendMany(e));

  let resolved = false;
  const w1 = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' }).then(() => (resolved = true));
  const w2 = a.service.memory('x').addEpisode({ task: 't2', outcome: 'ok' });
  // Both writes' pushes wait for the end of the turn.
  expect(a.sent.size).toBe(0);
  expect(b.service.memory('x').list()).toHaveLength(0);

  // a's turn ends: the pushes go first (one frame per peer for both writes), then a's commit.
  endTurn(a);
  expect(heldAtCommit).toEqual([2, 2]);
  expect(a.sent.get('b')).toBe(1);
  expect(a.sent.get('c')).toBe(1);
  expect(appended(a.store)).toBe(2);
  // The replicas applied both updates but neither stored nor acknowledged them yet.
  expect(appended(b.store)).toBe(0);
  expect(b.sent.size).toBe(0);
  await Promise.resolve();
  expect(resolved).toBe(false);

  // b commits both in one batch, then acks both in one frame: a has its majority.
  endTurn(b);
  expect(appended(b.store)).toBe(2);
  expect(b.sent.get('a')).toBe(1);
  await w1;
  await w2;
  expect(resolved).toBe(true);
  endTurn(c);
  expect(appended(c.store)).toBe(2);
});

it('a single voter resolves only after its own commit', async () => {
  const net = new Map<string, Node>();
  const a = makeNode('a', ['a'], net);
  let resolved = false;
  const w = a.service.memory('x').addEpisode({ task: 't', outcome: 'ok' }).then(() => (resolved = true));
  await Promise.resolve();
  expect(resolved).toBe(false);
  runImmediates(a);
  await w;
  expect(appended(a.store)).toBe(1);
});

it('an ack from a member on another voter configuration does not count, even while the writer counts that member', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b'];
  const [a, b] = names.map((n) => makeNode(n, names, net)) as [Node & { gate: QuorumGate }, Node & { gate: QuorumGate }];
  // b moved to configuration 2; a's view of b (its metadata) still says configuration 1.
  b.gate.adopt(configOf(names, 2));
  expect(a.gate.verdict().writable).toBe(true);
  let resolved = false;
  const w = a.service.memory('x').addEpisode({ task: 'fenced', outcome: 'ok' }).then(() => (resolved = true));
  runImmediates(b); // b stores the push and acks it, with its configuration word
  runImmediates(a); // a's own copy is committed
  await new Promise((r) => setTimeout(r, 10)); // every promise the acks could settle has run
  expect(appended(b.store)).toBe(1);
  expect(resolved).toBe(false); // 1 of 2 voters on a's configuration stored it: not acknowledged
  // Once a is on b's configuration too, b's acks count: the next write is acknowledged.
  a.gate.adopt(configOf(names, 2));
  const w2 = a.service.memory('x').addEpisode({ task: 'counted', outcome: 'ok' });
  runImmediates(b);
  runImmediates(a);
  await w2;
  void w;
});

it('with the fsync off the event loop: a replica acks only in its sync callback, and the write resolves only after the writer\'s own sync', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b, c] = names.map((n) => makeNode(n, names, net, { soon: true, deferredSync: true })) as unknown as [Node, Node, Node];
  let resolved = false;
  const w = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' }).then(() => (resolved = true));
  endTurn(a); // pushes out, a's rows written, its sync pending
  expect(appended(a.store)).toBe(1);
  expect(a.syncs).toHaveLength(1);
  endTurn(b);
  endTurn(c);
  // Written but not yet synced: no ack leaves either replica.
  expect(appended(b.store)).toBe(1);
  expect(b.sent.size).toBe(0);
  expect(c.sent.size).toBe(0);
  b.syncs.splice(0).forEach((done) => done());
  expect(b.sent.get('a')).toBe(1);
  c.syncs.splice(0).forEach((done) => done());
  await new Promise((r) => setTimeout(r, 10));
  // A majority acknowledged, but a's own copy is not yet durable.
  expect(resolved).toBe(false);
  a.syncs.splice(0).forEach((done) => done());
  await w;
  expect(resolved).toBe(true);
});

it('with the fsync off the event loop: a failed sync fails the write and sends no ack', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b, c] = names.map((n) => makeNode(n, names, net, { soon: true, deferredSync: true })) as unknown as [Node, Node, Node];
  const w = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' });
  const failed = w.then(
    () => undefined,
    (err: Error) => err,
  );
  endTurn(a);
  endTurn(b);
  endTurn(c);
  b.syncs.splice(0).forEach((done) => done(new Error('disk gone')));
  expect(b.sent.size).toBe(0);
  c.syncs.splice(0).forEach((done) => done());
  a.syncs.splice(0).forEach((done) => done(new Error('disk gone')));
  expect((await failed)?.message).toBe('disk gone');
});

it('with no fsync running, a write commits its own copy as soon as it returns (after its pushes), not at the end of the turn; while one runs, the turn\'s writes share the next commit', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b, c] = names.map((n) => makeNode(n, names, net, { soon: true, deferredSync: true, syncIdle: true })) as unknown as [Node, Node, Node];
  const order: string[] = [];
  const appendMany = a.store.appendMany.bind(a.store);
  a.store.appendMany = (e: readonly AppendEntry[]) => (order.push(`commit ${e.length} (b holds ${b.service.memory('x').list().length})`), appendMany(e));
  let resolved = false;
  const w1 = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' }).then(() => (resolved = true));
  // Only the nextTick-phase work of a's turn: the pushes leave, then a's commit starts its sync.
  while (a.soons.length > 0) a.soons.shift()!();
  expect(order).toEqual(['commit 1 (b holds 1)']);
  expect(a.syncs).toHaveLength(1);
  runImmediates(a); // the end-of-turn flush finds nothing left: no second commit, no empty sync
  expect(order).toHaveLength(1);
  expect(a.syncs).toHaveLength(1);
  // A sync runs now: the next two writes of one turn wait for the end of it and share one commit.
  const w2 = a.service.memory('x').addEpisode({ task: 't2', outcome: 'ok' });
  const w3 = a.service.memory('x').addEpisode({ task: 't3', outcome: 'ok' });
  while (a.soons.length > 0) a.soons.shift()!();
  expect(order).toHaveLength(1);
  runImmediates(a);
  expect(order).toEqual(['commit 1 (b holds 1)', 'commit 2 (b holds 3)']);
  // Durability rules unchanged: a majority's acks and our own sync, nothing less.
  for (const r of [b, c]) endTurn(r);
  for (const r of [b, c]) r.syncs.splice(0).forEach((done) => done());
  await new Promise((r) => setTimeout(r, 10));
  expect(resolved).toBe(false);
  a.syncs.splice(0).forEach((done) => done());
  await Promise.all([w1, w2, w3]);
  expect(resolved).toBe(true);
});
