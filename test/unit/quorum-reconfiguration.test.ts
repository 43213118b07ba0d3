// The sans-IO voter-set protocol (src/quorum/reconfiguration.ts) driven directly: requests,
// replies and the time go in, directives come out. A tiny in-test network delivers calls by
// answering them with the callee's core and handing the reply back, so each test states which
// messages flow and asserts on them; nothing here touches a socket or an RPC endpoint.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { silentLogger } from '../../src/node/logger.js';
import { METHODS } from '../../src/rpc/methods.js';
import { toJsonPayload } from '../../src/rpc/json.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { Reconfiguration, ROUND_TIMEOUT_MS, type ConfigPeer, type ReconfigDirective } from '../../src/quorum/reconfiguration.js';
import { commitNotice } from '../../src/quorum/reconfig-messages.js';
import { configWord, nextConfig, type VoterConfig } from '../../src/quorum/voter-config.js';

const VOTERS = ['n0', 'n1', 'n2'];
const CONFIG_1: VoterConfig = { epoch: 1, voters: VOTERS.map((name) => ({ name, role: 'hybrid' as const })), removed: [], id: '1/n0', replicationFactor: 3 };

interface Node {
  gate: QuorumGate;
  core: Reconfiguration;
}

/** Nodes n0..n2 (voters on configuration 1) and learners, each seeing all as ACTIVE and reachable on the words their gates hold. */
function cluster(learners: string[] = []): { nodes: Map<string, Node>; all: string[] } {
  const all = [...VOTERS, ...learners];
  const nodes = new Map<string, Node>();
  const word = (n: string): number => nodes.get(n)?.gate.word() ?? 0;
  for (const self of all) {
    const members = (): QuorumMember[] => all.map((name) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: word(name) }));
    const gate = new QuorumGate(self, members, 10_000, silentLogger());
    gate.adopt(CONFIG_1);
    const peers = (): ConfigPeer[] => all.map((name) => ({ name, address: `addr-${name}`, word: word(name), alive: true }));
    nodes.set(self, { gate, core: new Reconfiguration({ self, gate, log: silentLogger(), peers, random: () => 0.5 }) });
  }
  return { nodes, all };
}

const nameOf = (address: string): string => address.replace(/^addr-/, '');

/**
 * Delivers `from`'s directives: calls are answered by the callee's core (undefined when `drop`
 * says the message is lost) and the replies fed back; notices reach the callee. Returns every
 * directive seen, in order, each with the node that emitted it.
 */
function deliver(nodes: Map<string, Node>, from: string, first: ReconfigDirective[], now: number, drop: (to: string) => boolean = () => false): Array<{ by: string; d: ReconfigDirective }> {
  const seen: Array<{ by: string; d: ReconfigDirective }> = [];
  const queue: Array<{ by: string; d: ReconfigDirective }> = first.map((d) => ({ by: from, d }));
  while (queue.length > 0) {
    const { by, d } = queue.shift()!;
    seen.push({ by, d });
    const to = d.kind === 'call' || d.kind === 'notify' ? nameOf(d.to) : undefined;
    if (d.kind === 'call' && to !== undefined) {
      const callee = nodes.get(to)!;
      const bytes = drop(to) ? undefined : callee.core.answer(d.method, d.payload, now);
      // A dropped call is left unanswered: the core's guard deadline ends the phase.
      if (bytes) queue.push(...nodes.get(by)!.core.reply(d.id, bytes, now).map((x) => ({ by, d: x })));
    } else if (d.kind === 'notify' && to !== undefined && !drop(to)) {
      queue.push(...nodes.get(to)!.core.receiveCommit(d.payload, now).map((x) => ({ by: to, d: x })));
    }
  }
  return seen;
}

describe('the voter-set protocol as a state machine', () => {
  it('admits a caught-up learner: prepare to the voters, accept to those that promised, a commit notice to every live member', () => {
    const { nodes } = cluster(['n3']);
    const n0 = nodes.get('n0')!;
    // Admissions wait for learners to stop arriving: the first drive plans, the wake comes at the due time.
    expect(n0.core.drive(1_000)).toEqual([]);
    expect(n0.core.nextDeadline()).toBe(1_200);
    expect(n0.core.tick(1_200)).toEqual([{ kind: 'wake' }]);
    const seen = deliver(nodes, 'n0', n0.core.drive(1_200), 1_200);
    const sent = seen.filter((s) => s.by === 'n0').map(({ d }) => (d.kind === 'call' || d.kind === 'notify' ? `${d.kind} ${d.method} ${nameOf(d.to)}` : d.kind));
    // Learners the proposal admits are not asked; everyone alive hears the outcome.
    expect(sent).toEqual([
      `call ${METHODS.quorumPrepare} n1`,
      `call ${METHODS.quorumPrepare} n2`,
      `call ${METHODS.quorumAccept} n1`,
      `call ${METHODS.quorumAccept} n2`,
      'verified',
      'verified',
      'chosen',
      `notify ${METHODS.quorumCommit} n1`,
      `notify ${METHODS.quorumCommit} n2`,
      `notify ${METHODS.quorumCommit} n3`,
      'adopted',
    ]);
    for (const n of ['n0', 'n1', 'n2', 'n3']) {
      expect(nodes.get(n)!.gate.voterConfig().epoch).toBe(2);
      expect(nodes.get(n)!.gate.isVoter('n3')).toBe(true);
    }
  });

  it('a round whose answers never come ends at its guard deadline, decides nothing, and backs off before the next', () => {
    const { nodes } = cluster();
    const n0 = nodes.get('n0')!;
    const started = n0.core.propose({ down: ['n2'] }, 5_000)!;
    expect(started.directives.filter((d) => d.kind === 'call')).toHaveLength(2);
    expect(n0.core.busy()).toBe(true);
    // Nobody answers: the phase waits past each call's own timeout, then gives up.
    const guard = n0.core.nextDeadline();
    expect(guard).toBeGreaterThan(5_000 + ROUND_TIMEOUT_MS);
    expect(n0.core.tick(guard - 1)).toEqual([]);
    expect(n0.core.tick(guard)).toEqual([{ kind: 'done', token: started.token, purpose: 'request', ok: false }]);
    expect(n0.core.busy()).toBe(false);
    expect(n0.gate.voterConfig().epoch).toBe(1);
    // A late reply to the abandoned round changes nothing.
    expect(n0.core.reply(1, toJsonPayload({ ok: true, epoch: 1 }), guard + 1)).toEqual([]);
  });

  it('a requested removal is chosen with a quorum answering and reported done', () => {
    const { nodes } = cluster();
    const n0 = nodes.get('n0')!;
    const started = n0.core.propose({ down: ['n2'] }, 1_000)!;
    const seen = deliver(nodes, 'n0', started.directives, 1_000, (to) => to === 'n2');
    expect(seen.map((s) => s.d).filter((d) => d.kind === 'done')).toEqual([]); // n2's prepare is still out
    const guard = n0.core.nextDeadline();
    const rest = deliver(nodes, 'n0', n0.core.tick(guard), guard, (to) => to === 'n2');
    expect(rest.map((s) => s.d).find((d) => d.kind === 'done')).toEqual({ kind: 'done', token: started.token, purpose: 'request', ok: true });
    expect(n0.gate.voterConfig().voters.map((v) => v.name)).toEqual(['n0', 'n1']);
    expect(n0.gate.voterConfig().removed).toEqual(['n2']);
    // The last voter never removes itself: a change that leaves no voter is refused.
    const { nodes: solo } = cluster();
    expect(solo.get('n0')!.core.propose({ down: ['n1', 'n2'], leave: ['n0'] }, 1_000)).toBeUndefined();
  });

  it('a member that pushes us a configuration we hold is answered with our metadata, at most every 500 ms', () => {
    const { nodes } = cluster();
    const n1 = nodes.get('n1')!;
    const push = toJsonPayload(commitNotice('n2', CONFIG_1));
    expect(n1.core.receiveCommit(push, 1_000)).toEqual([{ kind: 'stale-view', name: 'n2' }]);
    expect(n1.core.receiveCommit(push, 1_400)).toEqual([]);
    expect(n1.core.receiveCommit(push, 1_500)).toEqual([{ kind: 'stale-view', name: 'n2' }]);
  });

  it('a newer configuration pushed to us is adopted, its sender and acceptors counted on it at once', () => {
    const { nodes } = cluster();
    const n1 = nodes.get('n1')!;
    const next = nextConfig(CONFIG_1, 'n0', { down: ['n2'] });
    const d = n1.core.receiveCommit(toJsonPayload(commitNotice('n0', next, ['n0', 'n1'])), 1_000);
    expect(d).toEqual([{ kind: 'verified', name: 'n0' }, { kind: 'adopted' }]);
    expect(n1.gate.voterConfig().epoch).toBe(2);
    expect(n1.core.countedWord('n0', configWord(1, false))).toBe(configWord(2, false));
    // Gossip as new as the evidence replaces it.
    expect(n1.core.countedWord('n0', configWord(3, false))).toBe(configWord(3, false));
  });

  it('a commit notice admitting learners counts them on the new configuration at once, at every member it reaches', () => {
    const { nodes } = cluster(['n3', 'n4', 'n5', 'n6']);
    const n3 = nodes.get('n3')!;
    const next = nextConfig(CONFIG_1, 'n0', { admit: [{ name: 'n3', role: 'hybrid' }, { name: 'n4', role: 'hybrid' }, { name: 'n5', role: 'hybrid' }, { name: 'n6', role: 'hybrid' }] });
    const d = n3.core.receiveCommit(toJsonPayload(commitNotice('n0', next, ['n0'])), 1_000);
    // Its chooser and acceptor, then the other learners it admits (no configuration counted them; the notice went to each).
    expect(d).toEqual([{ kind: 'verified', name: 'n0' }, { kind: 'verified', name: 'n4' }, { kind: 'verified', name: 'n5' }, { kind: 'verified', name: 'n6' }, { kind: 'adopted' }]);
    for (const n of ['n4', 'n5', 'n6']) expect(n3.core.countedWord(n, configWord(1, false))).toBe(configWord(2, false));
    // The voters of configuration 1 it did not hear from still count by their gossiped words.
    expect(n3.core.countedWord('n1', configWord(1, false))).toBe(configWord(1, false));
    // A notice skipping an epoch counts only its chooser and acceptors (the learners' past is not known).
    const far = nextConfig(next, 'n0', { down: ['n6'] });
    const n1 = nodes.get('n1')!;
    const skipped = nextConfig(far, 'n0', { admit: [{ name: 'n7', role: 'hybrid' }] });
    expect(n1.core.receiveCommit(toJsonPayload(commitNotice('n0', skipped, ['n0'])), 1_000)).toEqual([{ kind: 'verified', name: 'n0' }, { kind: 'adopted' }]);
    // A member removed while away and admitted again may still count itself on an older one: not at once either.
    const n2 = nodes.get('n2')!;
    const downed = nextConfig(CONFIG_1, 'n0', { down: ['n1'] });
    n2.gate.adopt(downed);
    const back = nextConfig(downed, 'n0', { admit: [{ name: 'n1', role: 'hybrid' }, { name: 'n8', role: 'hybrid' }] });
    expect(n2.core.receiveCommit(toJsonPayload(commitNotice('n0', back, ['n0'])), 1_000)).toEqual([{ kind: 'verified', name: 'n0' }, { kind: 'verified', name: 'n8' }, { kind: 'adopted' }]);
  });

  it('catching up fetches a member configuration and adopts it if newer', () => {
    const { nodes } = cluster();
    const n1 = nodes.get('n1')!;
    nodes.get('n0')!.gate.adopt(nextConfig(CONFIG_1, 'n0', { down: ['n2'] }));
    const started = n1.core.catchUpFrom('n0', 1_000)!;
    expect(started.directives).toMatchObject([{ kind: 'call', method: METHODS.quorumConfig, to: 'addr-n0' }]);
    const seen = deliver(nodes, 'n1', started.directives, 1_000).map((s) => s.d.kind);
    expect(seen).toEqual(['call', 'verified', 'adopted', 'done']);
    expect(n1.gate.voterConfig().epoch).toBe(2);
    expect(n1.core.catchUpFrom('nobody', 1_000)).toBeUndefined();
  });

  it('a continuation that throws (the store closed under a stopping node) ends the round as failed, never the caller', () => {
    const members = (): QuorumMember[] => VOTERS.map((name) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0, configWord: configWord(1, false) }));
    let closed = false;
    const gate = new QuorumGate('n0', members, 10_000, silentLogger(), {
      load: () => undefined,
      save: () => {
        if (closed) throw new Error('store closed');
      },
    });
    gate.adopt(CONFIG_1);
    const peers = (): ConfigPeer[] => VOTERS.map((name) => ({ name, address: `addr-${name}`, word: configWord(1, false), alive: true }));
    const core = new Reconfiguration({ self: 'n0', gate, log: silentLogger(), peers, random: () => 0.5 });
    const started = core.propose({ down: ['n2'] }, 1_000)!;
    const calls = started.directives.filter((d) => d.kind === 'call');
    expect(calls).toHaveLength(2);
    closed = true; // accepting the value would persist it now
    const promise = toJsonPayload({ ok: true, epoch: 1 });
    expect(core.reply(calls[0]!.kind === 'call' ? calls[0]!.id : 0, promise, 1_001)).toEqual([]);
    expect(core.reply(calls[1]!.kind === 'call' ? calls[1]!.id : 0, promise, 1_002)).toEqual([{ kind: 'done', token: started.token, purpose: 'request', ok: false }]);
    expect(core.busy()).toBe(false);
    expect(gate.voterConfig().epoch).toBe(1);
  });

  it('malformed requests and notices are DecodeErrors and change nothing', () => {
    const { nodes } = cluster();
    const n1 = nodes.get('n1')!;
    const before = n1.gate.word();
    const bad = [new Uint8Array([0xff]), toJsonPayload(null), toJsonPayload([1]), toJsonPayload({ epoch: 2 }), toJsonPayload({ epoch: 'x', ballot: { round: 1, name: 'n0' } })];
    for (const p of bad) {
      expect(() => n1.core.answer(METHODS.quorumPrepare, p, 1_000)).toThrow(DecodeError);
      expect(() => n1.core.answer(METHODS.quorumAccept, p, 1_000)).toThrow(DecodeError);
      expect(() => n1.core.receiveCommit(p, 1_000)).toThrow(DecodeError);
    }
    // An accept whose value is for another epoch than the one named.
    const off = toJsonPayload({ epoch: 2, ballot: { round: 1, name: 'n0' }, config: { ...CONFIG_1, epoch: 3 } });
    expect(() => n1.core.answer(METHODS.quorumAccept, off, 1_000)).toThrow(DecodeError);
    expect(n1.gate.word()).toBe(before);
    expect(n1.gate.pending()).toBeUndefined();
  });
});
