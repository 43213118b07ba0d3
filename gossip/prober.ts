// The failure detector's probe cycle and the relay side of indirect probes.
//
// Our probe: ping the target; at the (health-stretched) probe timeout, ask up to indirectChecks
// alive members to ping it for us and to nack if it stays silent; when the (health-stretched)
// period ends without any ack, accuse it. Lifeguard's self-awareness feeds on the outcome: a direct
// ack lowers our health score, every relay that failed to nack raises it (their nacks not reaching
// us means our own network is the problem), so a struggling node slows itself down.
//
// Suspects jump the round-robin (memberlist waits until its round-robin happens to reach them):
//  - first probe: when we hear that someone else suspects a member and its timer still wants
//    confirmations, we probe it at our very next period, so the k independent confirmations
//    Lifeguard needs arrive within about one period instead of trickling in over several, and
//    the timer falls to its minimum early;
//  - last-chance probes: in the last periods before our timer would declare it dead, we probe
//    it again. A live suspect whose refutation we missed (lost to packet loss) answers the
//    buddy-rule ping with an ack carrying that refutation, which saves it from a false death.
// Both kinds carry the suspicion (the buddy rule), so a live suspect refutes at once.
//
// Hinted members jump it too: when the node's stream connection to a member breaks (a killed
// process's kernel closes its sockets at once), the driver hints it and we probe that member next
// instead of waiting for the round-robin to reach it (on average N/2 periods at one prober, about
// one period for the first of N-1 probers). A hint accuses nobody: the probe runs the whole
// protocol (direct ping, relays, nacks) and only a failed probe suspects.
//
// As a relay: ping the target with a sequence number of our own, forward its ack to the
// requester, and send a nack if nothing came back within probeTimeout.

import type { Awareness } from './awareness.js';
import type { SwimConfig } from './config.js';
import { ewma } from './math.js';
import type { Membership } from './membership.js';
import { encodeMessage, type Ack, type Nack, type PingReq } from './messages.js';
import { pickRandom, type ProbeOrder } from './probe-order.js';
import { isLive } from './state.js';
import type { Suspicion } from './suspicion.js';
import type { MemberInfo, SwimEffect } from './types.js';

type Out = SwimEffect[];
/** Sends primary messages (plus piggyback) to an address; false when nothing went out. */
export type SendFn = (to: string, primary: Uint8Array[], out: Out) => boolean;

/** Weight of the newest sample in the per-member RTT average. */
const RTT_EWMA_ALPHA = 0.2;
/** Probes of a suspect in the periods just before our timer for it runs out. */
const LAST_CHANCE_PROBES = 2;

/** What we already did about one suspicion (keyed by the timer, so it dies with it). */
interface SuspectProbes {
  first: boolean;
  lastChance: number;
}

interface ProbeInFlight {
  seq: number;
  target: string;
  address: string;
  startedAt: number;
  ackDeadline: number;
  endDeadline: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  requester: string;
  requesterSeq: number;
  /** When we stop waiting for the target's ack (and drop this relay). */
  deadline: number;
  /** When we tell the requester the target is silent, if it asked for nacks (undefined once sent). */
  nackAt: number | undefined;
}

/**
 * When a relay nacks: at half the probe timeout after it pinged the target (memberlist nacks at
 * the full timeout). The requester asks its relays at its own probe timeout and counts their nacks
 * when its period ends, probeInterval - probeTimeout later (500 ms in the lan profile); a nack that
 * misses that window counts as *our* fault (Lifeguard self-awareness) and stretches our probe
 * period. Nacking at the full timeout always missed it; at 80% it left 100 ms for two packets and
 * two event-loop delays, which 32 node processes on 2 cores exceed routinely: every failed probe of
 * a crashed member then raised most survivors' health score by 2-3, so their next probes (of the
 * next crash) ran at 2-3x their period. In the simulator, 32 nodes with 0-150 ms of jitter per
 * packet, a crash every few seconds: mean health at the next crash 1.2 at 80% vs 0.1 at 50%, and
 * detection by all 5.96 s vs 4.77 s (median). An early nack loses nothing: the relay still forwards
 * an ack that comes later, up to the full timeout, and an ack ends the probe whatever the nacks.
 */
const NACK_AT = 0.5;

export class Prober {
  private probe: ProbeInFlight | undefined;
  private readonly relays = new Map<number, Relay>();
  private readonly suspectProbes = new WeakMap<Suspicion, SuspectProbes>();
  private seq = 0;
  private lastWasUrgent = false;
  /** Members to probe before anyone else (see hint()); oldest hint first. */
  private readonly hinted = new Set<string>();

  constructor(
    private readonly self: MemberInfo,
    private readonly cfg: SwimConfig,
    private readonly random: () => number,
    private readonly membership: Membership,
    private readonly awareness: Awareness,
    private readonly order: ProbeOrder,
    private readonly counters: Record<string, number>,
    private readonly send: SendFn,
  ) {}

  /** Starts the probe of this period: an urgent suspect if any, else the next round-robin member. */
  start(now: number, out: Out): void {
    const table = this.membership.table;
    const live = (name: string): boolean => {
      const m = table.get(name);
      return m !== undefined && m !== this.self && isLive(m.state);
    };
    // First probes of suspects alternate with the round-robin: after a partition one node may hold
    // many suspicions at once, and serving only those would leave members it has not probed yet
    // unsuspected for a long time (Lifeguard also stretches a cut-off node's periods). Last-chance
    // probes are few (two per suspicion) and time-critical, so they never wait.
    const hinted = this.takeHint(live);
    const urgent = hinted ?? this.urgentSuspect(now, !this.lastWasUrgent);
    const targetName = urgent ?? this.order.next(live) ?? this.urgentSuspect(now, true);
    this.lastWasUrgent = urgent !== undefined && hinted === undefined;
    if (targetName === undefined) return;
    const target = table.get(targetName)!;
    const seq = this.nextSeq();
    this.probe = {
      seq, target: target.name, address: target.address, startedAt: now,
      ackDeadline: now + this.awareness.scale(this.cfg.probeTimeoutMs),
      endDeadline: now + this.awareness.scale(this.cfg.probeIntervalMs),
      indirectSent: false, expectedNacks: 0, nacks: 0,
    };
    this.counters.probes!++;
    this.send(target.address, [...this.buddy(target), encodeMessage({ type: 'ping', seq, target: target.name })], out);
  }

  /** Drops the probe in flight (we are leaving). */
  cancel(): void {
    this.probe = undefined;
    this.hinted.clear();
  }

  /** Asks for `name` to be the next member probed (see the header); the caller rate-limits. */
  hint(name: string): void {
    this.hinted.add(name);
  }

  /** True when a hinted member waits and no probe is in flight: the caller may start one now. */
  hintWaiting(): boolean {
    return this.probe === undefined && this.hinted.size > 0;
  }

  /** The oldest hinted member that is still worth probing (alive or suspect), removing it and any stale hints before it. */
  private takeHint(live: (name: string) => boolean): string | undefined {
    for (const name of this.hinted) {
      this.hinted.delete(name);
      if (live(name)) return name;
    }
    return undefined;
  }

  /** Runs due timeouts: indirect probes, probe failure, relay nacks. */
  advance(now: number, out: Out): void {
    const p = this.probe;
    if (p && !p.indirectSent && now >= p.ackDeadline) this.askRelays(p, out);
    if (p && now >= p.endDeadline) this.fail(p, now, out);
    for (const [seq, r] of this.relays) {
      if (r.nackAt !== undefined && now >= r.nackAt) {
        r.nackAt = undefined;
        this.counters.relayNacksSent!++;
        this.send(r.requester, [encodeMessage({ type: 'nack', seq: r.requesterSeq })], out);
      }
      if (now >= r.deadline) this.relays.delete(seq);
    }
  }

  /** The earliest of our pending timeouts (Infinity when idle). */
  deadline(): number {
    let at = Infinity;
    if (this.probe) at = this.probe.indirectSent ? this.probe.endDeadline : this.probe.ackDeadline;
    for (const r of this.relays.values()) at = Math.min(at, r.nackAt ?? r.deadline, r.deadline);
    return at;
  }

  onPingReq(from: string, msg: PingReq, now: number, out: Out): void {
    if (msg.target === this.self.name) {
      // Asked to probe ourselves (the requester's view of our address is stale): answer directly.
      this.send(from, [encodeMessage({ type: 'ack', seq: msg.seq })], out);
      return;
    }
    const seq = this.nextSeq();
    this.relays.set(seq, { requester: from, requesterSeq: msg.seq, deadline: now + this.cfg.probeTimeoutMs, nackAt: msg.wantNack ? now + Math.floor(NACK_AT * this.cfg.probeTimeoutMs) : undefined });
    this.counters.relayedPings!++;
    const known = this.membership.table.get(msg.target);
    const buddy = known && known.address === msg.targetAddress ? this.buddy(known) : [];
    this.send(msg.targetAddress, [...buddy, encodeMessage({ type: 'ping', seq, target: msg.target })], out);
  }

  onAck(from: string, msg: Ack, now: number, out: Out): void {
    const p = this.probe;
    if (p && p.seq === msg.seq) {
      this.probe = undefined;
      if (from === p.address) {
        this.counters.acks!++;
        this.awareness.applyDelta(-1);
        const target = this.membership.table.get(p.target);
        if (target) target.rttMs = ewma(target.rttMs, now - p.startedAt, RTT_EWMA_ALPHA);
      } else {
        this.counters.indirectAcks!++; // alive, but our direct path failed: no health credit
      }
      return;
    }
    const relay = this.relays.get(msg.seq);
    if (relay) {
      this.relays.delete(msg.seq);
      this.send(relay.requester, [encodeMessage({ type: 'ack', seq: relay.requesterSeq })], out);
      return;
    }
    this.counters.lateAcks!++;
  }

  onNack(msg: Nack): void {
    this.counters.nacks!++;
    if (this.probe && this.probe.seq === msg.seq) this.probe.nacks++;
  }

  /** The suspect most in need of a probe from us now (earliest deadline first), if any. */
  private urgentSuspect(now: number, allowFirst: boolean): string | undefined {
    const window = LAST_CHANCE_PROBES * this.awareness.scale(this.cfg.probeIntervalMs);
    let best: { name: string; deadline: number; mark: () => void } | undefined;
    for (const [name, suspicion] of this.membership.suspicions) {
      if (this.membership.table.get(name)?.state !== 'suspect') continue;
      let done = this.suspectProbes.get(suspicion);
      if (!done) this.suspectProbes.set(suspicion, (done = { first: false, lastChance: 0 }));
      const deadline = suspicion.deadline();
      const first = allowFirst && !done.first && suspicion.origin !== this.self.name && suspicion.confirmations() < suspicion.k;
      const lastChance = done.lastChance < LAST_CHANCE_PROBES && deadline - now <= window;
      if (!first && !lastChance) continue;
      if (best && best.deadline <= deadline) continue;
      const flags = done;
      best = { name, deadline, mark: first ? () => (flags.first = true) : () => flags.lastChance++ };
    }
    best?.mark();
    return best?.name;
  }

  /**
   * Lifeguard's buddy system: a ping to a suspect carries the suspicion, placed before the ping so
   * the suspect queues its refutation before it acks and the ack carries it straight back.
   */
  private buddy(target: MemberInfo): Uint8Array[] {
    if (target.state !== 'suspect') return [];
    return [encodeMessage({ type: 'suspect', incarnation: target.incarnation, name: target.name, from: this.self.name })];
  }

  private askRelays(p: ProbeInFlight, out: Out): void {
    p.indirectSent = true;
    const candidates = [...this.membership.table.all()].filter((m) => m !== this.self && m.name !== p.target && m.state === 'alive');
    const relays = pickRandom(candidates, this.cfg.indirectChecks, this.random);
    p.expectedNacks = relays.length;
    const req = encodeMessage({ type: 'ping-req', seq: p.seq, target: p.target, targetAddress: p.address, wantNack: true });
    for (const relay of relays) {
      this.counters.indirectProbes!++;
      this.send(relay.address, [req], out);
    }
  }

  private fail(p: ProbeInFlight, now: number, out: Out): void {
    this.probe = undefined;
    this.counters.probeFailures!++;
    // Missing nacks mean our own packets are not getting through: blame ourselves first.
    this.awareness.applyDelta(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
    const target = this.membership.table.get(p.target);
    if (target && isLive(target.state)) {
      this.membership.applySuspect({ incarnation: target.incarnation, name: target.name, from: this.self.name }, now, out);
    }
  }

  private nextSeq(): number {
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1;
    return this.seq;
  }
}
