// Configuration pushes to a member that shows an older configuration: in a small cluster every
// voter pushes it; above 16 live members only the 3 members that follow it in name order do (a
// push lists every voter, and everyone pushing everyone made a forming 1,000-node cluster run out
// of memory). Every laggard still gets exactly 3 pushes per period, whoever it is.
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { QUORUM_COMMIT_METHOD, VoterConfigSync, type ConfigPeer } from '../../src/node/voter-config-sync.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import type { RpcEndpoint } from '../../src/rpc/endpoint.js';
import type { Runtime } from '../../src/runtime/types.js';

/** Which members push `laggard` our configuration (epoch 2) when `size` members are on it. */
function pushersOf(size: number, laggard: string): string[] {
  const names = Array.from({ length: size }, (_, i) => `m${String(i).padStart(3, '0')}`);
  const pushers: string[] = [];
  for (const self of names) {
    const members = (): QuorumMember[] =>
      names.map((n) => ({ name: n, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 4 }));
    const gate = new QuorumGate(self, members, 10_000, silentLogger());
    gate.adopt({ epoch: 2, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: '2/m000' });
    let pushed = false;
    const rpc = {
      handle: () => undefined,
      onNotify: () => undefined,
      notify: (to: string, method: string) => {
        if (to === laggard && method === QUORUM_COMMIT_METHOD) pushed = true;
        return Promise.resolve();
      },
      call: () => Promise.reject(new Error('no calls in this test')),
    } as unknown as RpcEndpoint;
    let now = 10_000;
    const runtime = { clock: { now: () => now }, scheduler: { schedule: () => () => undefined }, rng: { next: () => 0.5 }, logger: silentLogger() } as unknown as Runtime;
    const peers = (): ConfigPeer[] => [
      ...names.map((n) => ({ name: n, address: n, word: 4, alive: true })),
      { name: laggard, address: laggard, word: 2, alive: true },
    ];
    const sync = new VoterConfigSync({ self, gate, rpc, runtime, log: silentLogger(), peers, onChosen: () => undefined, onAdopted: () => undefined, wake: () => undefined, onVerified: () => undefined, onStaleView: () => undefined });
    // A large cluster holds pushes back for a moment after a node's own epoch changed: look again after it.
    sync.drive(now);
    now += 1_500;
    sync.drive(now);
    if (pushed) pushers.push(self);
  }
  return pushers;
}

it('in a small cluster every member pushes a laggard', () => {
  expect(pushersOf(8, 'm003x')).toHaveLength(8);
});

it('in a large cluster exactly the 3 members after the laggard in name order push it, wrapping around', () => {
  expect(pushersOf(40, 'm010x')).toEqual(['m011', 'm012', 'm013']);
  expect(pushersOf(40, 'm038x')).toEqual(['m000', 'm001', 'm039']);
  expect(pushersOf(40, 'zzz')).toEqual(['m000', 'm001', 'm002']);
});
