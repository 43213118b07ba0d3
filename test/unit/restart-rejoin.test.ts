// After a full outage a restarted node must find its cluster again (issue 15's restart rules; the
// ops-restart test's "every node SIGKILLed" case failed when one of these did not hold):
// - a member seen for the first time is in the data directory well within a second, so a node
//   SIGKILLed right after it joined still knows its cluster when it comes back;
// - a node whose --join seeds are all down, but which a member that knew it reaches, is joined
//   (it stops waiting on the seeds) instead of staying JOINING for ever.
import { describe, expect, it } from 'vitest';
import type { MemberEvent } from '../../gossip/types.js';
import { joinWithBackoff } from '../../src/node/join.js';
import { silentLogger } from '../../src/node/logger.js';
import { keepMemberSnapshot, loadMemberSnapshot, type SnapshotNode } from '../../src/node/member-snapshot.js';
import { realRuntime } from '../../src/runtime/real.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeNode(): SnapshotNode & { emit(e: MemberEvent): void; stop(): Promise<void> } {
  const listeners: Array<(e: MemberEvent) => void> = [];
  const stops: Array<() => Promise<void> | void> = [];
  return {
    name: 'n3',
    members: () => [],
    contact: () => Promise.resolve(false),
    onMemberEvent: (l) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    onStopped: (h) => void stops.push(h),
    emit: (e) => listeners.forEach((l) => l(e)),
    stop: async () => {
      for (const h of stops) await h();
    },
  };
}

const alive = (name: string, address: string): MemberEvent => ({ kind: 'join', member: { name, address, meta: new Uint8Array(), incarnation: 1, state: 'alive', stateChangedAt: 0 } });

describe('restart after a full outage', () => {
  it('a member seen for the first time is written to the data directory within 200 ms', async () => {
    const store = new MemoryStore({ nodeId: 'abc', name: 'n3' });
    const node = fakeNode();
    keepMemberSnapshot(node, store, silentLogger(), new Map());
    node.emit(alive('n1', '127.0.14.1:9999'));
    node.emit(alive('n2', '127.0.14.2:9999'));
    await sleep(200);
    expect([...loadMemberSnapshot(store, 'n3')]).toEqual([
      ['n1', '127.0.14.1:9999'],
      ['n2', '127.0.14.2:9999'],
    ]);
    // A known member at a new address is batched (1 s), and a new member still goes out at once.
    node.emit(alive('n1', '127.0.14.9:9999'));
    node.emit(alive('n4', '127.0.14.4:9999'));
    await sleep(200);
    expect(loadMemberSnapshot(store, 'n3').get('n4')).toBe('127.0.14.4:9999');
    await node.stop();
  });

  it('a node whose seeds are down joins once a member reaches it, and keeps waiting while none does', async () => {
    const runtime = realRuntime(silentLogger());
    let tries = 0;
    const seedDown = () => {
      tries++;
      return Promise.resolve(false);
    };
    let reachedAt = Infinity;
    const began = performance.now();
    const joined = joinWithBackoff(['127.0.14.2:9999'], seedDown, runtime, () => false, silentLogger(), () => performance.now() >= reachedAt);
    let settled = false;
    void joined.then(() => (settled = true));
    await sleep(800);
    expect(settled).toBe(false);
    reachedAt = performance.now();
    await expect(joined).resolves.toBe(true);
    // Noticed within a check interval (250 ms), not after the seed backoff (up to 5 s).
    expect(performance.now() - reachedAt).toBeLessThan(600);
    expect(tries).toBeGreaterThan(1);
    expect(performance.now() - began).toBeLessThan(3000);
  });

  it('without a reach check it still waits on the seeds only, and stops when the node stops', async () => {
    const runtime = realRuntime(silentLogger());
    let stopped = false;
    const joined = joinWithBackoff(['127.0.14.2:9999'], () => Promise.resolve(false), runtime, () => stopped, silentLogger());
    await sleep(300);
    stopped = true;
    await expect(joined).resolves.toBe(false);
  });
});
