// Client writes on a non-replica forwarded to a replica (src/memory/write-forward.ts), with the
// RPC endpoint and the replica view faked: which node writes, that the forwarder's own admission
// refuses before anything is sent, how a lost answer is reported, and what the replica accepts.
import { describe, expect, it } from 'vitest';
import { DecodeError, QuorumError, TimeoutError, TransportError, WriteTimeoutError } from '../../src/errors.js';
import { ReplicaScope } from '../../src/placement/replica-scope.js';
import { placementOf } from '../../src/placement/config-placement.js';
import { METHODS } from '../../src/rpc/methods.js';
import { jsonObject, toJsonPayload } from '../../src/rpc/json.js';
import type { RpcEndpoint } from '../../src/rpc/endpoint.js';
import type { ReplicaView } from '../../src/memory/replica-view.js';
import { forwardTargets, WriteForward, type LocalWrite } from '../../src/memory/write-forward.js';

const VOTERS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const config = { epoch: 7, voters: VOTERS.map((name) => ({ name })), replicationFactor: 3 };
const setOf = (agent: string): readonly string[] => placementOf(config).replicas(agent);
/** An agent `self` is not a replica of, with its replica set. */
function outsideAgent(self: string): { agent: string; set: readonly string[] } {
  for (let i = 0; ; i++) if (!setOf(`a${i}`).includes(self)) return { agent: `a${i}`, set: setOf(`a${i}`) };
}

interface Call {
  to: string;
  method: string;
  body: Record<string, unknown>;
}

function harness(self: string, opts: { moving?: boolean; alive?: string[]; refuse?: string[]; admit?: () => Promise<void> | undefined; answer?: (c: Call) => Promise<Uint8Array> } = {}) {
  const calls: Call[] = [];
  const handlers = new Map<string, (p: Uint8Array, ctx: { identity: string | undefined }) => Promise<Uint8Array> | Uint8Array>();
  const reads: Array<{ agent: string; level: string | undefined }> = [];
  const admits: string[][] = [];
  const rpc = {
    handle: (m: string, _access: string, fn: (p: Uint8Array, ctx: { identity: string | undefined }) => Promise<Uint8Array>) => handlers.set(m, fn),
    connect: async (to: string) => {
      if (opts.refuse?.includes(to)) throw new TransportError(`connect ${to}: refused`);
    },
    call: async (to: string, method: string, payload: Uint8Array) => {
      const c = { to, method, body: jsonObject(payload, 'test') };
      calls.push(c);
      return opts.answer ? opts.answer(c) : toJsonPayload({ ok: to });
    },
  } as unknown as RpcEndpoint;
  const scope = new ReplicaScope(self, config);
  const view = { current: () => scope, previousSets: () => (opts.moving ? [{ epoch: 6, replicas: ['n1', 'n2', 'n3'] }] : []) } as unknown as ReplicaView;
  const fwd = new WriteForward({
    self,
    rpc,
    addressOf: (n) => `addr-${n}`,
    view,
    peers: () => opts.alive ?? VOTERS.filter((n) => n !== self),
    admit: (docs) => (admits.push([...docs]), opts.admit?.()),
    beforeRead: async (agent, level) => void reads.push({ agent, level }),
    timeoutMs: 1000,
  });
  const local: string[] = [];
  const here: LocalWrite = async (a) => (local.push(String(a.agent)), toJsonPayload({ here: self }));
  return { fwd, calls, handlers, reads, admits, local, here };
}

describe('forwardTargets', () => {
  it('the live replicas in placement order for a non-replica; none on a replica, unenforced, moving, or with no live replica', () => {
    const { agent, set } = outsideAgent('n1');
    const scope = new ReplicaScope('n1', config);
    const doc = `agent/${agent}`;
    expect(forwardTargets(scope, false, new Set(VOTERS), doc)).toEqual(set);
    expect(forwardTargets(scope, false, new Set(set.slice(1)), doc)).toEqual(set.slice(1));
    expect(forwardTargets(scope, false, new Set(['n1']), doc)).toBeUndefined();
    expect(forwardTargets(scope, true, new Set(VOTERS), doc)).toBeUndefined();
    expect(forwardTargets(new ReplicaScope(set[0]!, config), false, new Set(VOTERS), doc)).toBeUndefined();
    expect(forwardTargets(new ReplicaScope('n1', { ...config, replicationFactor: 5 }), false, new Set(VOTERS), doc)).toBeUndefined();
  });
});

describe('WriteForward.run', () => {
  it('a non-replica admits the write, then sends it to the first live replica and answers with its reply', async () => {
    const { agent, set } = outsideAgent('n1');
    const h = harness('n1');
    const args = { agent, task: 't', outcome: 'ok', consistency: 'all' };
    const reply = jsonObject(await h.fwd.run(METHODS.memoryAdd, args, h.here), 'reply');
    expect(reply).toEqual({ ok: `addr-${set[0]}` });
    expect(h.admits).toEqual([[`agent/${agent}`]]);
    expect(h.calls).toEqual([{ to: `addr-${set[0]}`, method: METHODS.memoryForwardWrite, body: { from: 'n1', method: METHODS.memoryAdd, args } }]);
    expect(h.local).toEqual([]);
    expect(h.fwd.counts.writesForwarded).toBe(1);
  });

  it('a replica, a moving document, or bad arguments: written here, nothing sent', async () => {
    const { agent, set } = outsideAgent('n1');
    const onReplica = harness(set[0]!);
    await onReplica.fwd.run(METHODS.memoryAdd, { agent }, onReplica.here);
    const moving = harness('n1', { moving: true });
    await moving.fwd.run(METHODS.memoryAdd, { agent }, moving.here);
    const bad = harness('n1');
    await bad.fwd.run(METHODS.memoryAdd, { agent: 'no spaces allowed' }, bad.here);
    for (const x of [onReplica, moving, bad]) {
      expect(x.calls).toEqual([]);
      expect(x.local).toHaveLength(1);
    }
  });

  it('a replica no connection opens to (nothing sent) is skipped for the next; none reachable: written here as before', async () => {
    const { agent, set } = outsideAgent('n1');
    const h = harness('n1', { refuse: [`addr-${set[0]}`] });
    await h.fwd.run(METHODS.memoryAdd, { agent }, h.here);
    expect(h.calls.map((c) => c.to)).toEqual([`addr-${set[1]}`]);
    expect(h.local).toEqual([]);
    const none = harness('n1', { refuse: set.map((n) => `addr-${n}`) });
    await none.fwd.run(METHODS.memoryAdd, { agent }, none.here);
    expect(none.calls).toEqual([]);
    expect(none.local).toEqual([agent]);
    expect(none.fwd.counts.writesForwarded).toBe(0);
  });

  it("the forwarder's own refusal (read-only, no reachable majority of the set) comes first: QuorumError, nothing sent", async () => {
    const { agent } = outsideAgent('n1');
    const h = harness('n1', {
      admit: () => {
        throw new QuorumError(`the replica set of agent ${agent} has no reachable majority`);
      },
    });
    await expect(h.fwd.run(METHODS.memoryAdd, { agent }, h.here)).rejects.toBeInstanceOf(QuorumError);
    expect(h.calls).toEqual([]);
    expect(h.local).toEqual([]);
  });

  it("the replica's error is the caller's; a lost answer is a WriteTimeoutError naming the replica, not retried elsewhere", async () => {
    const { agent, set } = outsideAgent('n1');
    for (const [thrown, expected] of [
      [new QuorumError('no majority there'), QuorumError],
      [new TimeoutError('no answer'), WriteTimeoutError],
      [new TransportError('connection closed'), WriteTimeoutError],
    ] as const) {
      const h = harness('n1', { answer: () => Promise.reject(thrown) });
      const err = await h.fwd.run(METHODS.memoryAnnotate, { agent, id: 'x', op: 'tag', tag: 't' }, h.here).catch((e: Error) => e);
      expect(err).toBeInstanceOf(expected);
      if (expected === WriteTimeoutError) expect((err as Error).message).toContain(`forwarded to its replica ${set[0]}`);
      expect(h.calls).toHaveLength(1);
      expect(h.local).toEqual([]);
    }
  });
});

describe('WriteForward.serve (the replica side)', () => {
  const writes = (h: ReturnType<typeof harness>): Record<string, LocalWrite> => ({ [METHODS.memoryAdd]: h.here, [METHODS.memoryAnnotate]: h.here });

  it('runs the method here, never forwarding again; an edit merges from a majority of the set first', async () => {
    const { agent } = outsideAgent('n1');
    const h = harness('n1'); // not a replica any more: it writes here all the same
    h.fwd.serve(writes(h));
    const serve = h.handlers.get(METHODS.memoryForwardWrite)!;
    await serve(toJsonPayload({ from: 'n2', method: METHODS.memoryAdd, args: { agent } }), { identity: 'member:n2' });
    expect(h.reads).toEqual([]);
    await serve(toJsonPayload({ from: 'n2', method: METHODS.memoryAnnotate, args: { agent, id: 'x', op: 'note', text: 'n' } }), { identity: 'member:n2' });
    expect(h.reads).toEqual([{ agent, level: 'majority' }]);
    expect(h.local).toEqual([agent, agent]);
    expect(h.calls).toEqual([]);
    expect(h.fwd.counts.forwardedWritesServed).toBe(2);
  });

  it('refuses a method that is not a memory write, a sender that is not the caller, and malformed arguments; nothing runs', async () => {
    const h = harness('n1');
    h.fwd.serve(writes(h));
    const serve = h.handlers.get(METHODS.memoryForwardWrite)!;
    const bad = [
      [{ from: 'n2', method: METHODS.memoryShow, args: { agent: 'a' } }, 'member:n2'],
      [{ from: 'n2', method: 'toString', args: { agent: 'a' } }, 'member:n2'],
      [{ from: 'n3', method: METHODS.memoryAdd, args: { agent: 'a' } }, 'member:n2'],
      [{ from: 'n2', method: METHODS.memoryAdd, args: ['a'] }, 'member:n2'],
      [{ from: 'n2', method: METHODS.memoryAdd }, 'member:n2'],
    ] as const;
    for (const [body, identity] of bad) await expect(Promise.resolve().then(() => serve(toJsonPayload(body), { identity }))).rejects.toBeInstanceOf(DecodeError);
    await expect(Promise.resolve().then(() => serve(new TextEncoder().encode('{not json'), { identity: 'member:n2' }))).rejects.toBeInstanceOf(DecodeError);
    expect(h.local).toEqual([]);
    expect(h.fwd.counts.forwardedWritesServed).toBe(0);
  });
});
