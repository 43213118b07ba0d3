// An acknowledgement from a wiped-and-restarted node must not count as its old entry's: the old
// incarnation held data the new one does not. The writer checks the member row's node id, which
// gossip updates only some time after the reborn node starts acking pushes; so the reborn node's
// acks carry no configuration word while its entry names another node id (ackWordOf), and a
// writer counts them on no configuration. Driven on the gate and the ack tracker directly.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { AckTracker } from '../../src/memory/ack-tracker.js';
import { ackWordOf } from '../../src/quorum/gate-acks.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { replicaAckPlan } from '../../src/quorum/replica-quorum.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import type { Scheduler } from '../../src/runtime/types.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const idOf = (name: string, life = 0): string => `${name}-life${life}`;
const CONFIG_1: VoterConfig = { epoch: 1, voters: NAMES.map((name) => ({ name, role: 'hybrid' as const, nodeId: idOf(name) })), removed: [], id: '1/n0', replicationFactor: 3 };

/** A gate for `self` running as `nodeId`, on CONFIG_1, whose table shows every member under its first life (gossip has not caught up). */
function gate(self: string, nodeId: string): QuorumGate {
  const rows = (): QuorumMember[] => NAMES.map((name) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: 2, nodeId: idOf(name) }));
  const store = new Map<string, string>();
  const g = new QuorumGate(self, rows, 10_000, silentLogger(), { load: () => store.get('k'), save: (v) => void store.set('k', v) }, 'hybrid', nodeId);
  g.adopt(CONFIG_1);
  return g;
}

/** No timer ever fires: the write waits for its acks only. */
const manual: Scheduler = { schedule: () => () => undefined };

describe('acknowledgements of a reborn node (node ids in acks)', () => {
  it('a node listed under another node id acks with no word; its own entry acks with its configuration word', () => {
    const reborn = gate('n1', idOf('n1', 1));
    const healthy = gate('n2', idOf('n2'));
    expect(reborn.isVoter('n1')).toBe(false);
    expect(ackWordOf(reborn, 'n1')).toBe(0);
    expect(ackWordOf(healthy, 'n2')).toBe(healthy.word());
    expect(healthy.word()).toBeGreaterThan(0);
    const writer = gate('n0', idOf('n0'));
    expect(writer.countsAck(ackWordOf(reborn, 'n1'))).toBe(false);
    expect(writer.countsAck(reborn.word())).toBe(true); // its configuration word would have counted (before ackWordOf)
    expect(writer.countsAck(ackWordOf(healthy, 'n2'))).toBe(true);
  });

  it('a write on (n0, n1, n2) is not acknowledged by the reborn n1 while the writer still lists it under its old node id', async () => {
    const writer = gate('n0', idOf('n0'));
    const reborn = gate('n1', idOf('n1', 1));
    const healthy = gate('n2', idOf('n2'));
    expect(writer.staleVoters().size).toBe(0); // the window: the writer's table shows n1's old node id
    const tracker = new AckTracker(manual, 10_000);
    let done = false;
    const waiting = tracker.wait([1], replicaAckPlan('n0', ['n0', 'n1', 'n2'], writer.staleVoters()), true, writer.ackRule());
    void waiting.then(() => (done = true));
    tracker.ack(1, 'n1', ackWordOf(reborn, 'n1'), (w) => writer.countsAck(w));
    await Promise.resolve();
    expect(done).toBe(false);
    tracker.ack(1, 'n2', ackWordOf(healthy, 'n2'), (w) => writer.countsAck(w));
    await waiting;
    expect(done).toBe(true);
  });

  it('a member not listed at all (a learner catching up) acks with its word: no plan counts it anyway', () => {
    const learner = gate('n9', 'n9-life0');
    expect(ackWordOf(learner, 'n9')).toBe(learner.word());
  });
});
