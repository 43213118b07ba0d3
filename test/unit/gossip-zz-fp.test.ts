// Several Swim instances wired together by a tiny deterministic loop: virtual time, a seeded
// PRNG, per-packet latency and optional loss, crashed nodes that neither send nor answer. It is
// deliberately minimal (the full network simulator lives in src/sim/); it only delivers effects
// so the protocol's end-to-end behaviour can be asserted. Every failure message carries the seed.
import { describe, expect, it } from 'vitest';
import { profile, type SwimConfig } from '../../gossip/config.js';
import { encodeMessage } from '../../gossip/messages.js';
import { Swim, type MemberEvent, type MemberState, type SwimEffect } from '../../gossip/swim.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

it('fp', () => {
  for (const mm of [undefined, 2]) for (const loss of [0.1, 0.2]) {
    let deaths = 0, susp = 0;
    for (let seed = 200; seed < 204; seed++) {
      const h = new Harness(seed, profile('lan', mm === undefined ? {} : { suspicionMinMult: mm }));
      const names = bootCluster(h, 8);
      h.runUntil(15_000, () => allSeeAllAlive(h, names));
      h.loss = loss;
      h.runUntil(h.now + 600_000);
      deaths += h.events.filter((e) => e.event.kind === 'dead').length;
      susp += h.events.filter((e) => e.event.kind === 'suspect').length;
    }
    console.log(`RESULT minMult=${mm} loss=${loss} falseDeaths=${deaths} suspicions=${susp}`);
  }
});
it('fpdetail', () => {
  for (let seed = 200; seed < 204; seed++) {
    const h = new Harness(seed, profile('lan', { suspicionMinMult: 2 }));
    const names = bootCluster(h, 8);
    h.runUntil(15_000, () => allSeeAllAlive(h, names));
    h.loss = 0.2;
    h.runUntil(h.now + 600_000);
    const dead = h.events.filter((e) => e.event.kind === 'dead');
    for (const d of dead) {
      const victim = d.event.member.name;
      const tl = h.events.filter((e) => e.event.member.name === victim && e.at > d.at - 30_000 && e.at < d.at + 5000).map((e) => `${e.node}:${e.event.kind}#${e.event.member.incarnation}@${e.at}`);
      console.log(`RESULT seed ${seed} victim ${victim} at ${d.at} by ${d.node}: ${tl.join(' ')}`);
    }
  }
});
