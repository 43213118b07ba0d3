// Several Swim instances wired together by a tiny deterministic loop: virtual time, a seeded
// PRNG, per-packet latency and optional loss, crashed nodes that neither send nor answer. It is
// deliberately minimal (the full network simulator lives in src/sim/); it only delivers effects
// so the protocol's end-to-end behaviour can be asserted. Every failure message carries the seed.
import { describe, expect, it } from 'vitest';
import { profile, type SwimConfig } from '../../gossip/config.js';
import { encodeMessage } from '../../gossip/messages.js';
import { Swim, type MemberEvent, type MemberState, type SwimEffect } from '../../gossip/swim.js';
import { seeded as mulberry32 } from '../lib/seeded.js';

interface Pending { at: number; order: number; run: () => void }

class Harness {
  now = 0;
  readonly nodes = new Map<string, Swim>(); // by address
  readonly down = new Set<string>();
  readonly events: { at: number; node: string; event: MemberEvent }[] = [];
  loss = 0;
  private queue: Pending[] = [];
  private order = 0;
  private readonly rand: () => number;

  constructor(readonly seed: number, readonly config: SwimConfig = profile('lan')) {
    this.rand = mulberry32(seed);
  }

  addr(name: string): string {
    return `${name}:7946`;
  }

  start(name: string, incarnation = 0): Swim {
    const swim = new Swim({ name, address: this.addr(name), meta: new TextEncoder().encode(`meta-${name}`), incarnation, config: this.config, random: mulberry32(this.seed * 7919 + this.nodes.size + incarnation * 31 + name.length), now: this.now });
    this.nodes.set(swim.member(name)!.address, swim);
    this.down.delete(this.addr(name));
    return swim;
  }

  node(name: string): Swim {
    return this.nodes.get(this.addr(name))!;
  }

  apply(fromAddr: string, effects: SwimEffect[]): void {
    const swim = this.nodes.get(fromAddr)!;
    for (const e of effects) {
      if (e.type === 'member') {
        this.events.push({ at: this.now, node: swim.name, event: e.event });
      } else if (e.type === 'send') {
        expect(e.packet.length, `seed ${this.seed}`).toBeLessThanOrEqual(this.config.maxPacketBytes);
        if (this.down.has(e.to) || this.down.has(fromAddr) || this.rand() < this.loss) continue;
        this.later(() => {
          const to = this.nodes.get(e.to);
          if (to && !this.down.has(e.to)) this.apply(e.to, to.receive(fromAddr, e.packet, this.now));
        });
      } else {
        // push-pull over a reliable stream: request, merge, reply, merge.
        this.later(() => {
          const peer = this.nodes.get(e.to);
          if (!peer || this.down.has(e.to) || this.down.has(fromAddr)) return;
          const request = swim.encodeState(e.join);
          this.apply(e.to, peer.mergeState(request, this.now));
          const reply = peer.encodeState(false);
          this.later(() => {
            if (!this.down.has(fromAddr)) this.apply(fromAddr, swim.mergeState(reply, this.now));
          });
        });
      }
    }
  }

  private later(run: () => void): void {
    this.queue.push({ at: this.now + 1 + Math.floor(this.rand() * 5), order: this.order++, run });
  }

  runUntil(until: number, stop?: () => boolean): void {
    for (;;) {
      if (stop?.()) return;
      let nextEvent: Pending | undefined;
      for (const p of this.queue) if (!nextEvent || p.at < nextEvent.at || (p.at === nextEvent.at && p.order < nextEvent.order)) nextEvent = p;
      let nextTick = Infinity;
      for (const [addr, swim] of this.nodes) if (!this.down.has(addr)) nextTick = Math.min(nextTick, swim.nextDeadline());
      const t = Math.min(nextEvent?.at ?? Infinity, nextTick);
      if (t > until) {
        this.now = until;
        return;
      }
      this.now = Math.max(this.now, t);
      if (nextEvent && nextEvent.at <= nextTick) {
        this.queue.splice(this.queue.indexOf(nextEvent), 1);
        nextEvent.run();
        continue;
      }
      for (const [addr, swim] of this.nodes) {
        if (!this.down.has(addr) && swim.nextDeadline() <= this.now) this.apply(addr, swim.tick(this.now));
      }
    }
  }

  /** State of `name` as each running node other than `name` sees it. */
  viewsOf(name: string): (MemberState | undefined)[] {
    const out: (MemberState | undefined)[] = [];
    for (const [addr, swim] of this.nodes) if (!this.down.has(addr) && swim.name !== name) out.push(swim.member(name)?.state);
    return out;
  }

  eventsAbout(name: string, kind: MemberEvent['kind']): { at: number; node: string }[] {
    return this.events.filter((e) => e.event.member.name === name && e.event.kind === kind && e.node !== name);
  }
}

function bootCluster(h: Harness, n: number): string[] {
  const names = Array.from({ length: n }, (_, i) => `n${i}`);
  for (const name of names) h.start(name);
  for (const name of names.slice(1)) h.apply(h.addr(name), h.node(name).join([h.addr('n0')], h.now));
  return names;
}

function allSeeAllAlive(h: Harness, names: string[]): boolean {
  return names.every((a) => names.every((b) => h.node(a).member(b)?.state === 'alive'));
}

describe('SWIM cluster (deterministic harness)', () => {
  it('5 nodes join through one seed and all see 5 alive', () => {
    const seed = 1;
    const h = new Harness(seed);
    const names = bootCluster(h, 5);
    h.runUntil(10_000, () => allSeeAllAlive(h, names));
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    expect(h.now, `seed ${seed}: converged by`).toBeLessThan(5_000);
    for (const name of names) expect(h.node(name).members(), `seed ${seed}`).toHaveLength(5);
    // Probing measured round trips (harness latency is 1-5 ms each way).
    h.runUntil(h.now + 10_000);
    const rtt = h.node('n0').member('n1')?.rttMs;
    expect(rtt, `seed ${seed}`).toBeGreaterThan(0);
    expect(rtt!, `seed ${seed}`).toBeLessThan(12);
  });

  it('a crashed node is suspected, then declared dead by all, within about one period of the 4 s floor', () => {
    const seeds = [11, 12, 13, 14, 15, 16, 17, 18];
    const times: number[] = [];
    for (const seed of seeds) {
      const h = new Harness(seed);
      const names = bootCluster(h, 5);
      h.runUntil(20_000);
      expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
      const crashAt = h.now;
      h.down.add(h.addr('n4'));
      h.runUntil(crashAt + 60_000, () => h.viewsOf('n4').every((s) => s === 'dead'));
      expect(h.viewsOf('n4'), `seed ${seed}`).toEqual(['dead', 'dead', 'dead', 'dead']);
      const suspected = h.eventsAbout('n4', 'suspect');
      expect(suspected.length, `seed ${seed}`).toBe(4);
      const firstSuspicion = Math.min(...suspected.map((e) => e.at));
      const allDead = Math.max(...h.eventsAbout('n4', 'dead').map((e) => e.at));
      // Prioritised probes bring the k = 2 confirmations in fast enough that the verdict lands
      // at the lan minimum (4 s at 5 nodes) after the first suspicion, not on the 24 s maximum.
      expect(allDead - firstSuspicion, `seed ${seed}`).toBeLessThan(4_200);
      times.push(allDead - crashAt);
      for (const other of names.slice(0, 4)) expect(h.eventsAbout(other, 'suspect'), `seed ${seed}`).toEqual([]);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    // serf (memberlist lan) measured 5.7-8.0 s at 5 nodes; see the report for going further.
    expect(Math.max(...times), `seeds ${seeds.join(',')}: ${times.join(', ')} ms`).toBeLessThan(8_000);
    expect(mean, `seeds ${seeds.join(',')}: ${times.join(', ')} ms`).toBeLessThan(6_500);
  });

  it('with suspicionMinMult 2 a crash at 5 nodes is detected in about 3.7 s (serf: 5.7-8.0 s)', () => {
    const times: number[] = [];
    for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
      const h = new Harness(seed, profile('lan', { suspicionMinMult: 2 }));
      const names = bootCluster(h, 5);
      h.runUntil(20_000);
      expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
      const crashAt = h.now;
      h.down.add(h.addr('n4'));
      h.runUntil(crashAt + 60_000, () => h.viewsOf('n4').every((s) => s === 'dead'));
      expect(h.viewsOf('n4'), `seed ${seed}`).toEqual(['dead', 'dead', 'dead', 'dead']);
      times.push(Math.max(...h.eventsAbout('n4', 'dead').map((e) => e.at)) - crashAt);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    expect(mean, `seeds 11-18: ${times.join(', ')} ms`).toBeLessThan(4_500);
  });

  it('at 32 nodes a crash is detected by all within first-probe + the 6 s floor, and nobody else is suspected', () => {
    for (const seed of [71, 72]) {
      const h = new Harness(seed);
      const names = bootCluster(h, 32);
      h.runUntil(30_000, () => allSeeAllAlive(h, names));
      expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
      h.runUntil(40_000);
      const crashAt = h.now;
      h.down.add(h.addr('n31'));
      h.runUntil(crashAt + 60_000, () => h.viewsOf('n31').every((s) => s === 'dead'));
      expect(new Set(h.viewsOf('n31')), `seed ${seed}`).toEqual(new Set(['dead']));
      const firstSuspicion = Math.min(...h.eventsAbout('n31', 'suspect').map((e) => e.at));
      const allDead = Math.max(...h.eventsAbout('n31', 'dead').map((e) => e.at));
      // suspicionTimeout(4, 32, 1 s) = 6.02 s; confirmations arrive in time to reach it (the
      // unconfirmed maximum would be 36 s).
      expect(allDead - firstSuspicion, `seed ${seed}`).toBeLessThan(7_000);
      const others = h.events.filter((e) => e.event.kind === 'suspect' && e.event.member.name !== 'n31');
      expect(others, `seed ${seed}`).toEqual([]);
    }
  });

  it('a suspected but alive node refutes and nobody declares it dead', () => {
    const seed = 21;
    const h = new Harness(seed);
    const names = bootCluster(h, 5);
    h.runUntil(15_000);
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    const before = h.node('n2').incarnation();
    // n1 receives a (false) accusation of n2 from n3.
    const lie = encodeMessage({ type: 'suspect', incarnation: before, name: 'n2', from: 'n3' });
    h.apply(h.addr('n1'), h.node('n1').receive(h.addr('n3'), lie, h.now));
    expect(h.node('n1').member('n2')?.state, `seed ${seed}`).toBe('suspect');
    h.runUntil(h.now + 40_000);
    expect(h.node('n2').incarnation(), `seed ${seed}`).toBeGreaterThan(before);
    expect(h.node('n2').stats().refutations, `seed ${seed}`).toBeGreaterThanOrEqual(1);
    expect(h.viewsOf('n2'), `seed ${seed}`).toEqual(['alive', 'alive', 'alive', 'alive']);
    expect(h.eventsAbout('n2', 'dead'), `seed ${seed}`).toEqual([]);
    expect(h.eventsAbout('n2', 'alive').length, `seed ${seed}`).toBeGreaterThan(0);
  });

  it('a graceful leave shows as left everywhere, never dead', () => {
    const seed = 31;
    const h = new Harness(seed);
    const names = bootCluster(h, 5);
    h.runUntil(15_000);
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    h.apply(h.addr('n3'), h.node('n3').leave(h.now));
    h.runUntil(h.now + 500); // the driver lingers briefly, then the process exits
    h.down.add(h.addr('n3'));
    h.runUntil(h.now + 60_000);
    expect(h.viewsOf('n3'), `seed ${seed}`).toEqual(['left', 'left', 'left', 'left']);
    expect(h.eventsAbout('n3', 'dead'), `seed ${seed}`).toEqual([]);
    expect(h.eventsAbout('n3', 'left').length, `seed ${seed}`).toBe(4);
  });

  it('dead and left members stay visible, then are reaped after reapAfterMs', () => {
    const seed = 41;
    const h = new Harness(seed, profile('lan', { reapAfterMs: 120_000 }));
    bootCluster(h, 4);
    h.runUntil(15_000);
    h.down.add(h.addr('n3'));
    h.runUntil(h.now + 30_000);
    expect(h.viewsOf('n3'), `seed ${seed}`).toEqual(['dead', 'dead', 'dead']);
    h.runUntil(h.now + 60_000);
    expect(h.viewsOf('n3'), `seed ${seed}: still listed before reapAfterMs`).toEqual(['dead', 'dead', 'dead']);
    h.runUntil(h.now + 60_000);
    expect(h.viewsOf('n3'), `seed ${seed}`).toEqual([undefined, undefined, undefined]);
    expect(h.eventsAbout('n3', 'reap').length, `seed ${seed}`).toBe(3);
  });

  it('a restarted node with a lower incarnation refutes the stale death and is alive again', () => {
    const seed = 51;
    const h = new Harness(seed);
    const names = bootCluster(h, 5);
    h.runUntil(15_000);
    // Push n4's incarnation up so its restart (at 0) is clearly older than what others remember.
    for (let i = 0; i < 3; i++) h.apply(h.addr('n4'), h.node('n4').setMeta(new Uint8Array([i]), h.now));
    h.runUntil(h.now + 5_000);
    const oldIncarnation = h.node('n0').member('n4')!.incarnation;
    expect(oldIncarnation, `seed ${seed}`).toBe(3);
    h.down.add(h.addr('n4'));
    h.runUntil(h.now + 30_000);
    expect(h.viewsOf('n4'), `seed ${seed}`).toEqual(['dead', 'dead', 'dead', 'dead']);
    const reborn = h.start('n4', 0);
    h.apply(h.addr('n4'), reborn.join([h.addr('n0')], h.now));
    h.runUntil(h.now + 10_000, () => allSeeAllAlive(h, names));
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    expect(reborn.incarnation(), `seed ${seed}`).toBeGreaterThan(oldIncarnation);
    expect(h.eventsAbout('n4', 'join').some((e) => e.at > 40_000), `seed ${seed}`).toBe(true);
  });

  it.each([
    ['memberlist lan', {}],
    ['lan with suspicionMinMult 2', { suspicionMinMult: 2 }],
  ] as const)('no false death with 10%% random packet loss over 10 minutes (%s)', (_label, overrides) => {
    const seed = 61;
    const h = new Harness(seed, profile('lan', overrides));
    const names = bootCluster(h, 6);
    h.runUntil(15_000);
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    h.loss = 0.1;
    h.runUntil(h.now + 600_000);
    const deaths = h.events.filter((e) => e.event.kind === 'dead');
    expect(deaths, `seed ${seed}`).toEqual([]);
    // The loss was real: members were suspected and refuted along the way.
    expect(h.events.filter((e) => e.event.kind === 'suspect').length, `seed ${seed}`).toBeGreaterThan(0);
    expect(names.reduce((sum, n) => sum + h.node(n).stats().refutations!, 0), `seed ${seed}`).toBeGreaterThan(0);
    h.loss = 0;
    h.runUntil(h.now + 20_000);
    expect(allSeeAllAlive(h, names), `seed ${seed}`).toBe(true);
    for (const n of names) expect(h.node(n).stats().handlerErrors, `seed ${seed}`).toBe(0);
  });
});
