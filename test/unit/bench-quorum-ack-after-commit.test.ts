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
  /** With `asyncSync`: the fsyncs the store was asked for and not yet finished (resolve one to finish it). */
  syncs: Array<() => void>;
  /** Notifications this node sent, by receiver. */
  sent: Map<string, number>;
  handler?: (payload: Uint8Array) => void;
}

/** `soon`: give the runtime scheduler.soon (as real nodes have), queued until endTurn runs it. */
/** Configuration `epoch` with `names` as its voters. */
function configOf(names: string[], epoch: number): VoterConfig {
  return { epoch, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: `${epoch}/b` };
}

function makeNode(name: string, names: string[], net: Map<string, Node>, opts: { soon?: boolean; asyncSync?: boolean } = {}): Node & { gate: QuorumGate } {
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
  const syncs: Array<() => void> = [];
  if (opts.asyncSync) {
    // As SqliteStore: the batch is written at once, its fsync finishes later (when the test says).
    Object.assign(store, {
      appendManyUnsynced: (e: readonly AppendEntry[]) => store.appendMany(e),
      syncAppends: () => new Promise<void>((resolve) => syncs.push(resolve)),
    });
  }
  const node = { name, store, immediates, soons, syncs, sent: new Map<string, number>() } as unknown as Node;
  const rpc = {
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

it('with the fsync off the event loop (SqliteStore: WAL fdatasync on the thread pool): acks and the write wait for the sync, not only the write', async () => {
  const net = new Map<string, Node>();
  const names = ['a', 'b', 'c'];
  const [a, b] = names.map((n) => makeNode(n, names, net, { soon: true, asyncSync: true })) as unknown as [Node, Node, Node];
  let resolved = false;
  const w = a.service.memory('x').addEpisode({ task: 't1', outcome: 'ok' }).then(() => (resolved = true));
  endTurn(a);
  expect(appended(a.store)).toBe(1);
  expect(a.syncs).toHaveLength(1);
  // b wrote the update but its fsync has not returned: no ack.
  endTurn(b);
  expect(appended(b.store)).toBe(1);
  await Promise.resolve();
  expect(b.sent.size).toBe(0);
  b.syncs.shift()!();
  await new Promise((r) => setImmediate(r));
  expect(b.sent.get('a')).toBe(1);
  // a has its majority but its own copy is not synced yet.
  expect(resolved).toBe(false);
  a.syncs.shift()!();
  await w;
  expect(resolved).toBe(true);
});
