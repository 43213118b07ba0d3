// The SWIM membership state machine with the Lifeguard refinements, sans-IO: the driver feeds it
// packets and the time, and carries out the effects it returns (send a packet, run a push-pull,
// report a member event). Nothing here reads a clock, draws randomness or touches a socket.
//
// One probe runs per (health-stretched) period: ping the target; at the probe timeout ask k
// relays to ping it for us (ping-req) and to nack if it stays silent; if the period ends without
// any ack, suspect it. A suspicion becomes death when its Lifeguard timer runs out; confirmations
// from other members shorten that timer. Facts spread by piggybacking on probes and acks and by
// periodic gossip; push-pull exchanges the whole table now and then.

import { ConfigError } from '../errors/index.js';
import { Awareness } from './awareness.js';
import { CatchUp, type CatchUpReason } from './catch-up.js';
import { validateConfig, type SwimConfig } from './config.js';
import { Membership, PUSH_PULL_ORIGIN } from './membership.js';
import { pushPullScale } from './math.js';
import { Dissemination } from './dissemination.js';
import { MAX_ADDRESS_BYTES, MAX_META_BYTES, MAX_NAME_BYTES, decodePacket, encodeMessage, type GossipMessage } from './messages.js';
import { ProbeOrder, pickRandom } from './probe-order.js';
import { Prober } from './prober.js';
import { findNameClash, type NameClash } from './name-clash.js';
import { decodePushPull, encodeTable, type PushPullState } from './push-pull.js';
import { internBytes } from './intern.js';
import { copyMember, isLive } from './state.js';
import type { MemberInfo, SwimEffect } from './types.js';
import { utf8Length } from './wire.js';

/** Gossip rounds without a new member before a catch-up push-pull (catch-up.ts). */
const CATCH_UP_QUIET_ROUNDS = 5;
/** Hint times kept before old ones are swept (they only matter for one probe period). */
const HINT_MEMORY = 64;

export type { MemberEvent, MemberEventKind, MemberInfo, MemberState, SwimEffect } from './types.js';
export type { SwimConfig } from './config.js';
export type { NameClash } from './name-clash.js';
export { ANNOUNCE_MAX } from './dissemination.js';

export interface SwimInit {
  name: string;
  address: string;
  meta: Uint8Array;
  /** Start above any incarnation a previous life of this node may have used (0 if unknown). */
  incarnation?: number;
  config: SwimConfig;
  random: () => number;
  now: number;
  /**
   * The stable identity a member's metadata carries (the application's node id), or undefined
   * when it carries none. With it, a push-pull request from a second node under a live member's
   * name is refused (mergeRequest); without it, every request is merged.
   */
  identity?: (meta: Uint8Array) => string | undefined;
}

type Out = SwimEffect[];

export class Swim {
  readonly name: string;
  private readonly cfg: SwimConfig;
  private readonly random: () => number;
  private readonly identity: ((meta: Uint8Array) => string | undefined) | undefined;
  private readonly self: MemberInfo;
  private readonly membership: Membership;
  private readonly awareness: Awareness;
  private readonly order: ProbeOrder;
  private readonly prober: Prober;
  private nextProbeAt: number;
  private nextGossipAt: number;
  private nextPushPullAt: number;
  private readonly catchUp: CatchUp;
  /** When each member was last hinted unreachable (rate limit of hintUnreachable). */
  private readonly lastHintAt = new Map<string, number>();
  private readonly dissemination: Dissemination;
  private readonly counters: Record<string, number> = {
    probes: 0, probeFailures: 0, acks: 0, indirectAcks: 0, nacks: 0, indirectProbes: 0, relayedPings: 0,
    relayNacksSent: 0, lateAcks: 0, misdirectedPings: 0, suspicions: 0, confirmations: 0, refutations: 0, reannounced: 0,
    deaths: 0, hints: 0, leaves: 0, reaped: 0, addressConflicts: 0, nameClashes: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0,
    bytesOut: 0, droppedMalformed: 0, handlerErrors: 0, gossipRounds: 0, pushPulls: 0, pushPullMerges: 0,
  };

  constructor(init: SwimInit) {
    validateConfig(init.config);
    if (init.name.length === 0 || utf8Length(init.name) > MAX_NAME_BYTES) throw new ConfigError(`member name must be 1-${MAX_NAME_BYTES} bytes, got "${init.name}"`);
    if (utf8Length(init.address) > MAX_ADDRESS_BYTES) throw new ConfigError(`member address must be at most ${MAX_ADDRESS_BYTES} bytes`);
    checkMeta(init.meta);
    this.name = init.name;
    this.cfg = { ...init.config };
    this.random = init.random;
    this.identity = init.identity;
    this.awareness = new Awareness(this.cfg.awarenessMaxMultiplier);
    this.order = new ProbeOrder(this.random);
    this.self = { name: init.name, address: init.address, meta: internBytes(init.meta), incarnation: init.incarnation ?? 0, state: 'alive', stateChangedAt: init.now };
    this.membership = new Membership(this.self, this.cfg, this.awareness, this.order, this.counters);
    this.dissemination = new Dissemination(this.self, this.cfg, this.random, this.membership, this.counters);
    this.prober = new Prober(this.self, this.cfg, this.random, this.membership, this.awareness, this.order, this.counters, (to, primary, out) => this.dissemination.send(to, primary, out));
    // Random phases so that nodes started together do not probe and gossip in lockstep.
    this.nextProbeAt = init.now + Math.floor(this.random() * this.cfg.probeIntervalMs);
    this.nextGossipAt = init.now + Math.floor(this.random() * this.cfg.gossipIntervalMs);
    // The first push-pull falls anywhere in the first interval (as memberlist's): a node that joined
    // while others' state changes were still spreading catches up within one interval, not two.
    this.nextPushPullAt = init.now + Math.floor(this.random() * this.cfg.pushPullIntervalMs);
    this.catchUp = new CatchUp(CATCH_UP_QUIET_ROUNDS * this.cfg.gossipIntervalMs, this.cfg.gossipIntervalMs);
  }

  // ---- driving -------------------------------------------------------------------------------

  tick(now: number): SwimEffect[] {
    const out: Out = [];
    this.prober.advance(now, out);
    const declared = this.membership.expireSuspicions(now, out);
    if (declared.length > 0) this.dissemination.announceDeaths(declared, out);
    if (now >= this.nextProbeAt || this.prober.hintWaiting()) {
      // A hinted probe starts a fresh period (the next round-robin probe moves back by at most one).
      if (!this.membership.leaving) this.prober.start(now, out);
      this.nextProbeAt = now + this.awareness.scale(this.cfg.probeIntervalMs);
    }
    if (now >= this.nextGossipAt) {
      this.dissemination.gossip(now, out);
      this.nextGossipAt = now + this.cfg.gossipIntervalMs;
    }
    if (now >= this.nextPushPullAt) {
      if (!this.membership.leaving) this.periodicPushPull(out);
      this.nextPushPullAt = now + pushPullScale(this.cfg.pushPullIntervalMs, this.membership.table.liveCount());
    } else {
      const due = this.catchUp.due(this.membership.table.size(), now);
      if (due && !this.membership.leaving) this.catchUpPull(due, out);
    }
    this.membership.reap(now, out);
    return out;
  }

  nextDeadline(): number {
    let at = Math.min(this.nextProbeAt, this.nextGossipAt, this.nextPushPullAt, this.catchUp.deadline());
    if (this.prober.hintWaiting()) return 0; // due now (a hinted probe waits for the slot only)
    at = Math.min(at, this.prober.deadline());
    for (const s of this.membership.suspicions.values()) at = Math.min(at, s.deadline());
    return Math.min(at, this.membership.reapDeadline());
  }

  receive(from: string, packet: Uint8Array, now: number): SwimEffect[] {
    this.counters.packetsIn!++;
    this.counters.bytesIn! += packet.length;
    let messages: GossipMessage[];
    try {
      messages = decodePacket(packet, this.cfg.maxPacketBytes);
    } catch {
      this.counters.droppedMalformed!++;
      return [];
    }
    const out: Out = [];
    for (const msg of messages) {
      try {
        this.handle(from, msg, now, out);
      } catch {
        // A bug must not take the node's receive loop down with it; the counter makes it visible
        // (tests assert it stays 0).
        this.counters.handlerErrors!++;
      }
    }
    return out;
  }

  join(seeds: string[], _now: number): SwimEffect[] {
    const unique = [...new Set(seeds)].filter((s) => s !== this.self.address);
    return unique.map((to) => ({ type: 'push-pull', to, join: true }));
  }

  /** Our member table with our own record first: that is how a receiver knows who sent it (name-clash.ts). */
  encodeState(join: boolean): Uint8Array {
    // Ourselves first, then every other record of the table, in table order.
    const table = this.membership.table;
    const size = table.size() + (table.get(this.name) === this.self ? 0 : 1);
    return encodeTable(join, this.self, table.all(), size);
  }

  /** Merges the answer to a push-pull we asked for (a join's or a periodic one). */
  mergeState(payload: Uint8Array, now: number): SwimEffect[] {
    const remote = decodePushPull(payload); // throws DecodeError before anything changes
    const before = this.membership.table.size();
    const out = this.merge(remote, now);
    // The answer's first record is the member that answered (encodeState).
    this.catchUp.merged(before, this.membership.table.size(), now, remote.members[0]?.name);
    return out;
  }

  /**
   * A push-pull request from another member (a join or a periodic exchange): merged as
   * mergeState does, unless its sender is a second node under the name of a member we hold alive
   * (name-clash.ts). Then nothing is merged and the clash is returned for the driver to refuse.
   */
  mergeRequest(payload: Uint8Array, now: number): { effects: SwimEffect[] } | { clash: NameClash } {
    const remote = decodePushPull(payload);
    const sender = remote.members[0];
    const clash = this.identity && sender ? findNameClash(this.membership.table.get(sender.name), sender, this.identity) : undefined;
    if (clash) {
      this.counters.nameClashes!++;
      return { clash };
    }
    return { effects: this.merge(remote, now) };
  }

  private merge(remote: PushPullState, now: number): SwimEffect[] {
    this.counters.pushPullMerges!++;
    const out: Out = [];
    for (const m of remote.members) {
      if (m.state === 'alive') {
        this.membership.applyAlive(m, now, out);
      } else if (m.state === 'left') {
        this.membership.applyDead({ incarnation: m.incarnation, name: m.name, from: m.name }, now, out);
      } else {
        // Unlike memberlist, a member we never heard of is learnt even when the peer holds it
        // suspect or dead: a joining node that skipped it would count fewer voters than the rest
        // of the cluster and could believe a minority to be a majority. It enters as suspect.
        if (!this.membership.table.get(m.name)) this.membership.applyAlive(m, now, out);
        // Like memberlist: a remote "dead" only makes us suspect, so one node's stale verdict
        // cannot kill a member without our own timer (and its chance to refute) running.
        this.membership.applySuspect({ incarnation: m.incarnation, name: m.name, from: PUSH_PULL_ORIGIN }, now, out);
      }
    }
    return out;
  }

  /**
   * Evidence from outside the protocol that `name` may be gone: the node's stream connection to it
   * broke. We probe it next, at once if no probe is in flight (see Prober). Ignored for ourselves,
   * for members not alive or suspect, while leaving, and within one probe period of the previous
   * hint about the same member (a flapping connection must not turn into a probe storm).
   */
  hintUnreachable(name: string, now: number): SwimEffect[] {
    const m = this.membership.table.get(name);
    if (this.cfg.probeOnConnectionLoss === false || m === undefined || m === this.self || !isLive(m.state) || this.membership.leaving) return [];
    const last = this.lastHintAt.get(name);
    if (last !== undefined && now - last < this.cfg.probeIntervalMs) return [];
    this.lastHintAt.set(name, now);
    if (this.lastHintAt.size > 4 * HINT_MEMORY) this.forgetOldHints(now);
    this.counters.hints!++;
    this.prober.hint(name);
    return this.prober.hintWaiting() ? this.tick(now) : [];
  }

  private forgetOldHints(now: number): void {
    for (const [name, at] of this.lastHintAt) if (now - at >= this.cfg.probeIntervalMs) this.lastHintAt.delete(name);
  }

  leave(now: number): SwimEffect[] {
    if (this.membership.leaving) return [];
    this.membership.leaving = true;
    this.prober.cancel();
    this.membership.table.setState(this.self, 'left', now);
    const out: Out = [];
    this.dissemination.announceLeave(out);
    this.membership.emit('left', this.self, out);
    return out;
  }

  /**
   * Sends our alive message straight to live members once (up to ANNOUNCE_MAX, dissemination.ts),
   * right after a join push-pull gave us the member table.
   */
  announce(_now: number): SwimEffect[] {
    const out: Out = [];
    this.dissemination.announce(out);
    return out;
  }

  /**
   * Sends our alive message straight to one member: one that showed it holds an older version of
   * it (our metadata update was gossiped to others but not to it).
   */
  announceTo(address: string): SwimEffect[] {
    const out: Out = [];
    this.dissemination.announceTo(address, out);
    return out;
  }

  setMeta(meta: Uint8Array, _now: number): SwimEffect[] {
    checkMeta(meta);
    this.self.meta = internBytes(meta);
    this.self.incarnation++;
    this.membership.table.touch();
    const out: Out = [];
    this.membership.broadcastAlive(this.self);
    this.membership.emit('update', this.self, out);
    return out;
  }

  // ---- queries ----------------------------------------------------------------------------------

  members(): MemberInfo[] {
    return [...this.membership.table.all()].map((m) => copyMember(m));
  }

  /**
   * Calls `fn` for every member without copying: a read-only view for hot paths (the quorum check
   * and member views run per node per tick; copying 1,000 members with their meta each time was
   * most of the simulator's garbage). `fn` must not keep or modify what it is given.
   */
  forEachMember(fn: (m: Readonly<MemberInfo>) => void): void {
    for (const m of this.membership.table.all()) fn(m);
  }

  /**
   * Grows whenever a member is added or removed or its address, meta, incarnation or state changes
   * (RTT estimates aside): views derived from the member table can be cached until it moves.
   */
  tableVersion(): number {
    return this.membership.table.version;
  }

  member(name: string): MemberInfo | undefined {
    const m = this.membership.table.get(name);
    return m ? copyMember(m) : undefined;
  }

  /**
   * One member's record without copying it, for hot paths that read a field or two (an address
   * lookup per RPC, per-member checks in every quorum round): member() copies the record and its
   * meta bytes each time. The result must not be kept or modified.
   */
  peek(name: string): Readonly<MemberInfo> | undefined {
    return this.membership.table.get(name);
  }

  incarnation(): number {
    return this.self.incarnation;
  }

  localHealth(): number {
    return this.awareness.healthScore();
  }

  stats(): Record<string, number> {
    return {
      ...this.counters,
      members: this.membership.table.size(),
      liveMembers: this.membership.table.liveCount(),
      activeSuspicions: this.membership.suspicions.size,
      broadcastQueue: this.membership.queue.size(),
      localHealth: this.awareness.healthScore(),
    };
  }

  // ---- incoming messages -------------------------------------------------------------------------

  private handle(from: string, msg: GossipMessage, now: number, out: Out): void {
    switch (msg.type) {
      case 'ping':
        if (msg.target !== this.name) {
          this.counters.misdirectedPings!++; // the address now belongs to someone else
          return;
        }
        this.dissemination.send(from, [encodeMessage({ type: 'ack', seq: msg.seq })], out);
        return;
      case 'ping-req': return this.prober.onPingReq(from, msg, now, out);
      case 'ack': return this.prober.onAck(from, msg, now, out);
      case 'nack': return this.prober.onNack(msg);
      case 'alive': return this.membership.applyAlive(msg, now, out);
      case 'suspect': return this.membership.applySuspect(msg, now, out);
      case 'dead': return this.membership.applyDead(msg, now, out);
    }
  }

  // ---- dissemination and housekeeping ----------------------------------------------------------

  /** A burst pull goes back to the member that taught us last (catch-up.ts); a quiet one to a random member. */
  private catchUpPull(reason: CatchUpReason, out: Out): void {
    const teacher = reason === 'burst' ? this.catchUp.teacher() : undefined;
    const m = teacher === undefined ? undefined : this.membership.table.get(teacher);
    if (!m || m === this.self || m.state !== 'alive') return this.periodicPushPull(out);
    this.counters.pushPulls!++;
    out.push({ type: 'push-pull', to: m.address, join: false });
  }

  private periodicPushPull(out: Out): void {
    const peers = [...this.membership.table.all()].filter((m) => m !== this.self && m.state === 'alive');
    const [peer] = pickRandom(peers, 1, this.random);
    if (!peer) return;
    this.counters.pushPulls!++;
    out.push({ type: 'push-pull', to: peer.address, join: false });
  }

}

function checkMeta(meta: Uint8Array): void {
  if (meta.length > MAX_META_BYTES) throw new ConfigError(`member meta is ${meta.length} bytes; the limit is ${MAX_META_BYTES}: store less in it`);
}
