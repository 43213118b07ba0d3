// A voter whose data directory was wiped and which restarts under its old name has forgotten its
// Paxos promises and accepted values (an acceptor with amnesia). Voter entries carry the node id
// of the data directory they admitted (src/quorum/voter-identity.ts): only that incarnation
// answers as the entry, the others count it only under that id, and the writable side admits the
// new incarnation in place of the old entry through the next configuration. The core is driven
// directly (requests, replies, time in; directives out); the last tests run whole nodes in the
// simulator with two of five voters wiped.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { METHODS } from '../../src/rpc/methods.js';
import { toJsonPayload } from '../../src/rpc/json.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { Reconfiguration, type ConfigPeer, type ReconfigDirective } from '../../src/quorum/reconfiguration.js';
import { parseAnswer } from '../../src/quorum/reconfig-messages.js';
import { nextConfig, parseVoterConfig, type VoterConfig } from '../../src/quorum/voter-config.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const idOf = (name: string, life = 0): string => `${name}-life${life}`;
const CONFIG_1: VoterConfig = { epoch: 1, voters: NAMES.map((name) => ({ name, role: 'hybrid' as const, nodeId: idOf(name) })), removed: [], id: '1/n0', replicationFactor: 3 };

interface Node {
  gate: QuorumGate;
  core: Reconfiguration;
  nodeId: string;
  store: Map<string, string>;
}

/** Five voters on CONFIG_1, each seeing every member ACTIVE and reachable under its current node id and word. */
function cluster(): { nodes: Map<string, Node>; down: Set<string>; boot: (name: string, life: number, store?: Map<string, string>) => Node } {
  const nodes = new Map<string, Node>();
  /** Crashed members: still in the table, unreachable (suspected, not yet FAILED). */
  const down = new Set<string>();
  const word = (n: string): number => nodes.get(n)?.gate.word() ?? 0;
  const rows = (): QuorumMember[] =>
    NAMES.map((name) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: !down.has(name), stateChangedAt: 0, configWord: word(name), nodeId: nodes.get(name)?.nodeId }));
  const peers = (): ConfigPeer[] => NAMES.map((name) => ({ name, address: `addr-${name}`, word: word(name), alive: !down.has(name) }));
  const boot = (self: string, life: number, store = new Map<string, string>()): Node => {
    const nodeId = idOf(self, life);
    const gate = new QuorumGate(self, rows, 10_000, silentLogger(), { load: () => store.get('k'), save: (v) => void store.set('k', v) }, 'hybrid', nodeId);
    const node: Node = { gate, nodeId, store, core: new Reconfiguration({ self, gate, log: silentLogger(), peers, random: () => 0.5 }) };
    nodes.set(self, node);
    return node;
  };
  for (const n of NAMES) boot(n, 0).gate.adopt(CONFIG_1);
  return { nodes, down, boot };
}

const nameOf = (address: string): string => address.replace(/^addr-/, '');

/** Delivers `from`'s directives (calls answered by the callee's core, notices received) unless `drop(to)`; returns every directive seen. */
function deliver(nodes: Map<string, Node>, from: string, first: ReconfigDirective[], now: number, drop: (to: string, method: string) => boolean = () => false): Array<{ by: string; d: ReconfigDirective }> {
  const seen: Array<{ by: string; d: ReconfigDirective }> = [];
  const queue = first.map((d) => ({ by: from, d }));
  while (queue.length > 0) {
    const { by, d } = queue.shift()!;
    seen.push({ by, d });
    if (d.kind === 'call') {
      const to = nameOf(d.to);
      // A lost call fails as the driver reports one (no reply bytes).
      const bytes = drop(to, d.method) ? undefined : nodes.get(to)!.core.answer(d.method, d.payload, now);
      queue.push(...nodes.get(by)!.core.reply(d.id, bytes, now).map((x) => ({ by, d: x })));
    } else if (d.kind === 'notify' && !drop(nameOf(d.to), d.method)) {
      const to = nameOf(d.to);
      queue.push(...nodes.get(to)!.core.receiveCommit(d.payload, now).map((x) => ({ by: to, d: x })));
    }
  }
  return seen;
}

/** The answers `by`'s calls of `method` received, by callee, as parsed from the wire. */
function answersTo(nodes: Map<string, Node>, seen: Array<{ by: string; d: ReconfigDirective }>, method: string): Map<string, ReturnType<typeof parseAnswer>> {
  const out = new Map<string, ReturnType<typeof parseAnswer>>();
  for (const { d } of seen) {
    if (d.kind !== 'call' || d.method !== method) continue;
    // Re-asking gives the same answer: the acceptor's state already holds the request.
    out.set(nameOf(d.to), parseAnswer(nodes.get(nameOf(d.to))!.core.answer(method, d.payload, 0), 'test'));
  }
  return out;
}

describe('voter identity: a wiped voter is not an acceptor with amnesia', () => {
  it('configurations carry each voter\'s node id through the wire and the next configuration; a bad one is refused', () => {
    const parsed = parseVoterConfig(JSON.parse(JSON.stringify(CONFIG_1)), 'test');
    expect(parsed.voters.map((v) => v.nodeId)).toEqual(NAMES.map((n) => idOf(n)));
    // Admitting a listed name under another node id replaces the entry, nothing else.
    const next = nextConfig(parsed, 'n0', { admit: [{ name: 'n1', role: 'hybrid', nodeId: idOf('n1', 1) }] });
    expect(next.voters.map((v) => `${v.name}:${v.nodeId}`)).toEqual(['n0:n0-life0', 'n1:n1-life1', 'n2:n2-life0', 'n3:n3-life0', 'n4:n4-life0']);
    expect(next.removed).toEqual([]);
    expect(() => parseVoterConfig({ ...CONFIG_1, voters: [{ name: 'n0', role: 'hybrid', nodeId: 7 }] }, 'test')).toThrow(/bad node id of voter n0/);
    expect(() => parseVoterConfig({ ...CONFIG_1, voters: [{ name: 'n0', role: 'hybrid', nodeId: 'x'.repeat(65) }] }, 'test')).toThrow(/bad node id/);
    // An entry of a version before node ids matches by name.
    const legacy = parseVoterConfig({ ...CONFIG_1, voters: [{ name: 'n0', role: 'hybrid' }] }, 'test');
    expect(legacy.voters[0]!.nodeId).toBeUndefined();
  });

  it('two of five voters wiped after accepting a chosen value: no second value is chosen for that epoch', () => {
    const { nodes, down, boot } = cluster();
    const n0 = nodes.get('n0')!;
    // n0 proposes configuration 2 (n3 downed by an operator); n1 and n2 accept it (with n0: a
    // majority, so it is chosen), then every commit notice is lost.
    expect(n0.gate.requestRemoval('n3')).toBe(true);
    const started = n0.core.propose({ down: ['n3'] }, 1_000)!;
    const first = deliver(nodes, 'n0', started.directives, 1_000, (to, method) => (to === 'n3' || to === 'n4' ? true : method === METHODS.quorumCommit));
    expect(first.some(({ d }) => d.kind === 'done' && d.ok)).toBe(true);
    const chosen = n0.gate.voterConfig();
    expect(chosen.epoch).toBe(2);
    expect(nodes.get('n1')!.gate.pending()?.id).toBe(chosen.id);
    // n0 crashes for good; n1 and n2 lose their data directories and restart under their names:
    // new node ids, no acceptor state; they relearn configuration 1 from n3 and n4.
    down.add('n0');
    for (const n of ['n1', 'n2']) {
      const reborn = boot(n, 1);
      expect(reborn.gate.adopt(CONFIG_1)).toBe(true);
      expect(reborn.gate.isVoter(n)).toBe(false);
      expect(reborn.gate.verdict().reason).toMatch(/another data directory/);
    }
    // n4 now proposes another value for epoch 2 (n2 downed). Before node ids, n1 and n2 promised
    // with nothing accepted, n3 and n4 too: four promises, no value to carry over, and a second
    // configuration 2. Now the reborn two refuse, with their new node ids.
    const n4 = nodes.get('n4')!;
    const req = n4.core.propose({ down: ['n2'] }, 5_000);
    expect(req).toBeUndefined(); // n4 counts n1 and n2 as reborn, not as voters: 2 of 5 reachable, read-only
    expect(n4.gate.verdict()).toMatchObject({ writable: false, reachable: 2, total: 5 });
    const prepare = n4.gate.nextRound();
    const asked = ['n1', 'n2', 'n3'].map((n) => parseAnswer(nodes.get(n)!.core.answer(METHODS.quorumPrepare, toJsonPayload({ epoch: 2, ballot: { round: prepare + 5, name: 'n4' } }), 5_000), n));
    expect(asked.map((a) => `${a.ok}:${a.nodeId}`)).toEqual(['false:n1-life1', 'false:n2-life1', 'true:n3-life0']);
    const accepts = ['n1', 'n2'].map((n) => parseAnswer(nodes.get(n)!.core.answer(METHODS.quorumAccept, toJsonPayload({ epoch: 2, ballot: { round: prepare + 5, name: 'n4' }, config: nextConfig(CONFIG_1, 'n4', { down: ['n2'] }) }), 5_000), n));
    expect(accepts.every((a) => !a.ok)).toBe(true);
    expect(nodes.get('n1')!.gate.pending()).toBeUndefined();
  });

  it('a proposer counts an answer only from the incarnation its entry lists, even one that says ok', () => {
    const { nodes } = cluster();
    const n0 = nodes.get('n0')!;
    expect(n0.gate.requestRemoval('n4')).toBe(true);
    const started = n0.core.propose({ down: ['n4'] }, 1_000)!;
    const calls = started.directives.filter((d): d is Extract<ReconfigDirective, { kind: 'call' }> => d.kind === 'call');
    expect(calls.map((c) => nameOf(c.to)).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    // n1 and n2 answer ok but under other node ids (an older build of a reborn node would); n3, n4 are silent.
    let out: ReconfigDirective[] = [];
    for (const c of calls) {
      const to = nameOf(c.to);
      const reply = to === 'n1' || to === 'n2' ? toJsonPayload({ ok: true, epoch: 1, nodeId: idOf(to, 9) }) : undefined;
      out = n0.core.reply(c.id, reply, 1_000);
    }
    // Three ok promises by name, but only n0's own counts: no accept phase, the round fails.
    expect(out.filter((d) => d.kind === 'call')).toEqual([]);
    expect(out).toContainEqual({ kind: 'done', token: started.token, purpose: 'request', ok: false });
    expect(n0.gate.pending()).toBeUndefined();
  });

  it('reborn voters count as unreachable and their acks do not count; the writable side admits them in place of their old entries', () => {
    const { nodes, boot } = cluster();
    for (const n of ['n1', 'n2']) boot(n, 1).gate.adopt(CONFIG_1);
    const n0 = nodes.get('n0')!;
    expect(n0.gate.verdict()).toMatchObject({ writable: true, reachable: 3, total: 5 });
    const plan = n0.gate.ackPlan();
    expect(plan.complete(new Set(['n1', 'n2']))).toBe(false);
    expect(plan.complete(new Set(['n3', 'n4']))).toBe(true);
    expect(n0.gate.learners()).toEqual(['n1', 'n2']);
    // The planned change: the reborn two replace their entries, asked of the voters that still are them.
    const p = n0.gate.changePlan(1_000);
    expect(p).toBeUndefined(); // admissions wait for learners to stop arriving
    const due = n0.gate.changePlan(3_000)!;
    expect(due.admit).toEqual(['n1', 'n2']);
    expect(due.ask.sort()).toEqual(['n3', 'n4']);
    expect(due.proposal.voters.map((v) => `${v.name}:${v.nodeId}`)).toEqual(['n0:n0-life0', 'n1:n1-life1', 'n2:n2-life1', 'n3:n3-life0', 'n4:n4-life0']);
    // Run it through the protocol: chosen by n0, n3, n4; the reborn adopt it and vote again.
    expect(n0.core.drive(3_000)).toEqual([]); // (the core's own plan waits for arrivals again)
    const seen = deliver(nodes, 'n0', n0.core.drive(5_000), 5_000);
    const calls = seen.filter(({ by, d }) => by === 'n0' && d.kind === 'call').map(({ d }) => (d.kind === 'call' ? `${d.method} ${nameOf(d.to)}` : ''));
    expect(calls).toEqual([`${METHODS.quorumPrepare} n3`, `${METHODS.quorumPrepare} n4`, `${METHODS.quorumAccept} n3`, `${METHODS.quorumAccept} n4`]);
    expect(seen.some(({ by, d }) => by === 'n0' && d.kind === 'chosen')).toBe(true);
    for (const n of NAMES) expect(nodes.get(n)!.gate.voterConfig().epoch).toBe(2);
    for (const n of ['n1', 'n2']) expect(nodes.get(n)!.gate.isVoter(n)).toBe(true);
    expect(n0.gate.verdict()).toMatchObject({ writable: true, reachable: 5, total: 5 });
    const answers = answersTo(nodes, deliver(nodes, 'n0', n0.core.propose({ down: ['n4'] }, 9_000)?.directives ?? [], 9_000), METHODS.quorumPrepare);
    expect(answers.get('n1')?.nodeId).toBe('n1-life1');
  });

  it('entries of a version before node ids match by name, and are re-admitted under the members\' node ids', () => {
    const { nodes } = cluster();
    const legacy: VoterConfig = { ...CONFIG_1, epoch: 2, id: '2/old', voters: NAMES.map((name) => ({ name, role: 'hybrid' as const })) };
    for (const n of NAMES) nodes.get(n)!.gate.adopt(legacy);
    const n0 = nodes.get('n0')!;
    expect(n0.gate.verdict()).toMatchObject({ writable: true, reachable: 5, total: 5 });
    expect(n0.gate.isVoter('n0')).toBe(true);
    expect(n0.gate.changePlan(1_000)).toBeUndefined(); // admissions wait for arrivals to settle
    const plan = n0.gate.changePlan(3_000)!;
    expect(plan.admit).toEqual(NAMES);
    expect(plan.proposal.voters.map((v) => v.nodeId)).toEqual(NAMES.map((n) => idOf(n)));
    for (const n of NAMES) nodes.get(n)!.gate.adopt(plan.proposal);
    expect(n0.gate.verdict().writable).toBe(true);
    expect(n0.gate.changePlan(5_000)).toBeUndefined(); // nothing left to re-admit
    expect(n0.gate.changePlan(9_000)).toBeUndefined();
  });

  it('a node whose voter record is unreadable does not vote under its entry until removed and admitted again', () => {
    const { nodes, boot } = cluster();
    const store = new Map([['k', '{"config": not json']]);
    const n1 = boot('n1', 0, store);
    n1.gate.adopt(CONFIG_1); // relearnt from the cluster: the entry lists its own node id, but it forgot its promises
    expect(n1.gate.isVoter('n1')).toBe(false);
    expect(parseAnswer(n1.core.answer(METHODS.quorumPrepare, toJsonPayload({ epoch: 2, ballot: { round: 1, name: 'n0' } }), 0), 't').ok).toBe(false);
    // The fence is persisted: a restart does not lift it.
    const again = boot('n1', 0, store);
    again.gate.adopt(CONFIG_1);
    expect(again.gate.isVoter('n1')).toBe(false);
    // A configuration without it lifts it; admitted again, it votes.
    const without = nextConfig(CONFIG_1, 'n0', { down: ['n1'] });
    again.gate.adopt(without);
    const back = nextConfig(without, 'n0', { admit: [{ name: 'n1', role: 'hybrid', nodeId: idOf('n1') }] });
    again.gate.adopt(back);
    expect(again.gate.isVoter('n1')).toBe(true);
    expect(nodes.size).toBe(5);
  });
});

describe('voter identity in the simulator', () => {
  const { track } = simClusterPerTest();

  it('two of five voters wiped and restarted under their names: one configuration per epoch, admitted in place, no acknowledged write lost', async () => {
    const c = track(new SimCluster({ seed: 'voter-identity-wipe', nodes: 5, replicationFactor: 5 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(5) && c.nodes.every((n) => n.gate.voterConfig().voters.length === 5 && n.gate.verdict().writable), 60_000)).toBe(true);
      // Every configuration any node holds, by epoch: two different ones for one epoch is the bug.
      const byEpoch = new Map<number, string>();
      let clash = '';
      const watch = (): boolean => {
        for (const i of c.live()) {
          const cfg = c.node(i).gate.voterConfig();
          const key = JSON.stringify(cfg.voters);
          const had = byEpoch.get(cfg.epoch);
          if (had === undefined) byEpoch.set(cfg.epoch, key);
          else if (had !== key && !clash) clash = `configuration ${cfg.epoch}: ${had} and ${key}`;
        }
        return clash !== '';
      };
      const acked: string[] = [];
      for (let k = 0; k < 10; k++) acked.push(await c.settle(c.node(k % 5).memory('agent-w').addEpisode({ task: `w${k}`, outcome: 'ok' }), 10_000));
      const oldIds = [1, 2].map((i) => c.node(i).options.nodeId);
      for (const i of [1, 2]) {
        c.crash(i);
        c.wipe(i);
      }
      await c.runUntil(watch, 2_000, 50);
      for (const i of [1, 2]) void c.restart(i);
      // Writes keep being acknowledged by the three intact voters meanwhile.
      for (let k = 10; k < 14; k++) acked.push(await c.settle(c.node(k % 2 === 0 ? 0 : 3).memory('agent-w').addEpisode({ task: `w${k}`, outcome: 'ok' }), 20_000));
      const replaced = (): boolean =>
        c.live().every((i) => {
          const cfg = c.node(i).gate.voterConfig();
          return [1, 2].every((j) => cfg.voters.find((v) => v.name === c.node(j).name)?.nodeId === c.node(j).options.nodeId);
        });
      expect(await c.runUntil(() => watch() || (replaced() && c.nodes.every((n) => n.gate.verdict().writable)), 60_000, 50)).toBe(true);
      expect(clash).toBe('');
      for (const [k, i] of [1, 2].entries()) expect(c.node(i).options.nodeId).not.toBe(oldIds[k]);
      // Every acknowledged write on every node (RF 5: all hold it), the reborn two included.
      expect(await c.runUntil(() => watch() || c.live().every((i) => acked.every((id) => c.node(i).memory('agent-w').get(id)?.outcome === 'ok')), 60_000, 100)).toBe(true);
      expect(clash).toBe('');
    });
  }, 180_000);
});
