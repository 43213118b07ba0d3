// Configuration pushes to a member that shows an older configuration: in a small cluster every
// voter pushes it; above 16 live members only the 3 members that follow it in name order do (a
// push lists every voter, and everyone pushing everyone made a forming 1,000-node cluster run out
// of memory). Every laggard still gets exactly 3 pushes per period, whoever it is.
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { METHODS } from '../../src/rpc/methods.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { Reconfiguration, type ConfigPeer } from '../../src/quorum/reconfiguration.js';

/** Which members push `laggard` our configuration (epoch 2) when `size` members are on it. */
function pushersOf(size: number, laggard: string): string[] {
  const names = Array.from({ length: size }, (_, i) => `m${String(i).padStart(3, '0')}`);
  const pushers: string[] = [];
  for (const self of names) {
    const members = (): QuorumMember[] =>
      names.map((n) => ({ name: n, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 4 }));
    const gate = new QuorumGate(self, members, 10_000, silentLogger());
    gate.adopt({ epoch: 2, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: '2/m000', replicationFactor: 3 });
    const peerList: ConfigPeer[] = [...names.map((n) => ({ name: n, address: n, word: 4, alive: true })), { name: laggard, address: laggard, word: 2, alive: true }];
    const core = new Reconfiguration({ self, gate, log: silentLogger(), peers: () => peerList, random: () => 0.5 });
    // A large cluster holds pushes back for a moment after a node's own epoch changed: look again after it.
    const directives = [...core.drive(10_000), ...core.drive(11_500)];
    if (directives.some((d) => d.kind === 'notify' && d.to === laggard && d.method === METHODS.quorumCommit)) pushers.push(self);
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
