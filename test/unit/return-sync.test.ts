// Anti-entropy when a peer returns (src/node/return-sync.ts). The decisions, table-tested on the
// class; then whole nodes in the simulator (7 nodes, RF 3): a replica crashes, misses writes to
// its agents, and restarts quicker than failure detection (nobody declared it dead, so no SWIM
// "alive" event). Its one start-up snapshot comes from a single member, which holds only part of
// what it is a replica of; the rest must reach it at once, not when the round-robin anti-entropy
// (one peer per 10 s) gets round to each co-replica.
import { describe, expect, it } from 'vitest';
import type { MemberEvent, MemberEventKind, MemberState } from '../../gossip/types.js';
import { DEFER_TO_WRITABLE_MS, REFUTE_ROUND_GAP_MS, RECONCILE_FANOUT, ReturnSync, STARTUP_ROUNDS, sharesAny, type ReturnSyncOptions } from '../../src/node/return-sync.js';
import { SimCluster } from '../../src/sim/cluster-sim.js';
import { equalBytes } from '../../src/sync/hash.js';
import { simClusterPerTest, withReplay } from './lib/sim-replay.js';

const event = (kind: MemberEventKind, name: string, state: MemberState = 'alive'): MemberEvent => ({
  kind,
  member: { name, address: `${name}:1`, meta: new Uint8Array(), incarnation: 1, state, stateChangedAt: 0 },
});

function harness(o: Partial<ReturnSyncOptions> = {}): { sync: ReturnSync; started: string[]; lifecycle: Map<string, string>; self: { running: boolean } } {
  const started: string[] = [];
  const lifecycle = new Map<string, string>();
  const self = { running: true };
  const sync = new ReturnSync({
    self: 'n0',
    shares: () => true,
    antiEntropyWith: (p) => started.push(p),
    livePeers: () => ['n1', 'n2', 'n3'],
    peerCount: () => 3,
    running: () => self.running,
    lifecycleOf: (n) => lifecycle.get(n),
    random: () => 0.99,
    ...o,
  });
  return { sync, started, lifecycle, self };
}

describe('ReturnSync decisions', () => {
  it('a member seen again (join, alive) gets a round at once; suspect and plain updates do not', () => {
    const h = harness();
    h.lifecycle.set('n1', 'ACTIVE');
    h.sync.onMemberEvent(event('join', 'n1'));
    h.sync.onMemberEvent(event('suspect', 'n1', 'suspect'));
    h.sync.onMemberEvent(event('alive', 'n1'));
    h.sync.onMemberEvent(event('update', 'n1'));
    h.sync.onMemberEvent(event('join', 'n0')); // ourselves
    expect(h.started).toEqual(['n1', 'n1']);
  });

  it('a restart quicker than failure detection: its lifecycle goes back to SYNCING, then ACTIVE', () => {
    const h = harness();
    h.lifecycle.set('n2', 'ACTIVE');
    h.sync.onMemberEvent(event('update', 'n2'));
    h.lifecycle.set('n2', 'SYNCING');
    h.sync.onMemberEvent(event('update', 'n2'));
    expect(h.started).toEqual([]);
    h.lifecycle.set('n2', 'ACTIVE');
    h.sync.onMemberEvent(event('update', 'n2'));
    h.sync.onMemberEvent(event('update', 'n2')); // still ACTIVE: nothing new
    expect(h.started).toEqual(['n2']);
  });

  it('nothing in common, or this node not running: no round', () => {
    const h = harness({ shares: () => false });
    h.sync.onMemberEvent(event('join', 'n1'));
    const g = harness();
    g.self.running = false;
    g.sync.onMemberEvent(event('join', 'n1'));
    g.sync.started();
    expect([...h.started, ...g.started]).toEqual([]);
  });

  it('where every node holds everything, a large cluster reconciles through about RECONCILE_FANOUT members; co-replicas always', () => {
    const all = harness({ shares: () => 'all', peerCount: () => 100, random: () => 0.5 });
    all.sync.onMemberEvent(event('join', 'n1'));
    const lucky = harness({ shares: () => 'all', peerCount: () => 100, random: () => (RECONCILE_FANOUT - 1) / 100 });
    lucky.sync.onMemberEvent(event('join', 'n1'));
    const co = harness({ shares: () => true, peerCount: () => 100, random: () => 0.5 });
    co.sync.onMemberEvent(event('join', 'n1'));
    expect([all.started, lucky.started, co.started]).toEqual([[], ['n1'], ['n1']]);
  });

  it('after its own start a node runs one round with each member it shares documents with, at most STARTUP_ROUNDS', () => {
    const h = harness({ shares: (p) => p !== 'n2' });
    h.sync.started();
    expect(h.started).toEqual(['n1', 'n3']);
    const many = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const big = harness({ livePeers: () => many, random: () => 0.3 });
    big.sync.started();
    expect(big.started).toHaveLength(STARTUP_ROUNDS);
    expect(new Set(big.started).size).toBe(STARTUP_ROUNDS);
  });

  it('a read-only node defers its round with a writable member that is back (that member starts one); then a probe, if the member is still there', () => {
    const timers: Array<{ ms: number; fn: () => void }> = [];
    const self = { readOnly: true };
    const h = harness({ readOnly: () => self.readOnly, later: (ms, fn) => timers.push({ ms, fn }) });
    h.lifecycle.set('n1', 'ACTIVE');
    h.lifecycle.set('n2', 'DEGRADED');
    h.lifecycle.set('n3', 'ACTIVE');
    h.sync.onMemberEvent(event('join', 'n1'));
    h.sync.onMemberEvent(event('join', 'n2')); // read-only too: neither side knows more, both start
    h.sync.onMemberEvent(event('alive', 'n3'));
    expect(h.started).toEqual(['n2']);
    expect(timers.map((t) => t.ms)).toEqual([DEFER_TO_WRITABLE_MS, DEFER_TO_WRITABLE_MS]);
    h.sync.onMemberEvent(event('dead', 'n3', 'dead')); // gone meanwhile: its deferred round is dropped
    for (const t of timers) t.fn();
    expect(h.started).toEqual(['n2', 'n1']);
    expect(h.sync.deferred).toBe(2);
    // A writable node starts at once, whatever the member.
    self.readOnly = false;
    h.sync.onMemberEvent(event('alive', 'n1'));
    expect(h.started).toEqual(['n2', 'n1', 'n1']);
    expect(timers).toHaveLength(2);
  });

  it('a member flapping suspect/alive gets one refutation round per REFUTE_ROUND_GAP_MS, the rest coalesced into one at its end; joins are not spaced', () => {
    const timers: Array<{ at: number; fn: () => void }> = [];
    let t = 1_000;
    const h = harness({ now: () => t, later: (ms, fn) => timers.push({ at: t + ms, fn }) });
    h.lifecycle.set('n1', 'ACTIVE');
    h.sync.onMemberEvent(event('alive', 'n1')); // the first refutation: at once (a short partition healed)
    expect(h.started).toEqual(['n1']);
    for (let k = 0; k < 4; k++) {
      t += 2_000; // flapping every 2 s: coalesced
      h.sync.onMemberEvent(event('alive', 'n1'));
    }
    expect(h.started).toEqual(['n1']);
    expect(h.sync.coalesced).toBe(4);
    expect(timers.map((x) => x.at)).toEqual([1_000 + REFUTE_ROUND_GAP_MS]); // one round queued for the gap's end
    h.sync.onMemberEvent(event('join', 'n1')); // back from dead: never spaced
    expect(h.started).toEqual(['n1', 'n1']);
    t = timers[0]!.at;
    timers[0]!.fn();
    expect(h.started).toEqual(['n1', 'n1', 'n1']);
    // Another member is spaced on its own; a member that died meanwhile loses its queued round.
    h.lifecycle.set('n2', 'ACTIVE');
    h.sync.onMemberEvent(event('alive', 'n2'));
    t += 1_000;
    h.sync.onMemberEvent(event('alive', 'n2'));
    h.sync.onMemberEvent(event('dead', 'n2', 'dead'));
    timers[1]!.fn();
    expect(h.started).toEqual(['n1', 'n1', 'n1', 'n2']);
  });

  it('sharesAny: unscoped is "all", else whether any held document is shared', () => {
    expect(sharesAny(undefined, () => ['a'])).toBe('all');
    expect(sharesAny((id) => id === 'b', () => ['a', 'b'])).toBe(true);
    expect(sharesAny((id) => id === 'c', () => ['a', 'b'])).toBe(false);
  });
});

const { track } = simClusterPerTest();

describe('a replica restarted quicker than failure detection (simulator, 7 nodes, RF 3)', () => {
  it('is caught up on every document it is a replica of within 3 s of running again', { timeout: 120_000 }, async () => {
    const c = track(new SimCluster({ seed: 'return-sync-restart', nodes: 7, replicationFactor: 3 }));
    await withReplay(c, async () => {
      await c.start();
      expect(await c.runUntil(() => c.allSeeAlive(7) && c.node(0).gate.voterConfig().voters.length === 7, 60_000)).toBe(true);
      const R = 6;
      const name = c.node(R).name;
      const scope = c.node(0).memoryService.replicas.view.current();
      const agents = Array.from({ length: 24 }, (_, k) => `ag${k}`).filter((a) => scope.replicasOf(`agent/${a}`)!.includes(name));
      expect(agents.length).toBeGreaterThanOrEqual(4);
      // The other replicas of R's agents: more than one member, so one snapshot source cannot cover them all.
      const others = new Set(agents.flatMap((a) => scope.replicasOf(`agent/${a}`)!.filter((n) => n !== name)));
      expect(others.size).toBeGreaterThan(2);
      for (const a of agents) await c.settle(c.node(0).memory(a).addEpisode({ task: 'before', outcome: 'ok' }), 10_000);
      expect(await c.runUntil(() => agents.every((a) => c.node(R).memoryService.docs.has(`agent/${a}`)), 30_000, 50)).toBe(true);

      c.crash(R);
      // Writes R misses (its two co-replicas acknowledge them), to every agent it is a replica of.
      for (const a of agents) await c.settle(c.node(0).memory(a).addEpisode({ task: 'missed', outcome: 'ok' }), 10_000);
      const restarted = c.restart(R);
      await c.settle(restarted, 30_000);
      expect(c.node(R).state).toMatch(/ACTIVE|DEGRADED/);
      const runningAt = c.world.now();
      const holder = (a: string): number => c.nodes.findIndex((n) => n.name === scope.replicasOf(`agent/${a}`)!.find((x) => x !== name));
      const caughtUp = (): boolean =>
        agents.every((a) => {
          const id = `agent/${a}`;
          const mine = c.node(R).memoryService.docs;
          return mine.has(id) && equalBytes(mine.digest(id), c.node(holder(a)).memoryService.docs.digest(id));
        });
      const ok = await c.runUntil(caughtUp, 3_000, 20);
      expect(ok, `not caught up ${c.world.now() - runningAt} ms after running again`).toBe(true);
    });
  });
});
