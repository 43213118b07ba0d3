// The member directory (src/node/member-directory.ts): projections kept per member event, each
// array rebuilt only when a row of it changed, and reads that match the member table.
import { describe, expect, it } from 'vitest';
import type { MemberEvent, MemberInfo, MemberState } from '../../gossip/swim.js';
import { MemberDirectory, type DirectorySource } from '../../src/node/member-directory.js';
import { encodeMeta, PROTOCOL_VERSION, type NodeMeta } from '../../src/node/meta.js';
import type { LifecycleState } from '../../src/node/lifecycle.js';

function meta(patch: Partial<NodeMeta> = {}): NodeMeta {
  return { role: 'hybrid', slots: 4, freeSlots: 4, rpcPort: 7000, httpPort: 0, protocol: PROTOCOL_VERSION, lifecycle: 'ACTIVE', nodeId: 'id', configWord: 2, ...patch };
}

function record(name: string, address: string, state: MemberState = 'alive', m: Partial<NodeMeta> = {}, changedAt = 0): MemberInfo {
  return { name, address, meta: encodeMeta(meta(m)), incarnation: 1, state, stateChangedAt: changedAt };
}

/** A directory for node "self" over a table the test edits, as SWIM would, with the event. */
function setup() {
  const table = new Map<string, MemberInfo>([['self', record('self', '127.0.16.1:7946')]]);
  let lifecycle: LifecycleState = 'ACTIVE';
  const verified = new Map<string, number>();
  const src: DirectorySource = {
    self: 'self',
    peek: (name) => table.get(name),
    ownMeta: () => meta({ lifecycle }),
    ownLifecycle: () => lifecycle,
    ownWord: () => 2,
    countedWord: (name, gossiped) => verified.get(name) ?? gossiped,
    throughput: (name) => (name === 'b' ? 1000 : null),
    ownFreeSlots: () => 3,
  };
  const dir = new MemberDirectory(src);
  const event = (kind: MemberEvent['kind'], m: MemberInfo): void => {
    if (kind === 'reap') table.delete(m.name);
    else table.set(m.name, m);
    dir.apply({ kind, member: { ...m, meta: m.meta.slice() } });
  };
  return { dir, event, table, verified, setLifecycle: (s: LifecycleState) => (lifecycle = s) };
}

describe('member directory', () => {
  it('keeps the quorum rows of the member table, in table order, ourselves first', () => {
    const { dir, event } = setup();
    event('join', record('b', '127.0.16.3:7946'));
    event('join', record('a', '127.0.16.2:7946', 'alive', { role: 'worker', lifecycle: 'SYNCING' }));
    expect(dir.quorumMembers().map((q) => [q.name, q.role, q.state, q.reachable, q.configWord])).toEqual([
      ['self', 'hybrid', 'ACTIVE', true, 2],
      ['b', 'hybrid', 'ACTIVE', true, 2],
      ['a', 'worker', 'SYNCING', true, 2],
    ]);
    expect(dir.size).toBe(3);
  });

  it('returns the same quorum array until a quorum row changes; a free-slot update leaves it', () => {
    const { dir, event } = setup();
    event('join', record('b', '127.0.16.3:7946'));
    const rows = dir.quorumMembers();
    const peers = dir.configPeers();
    const v = dir.version;
    event('update', record('b', '127.0.16.3:7946', 'alive', { freeSlots: 1 }));
    expect(dir.version).toBeGreaterThan(v);
    expect(dir.quorumMembers()).toBe(rows);
    expect(dir.configPeers()).toBe(peers);
    event('suspect', record('b', '127.0.16.3:7946', 'suspect', { freeSlots: 1 }, 5));
    const after = dir.quorumMembers();
    expect(after).not.toBe(rows);
    expect(after.find((q) => q.name === 'b')).toMatchObject({ reachable: false, state: 'ACTIVE', stateChangedAt: 5 });
    expect(dir.configPeers().find((p) => p.name === 'b')).toEqual({ name: 'b', address: '127.0.16.3:7946', word: 2, alive: false });
  });

  it('a member that showed a newer configuration counts with it once refreshed', () => {
    const { dir, event, verified } = setup();
    event('join', record('b', '127.0.16.3:7946'));
    verified.set('b', 4);
    dir.refreshWord('b');
    expect(dir.quorumMembers().find((q) => q.name === 'b')?.configWord).toBe(4);
    expect(dir.configPeers().find((p) => p.name === 'b')?.word).toBe(4);
  });

  it('follows our own lifecycle in quorum rows, routing and views', () => {
    const { dir, setLifecycle } = setup();
    const routing = dir.routingMembers();
    setLifecycle('DEGRADED');
    dir.refreshSelf();
    expect(dir.quorumMembers()[0]!.state).toBe('DEGRADED');
    expect(dir.routingMembers()).not.toBe(routing);
    expect(dir.routingMembers()[0]).toMatchObject({ name: 'self', state: 'DEGRADED', freeSlots: 3 });
    expect(dir.views()[0]).toMatchObject({ name: 'self', state: 'DEGRADED', address: '127.0.16.1', port: 7946 });
  });

  it('routing lists members by name with live RTT and throughput; views show FAILED and LEFT', () => {
    const { dir, event, table } = setup();
    event('join', record('c', '127.0.16.4:7946'));
    event('join', record('b', '127.0.16.3:7946', 'alive', { slots: 8, freeSlots: 5 }));
    table.get('b')!.rttMs = 1.234;
    const routing = dir.routingMembers();
    expect(routing.map((m) => m.name)).toEqual(['b', 'c', 'self']);
    expect(routing[0]).toMatchObject({ slots: 8, freeSlots: 5, rttMs: 1.23, throughputBytesPerSec: 1000 });
    event('dead', record('c', '127.0.16.4:7946', 'dead'));
    expect(dir.routingMembers().find((m) => m.name === 'c')?.state).toBe('FAILED');
    expect(dir.views().map((v) => [v.name, v.state, v.swimState])).toEqual([
      ['b', 'ACTIVE', 'alive'],
      ['c', 'FAILED', 'dead'],
      ['self', 'ACTIVE', 'alive'],
    ]);
    expect(dir.deadAddresses()).toEqual(['127.0.16.4:7946']);
  });

  it('forgets a reaped member everywhere, and names members by address and connection', () => {
    const { dir, event } = setup();
    event('join', record('b', '127.0.16.3:7946'));
    event('join', record('c', '127.0.16.4:7946'));
    expect(dir.nameAt('127.0.16.3:7946')).toBe('b');
    expect(dir.nameByConnection('127.0.16.4:7946', true)).toBe('c');
    expect(dir.nameByConnection('127.0.16.4:51234', false)).toBe('c');
    expect(dir.nameAtAddress('127.0.16.3:7946')).toBe('b');
    event('dead', record('b', '127.0.16.3:7946', 'dead'));
    event('reap', record('b', '127.0.16.3:7946', 'dead'));
    expect(dir.nameAt('127.0.16.3:7946')).toBeUndefined();
    expect(dir.quorumMembers().map((q) => q.name)).toEqual(['self', 'c']);
    expect(dir.routingMembers().map((m) => m.name)).toEqual(['c', 'self']);
    expect(dir.deadAddresses()).toEqual([]);
    expect(dir.size).toBe(2);
  });

  it('a member whose metadata does not decode shows what SWIM knows', () => {
    const { dir, event } = setup();
    const m = record('x', '127.0.16.9:7946');
    m.meta = new Uint8Array([255, 1, 2]);
    event('join', m);
    expect(dir.views().find((v) => v.name === 'x')).toMatchObject({ rpcPort: 0, role: 'hybrid', slots: 0, state: 'ACTIVE' });
    expect(dir.quorumMembers().find((q) => q.name === 'x')).toMatchObject({ state: 'JOINING', configWord: 0 });
  });
});
