// Carrying out the merge rules of state.ts: when a claim is accepted this updates the table,
// starts or cancels Lifeguard suspicion timers, queues the fact for piggybacking and reports member
// events. swim.ts decides *when* claims arrive (packets, probe failures, push-pull, timers); this
// file decides what they do. It also reaps dead and left members once they have been shown long
// enough.

import type { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import type { SwimConfig } from './config.js';
import { suspicionConfirmationsWanted, suspicionTimeout } from './math.js';
import { internBytes } from './intern.js';
import { encodeAliveShared, encodeClaimShared, encodeMessage } from './messages.js';
import type { ProbeOrder } from './probe-order.js';
import { MemberTable, copyMember, decideAlive, decideDead, decideSuspect, isLive, type AccusationClaim, type AliveClaim } from './state.js';
import { Suspicion } from './suspicion.js';
import type { MemberEventKind, MemberInfo, SwimEffect } from './types.js';

type Out = SwimEffect[];

/** Origin recorded for suspicions learned from push-pull: no member's own probe, so any real accuser confirms. */
export const PUSH_PULL_ORIGIN = '\u0000push-pull';

export class Membership {
  readonly table = new MemberTable();
  readonly queue = new BroadcastQueue();
  readonly suspicions = new Map<string, Suspicion>();
  /** Set once we left gracefully: we stop refuting accusations about ourselves. */
  leaving = false;
  /** Earliest moment a dead/left member may be due for reaping (a lower bound, rechecked). */
  private nextReapAt = Infinity;

  constructor(
    private readonly self: MemberInfo,
    private readonly cfg: SwimConfig,
    private readonly awareness: Awareness,
    private readonly order: ProbeOrder,
    private readonly counters: Record<string, number>,
  ) {
    this.table.set(self);
  }

  get name(): string {
    return this.self.name;
  }

  /** When reap() next has work to do. */
  reapDeadline(): number {
    return this.nextReapAt;
  }

  applyAlive(claim: AliveClaim, now: number, out: Out): void {
    const existing = this.table.get(claim.name);
    const decision = decideAlive(existing, claim, claim.name === this.self.name);
    switch (decision.action) {
      case 'ignore':
        if (decision.reason === 'address-conflict') this.counters.addressConflicts!++;
        return;
      case 'refute':
        if (!this.leaving) this.refute(claim.incarnation);
        return;
      case 'add': {
        const member: MemberInfo = { name: claim.name, address: claim.address, meta: internBytes(claim.meta), incarnation: claim.incarnation, state: 'alive', stateChangedAt: now };
        this.table.set(member);
        this.order.add(member.name);
        this.broadcastClaim(member, claim);
        this.emit('join', member, out);
        return;
      }
      case 'accept': {
        const member = existing!;
        member.address = claim.address;
        member.meta = internBytes(claim.meta);
        member.incarnation = claim.incarnation;
        this.table.touch();
        this.table.setState(member, 'alive', now);
        this.suspicions.delete(member.name);
        this.broadcastClaim(member, claim);
        if (decision.event) this.emit(decision.event, member, out);
        return;
      }
    }
  }

  applySuspect(claim: AccusationClaim, now: number, out: Out): void {
    const existing = this.table.get(claim.name);
    const decision = decideSuspect(existing, claim, claim.name === this.self.name, this.leaving);
    switch (decision.action) {
      case 'ignore':
        if (decision.reason === 'stale' && claim.name === this.self.name) this.reannounce();
        else if (decision.reason === 'stale') this.confirmStale(claim);
        return;
      case 'refute':
        this.refute(claim.incarnation);
        return;
      case 'confirm': {
        const suspicion = this.suspicions.get(claim.name);
        if (suspicion && claim.from !== PUSH_PULL_ORIGIN && suspicion.confirm(claim.from)) {
          this.counters.confirmations!++;
          // Pass the new accuser's claim on: every member's timer should count it.
          this.queue.enqueue({ kind: 'suspect', subject: claim.name, from: claim.from, bytes: encodeMessage({ type: 'suspect', ...claim }) });
        }
        return;
      }
      case 'suspect': {
        const member = existing!;
        member.incarnation = claim.incarnation;
        this.table.touch();
        this.table.setState(member, 'suspect', now);
        const n = this.table.liveCount();
        // memberlist: min = suspicionMult * log(n) * interval, max = suspicionMaxTimeoutMult * min.
        const base = suspicionTimeout(this.cfg.suspicionMult, n, this.cfg.probeIntervalMs);
        const min = this.cfg.suspicionMinMult === undefined ? base : suspicionTimeout(this.cfg.suspicionMinMult, n, this.cfg.probeIntervalMs);
        const k = suspicionConfirmationsWanted(this.cfg.suspicionMult, n);
        this.suspicions.set(member.name, new Suspicion(claim.from, k, min, base * this.cfg.suspicionMaxTimeoutMult, now));
        this.counters.suspicions!++;
        if (claim.from !== PUSH_PULL_ORIGIN) {
          this.queue.enqueue({ kind: 'suspect', subject: claim.name, from: claim.from, bytes: encodeMessage({ type: 'suspect', ...claim }) });
        }
        this.emit('suspect', member, out);
        return;
      }
    }
  }

  applyDead(claim: AccusationClaim, now: number, out: Out): void {
    const existing = this.table.get(claim.name);
    const decision = decideDead(existing, claim, claim.name === this.self.name, this.leaving);
    switch (decision.action) {
      case 'ignore':
        if (decision.reason === 'stale' && claim.name === this.self.name) this.reannounce();
        else if (decision.reason === 'stale') this.confirmStale(claim);
        return;
      case 'refute':
        this.refute(claim.incarnation);
        return;
      case 'mark': {
        const member = existing!;
        member.incarnation = claim.incarnation;
        this.table.touch();
        this.table.setState(member, decision.state, now);
        this.suspicions.delete(member.name);
        this.nextReapAt = Math.min(this.nextReapAt, member.stateChangedAt + this.cfg.reapAfterMs);
        this.counters[decision.state === 'left' ? 'leaves' : 'deaths']!++;
        this.queue.enqueue({ kind: 'dead', subject: claim.name, from: claim.from, bytes: encodeMessage({ type: 'dead', ...claim }) });
        this.emit(decision.state, member, out);
        return;
      }
    }
  }

  /**
   * An accusation of an older incarnation of a member we suspect ourselves: it changes nothing
   * (the merge rules ignore it), but it counts as a confirmation of our own suspicion. The accuser
   * failed to reach the member recently, which is the same evidence whatever incarnation it had
   * heard of; it just missed the member's last metadata update. Without this, when a member is
   * killed right after such an update, the survivors that heard of it and those that did not
   * confirm only among themselves, and the first group waits for a barely confirmed timer (11 s
   * instead of 3 s at 5 nodes, seen in bench/membership). A live member still refutes our
   * suspicion, which carries its current incarnation; the stale claim is not passed on.
   */
  private confirmStale(claim: AccusationClaim): void {
    if (claim.from === PUSH_PULL_ORIGIN || claim.from === this.self.name) return;
    if (this.table.get(claim.name)?.state !== 'suspect') return;
    if (this.suspicions.get(claim.name)?.confirm(claim.from)) this.counters.confirmations!++;
  }

  /**
   * An accusation of an older incarnation of us means the accuser never heard our refutation
   * (it was sent its few times and is gone from our queue). Queue our current alive again so the
   * answer we are about to send (the ack to a buddy-rule ping) carries it; otherwise that member's
   * timer would run to its maximum and declare us dead.
   */
  private reannounce(): void {
    if (this.leaving) return;
    this.counters.reannounced!++;
    this.broadcastAlive(this.self);
  }

  /** Someone thinks we are suspect or dead, or holds a newer picture of us: out-number it. */
  refute(accusedIncarnation: number): void {
    this.self.incarnation = Math.max(this.self.incarnation, accusedIncarnation) + 1;
    this.table.touch();
    this.counters.refutations!++;
    // Being accused suggests our own packets are late or lost: slow our accusations of others.
    this.awareness.applyDelta(1);
    this.broadcastAlive(this.self);
  }

  /** broadcastAlive of `m` just updated from `claim` (same incarnation, name, address and meta bytes). */
  private broadcastClaim(m: MemberInfo, claim: AliveClaim): void {
    this.queue.enqueue({ kind: 'alive', subject: m.name, bytes: encodeClaimShared(claim) });
  }

  broadcastAlive(m: MemberInfo): void {
    const bytes = encodeAliveShared({ type: 'alive', incarnation: m.incarnation, name: m.name, address: m.address, meta: m.meta });
    this.queue.enqueue({ kind: 'alive', subject: m.name, bytes });
  }

  /**
   * Declares dead every suspect whose Lifeguard timer ran out. Returns those verdicts (the dead
   * messages we originated) so the caller can announce them.
   */
  expireSuspicions(now: number, out: Out): { name: string; bytes: Uint8Array }[] {
    const declared: { name: string; bytes: Uint8Array }[] = [];
    for (const [name, s] of this.suspicions) {
      if (now < s.deadline()) continue;
      this.suspicions.delete(name);
      const m = this.table.get(name);
      if (!m || m.state !== 'suspect') continue;
      const claim = { incarnation: m.incarnation, name, from: this.self.name };
      this.applyDead(claim, now, out);
      if (this.table.get(name)?.state === 'dead') declared.push({ name, bytes: encodeMessage({ type: 'dead', ...claim }) });
    }
    return declared;
  }

  /** Removes dead and left members that have been listed for reapAfterMs. */
  reap(now: number, out: Out): void {
    if (now < this.nextReapAt) return;
    this.nextReapAt = Infinity;
    for (const m of [...this.table.all()]) {
      if (m === this.self || isLive(m.state)) continue;
      const due = m.stateChangedAt + this.cfg.reapAfterMs;
      if (now < due) {
        this.nextReapAt = Math.min(this.nextReapAt, due);
        continue;
      }
      this.table.delete(m.name);
      this.order.remove(m.name);
      this.queue.forget(m.name);
      this.suspicions.delete(m.name);
      this.counters.reaped!++;
      this.emit('reap', m, out);
    }
  }

  emit(kind: MemberEventKind, member: MemberInfo, out: Out): void {
    // The event shares the record's interned meta (see MemberEvent): a copy per event per node
    // was one more array of heap per (node, member) pair, kept by the member directory.
    out.push({ type: 'member', event: { kind, member: copyMember(member, true) } });
  }
}
