// Several Swim instances wired together by a tiny deterministic loop: virtual time, a seeded
// PRNG, per-packet latency and optional loss, crashed nodes that neither send nor answer. It is
// deliberately minimal (the full network simulator lives in src/sim/); it only delivers effects
// so the protocol's end-to-end behaviour can be asserted. Every failure message carries the seed.
import { describe, expect, it } from 'vitest';
import { profile, type SwimConfig } from '../../gossip/config.js';
import { encodeMessage, decodePacket } from '../../gossip/messages.js';
export const pingLog: string[] = [];
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
        if (e.to === 'n31:7946' && decodePacket(e.packet, 2000).some((m) => m.type === 'ping')) pingLog.push(`${swim.name}@${this.now}/h${swim.localHealth()}`);
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

it('trace', () => {
  for (const seed of [1, 2, 3, 4]) {
    const h = new Harness(seed);
    const names = bootCluster(h, 32);
    h.runUntil(30_000, () => allSeeAllAlive(h, names));
    const conv = h.now;
    h.runUntil(40_000);
    const crashAt = h.now;
    pingLog.length = 0;
    h.down.add(h.addr('n31'));
    h.runUntil(crashAt + 60_000, () => h.viewsOf('n31').every((s) => s === 'dead'));
    const sus = h.eventsAbout('n31', 'suspect').map((e) => e.at - crashAt);
    const dead = h.eventsAbout('n31', 'dead').map((e) => e.at - crashAt);
    const fp = h.events.filter((e) => e.event.kind === 'suspect' && e.event.member.name !== 'n31').length;
    console.log(pingLog.slice(0, 8).join(' '), crashAt);
    console.log(seed, conv, Math.min(...sus), Math.max(...sus), Math.min(...dead), Math.max(...dead), fp);
  }
});
