// How facts leave a node: every outgoing packet tops its message up with queued broadcasts
// (piggybacking), a gossip round sends them to a few random members, and the one-off direct
// announcements (a join, a leave, our own dead verdicts) tell every live member at once instead
// of waiting for gossip's rounds. swim.ts decides when; this file decides what goes where.

import type { SwimConfig } from './config.js';
import type { Membership } from './membership.js';
import { retransmitLimit } from './math.js';
import { MAX_COMPOUND_PARTS, encodeCompound, encodeMessage } from './messages.js';
import { compoundPartCost, packPacket } from './packer.js';
import { pickRandom } from './probe-order.js';
import { isLive } from './state.js';
import type { MemberInfo, SwimEffect } from './types.js';
import { varUintSize } from './wire.js';

type Out = SwimEffect[];

/** Most members a node sends its own alive message to directly (announce()); gossip does the rest. */
export const ANNOUNCE_MAX = 64;
/** A compound packet's fixed overhead: its type byte and part count. */
const COMPOUND_HEADER_BYTES = 1 + varUintSize(MAX_COMPOUND_PARTS);

export class Dissemination {
  /** gossipTargets() as of a table version; `dead` are the members in it only for their window. */
  private targetCache: { version: number; at: number; list: MemberInfo[]; dead: MemberInfo[] } | undefined;

  constructor(
    private readonly self: MemberInfo,
    private readonly cfg: SwimConfig,
    private readonly random: () => number,
    private readonly membership: Membership,
    private readonly counters: Record<string, number>,
  ) {}

  /** Sends `primary` plus piggybacked broadcasts; returns false when there was nothing to send. */
  send(to: string, primary: Uint8Array[], out: Out): boolean {
    const limit = retransmitLimit(this.cfg.retransmitMult, this.membership.table.liveCount());
    const packet = packPacket(primary, this.membership.queue, this.cfg.maxPacketBytes, limit);
    if (!packet) return false;
    this.counters.packetsOut!++;
    this.counters.bytesOut! += packet.length;
    out.push({ type: 'send', to, packet });
    return true;
  }

  /** One gossip round: queued broadcasts to gossipNodes random members. */
  gossip(now: number, out: Out): void {
    if (this.membership.queue.size() === 0) return;
    // As memberlist: live members, plus the recently dead (so a falsely accused node hears it must
    // refute); never members that left, whose sockets are closed: a packet there wastes one of a
    // fact's few transmits.
    const targets = this.gossipTargets(now);
    this.counters.gossipRounds!++;
    for (const m of pickRandom(targets, this.cfg.gossipNodes, this.random)) {
      if (!this.send(m.address, [], out)) break; // queue drained
    }
  }

  /**
   * Sends our alive message straight to live members once, right after a join push-pull gave us
   * the member table. Gossip alone takes about log(N) gossip rounds to tell everyone a node
   * joined; one packet per member (a one-off cost per join) makes it one round trip.
   */
  announce(out: Out): void {
    const bytes = this.selfAlive();
    const live = [...this.membership.table.all()].filter((m) => m !== this.self && isLive(m.state));
    // Up to ANNOUNCE_MAX members hear it straight away; in a larger cluster a random sample does
    // and gossip carries it on (a 1,000-node cluster forming sent N^2/2 announcements otherwise).
    for (let i = 0; i < live.length && i < ANNOUNCE_MAX; i++) {
      const j = live.length > ANNOUNCE_MAX ? i + Math.floor(this.random() * (live.length - i)) : i;
      const m = live[j]!;
      live[j] = live[i]!;
      this.send(m.address, [bytes], out);
    }
  }

  /** Our alive message straight to one member (one that showed it holds an older version of it). */
  announceTo(address: string, out: Out): void {
    this.send(address, [this.selfAlive()], out);
  }

  /** Our graceful leave, told to every live member directly as well as queued for gossip. */
  announceLeave(out: Out): void {
    const claim = { incarnation: this.self.incarnation, name: this.self.name, from: this.self.name };
    const bytes = encodeMessage({ type: 'dead', ...claim });
    this.membership.queue.enqueue({ kind: 'dead', subject: this.self.name, from: this.self.name, bytes });
    // Gossip alone would need the driver to keep ticking for several rounds, and a member that
    // misses the news would declare us dead.
    for (const m of this.membership.table.all()) {
      if (m !== this.self && isLive(m.state)) this.send(m.address, [bytes], out);
    }
  }

  /**
   * Sends the dead verdicts our own timer reached straight to every live member and to the
   * accused, bare (no piggyback), as announce() and announceLeave() do for joins and leaves: a
   * one-off O(N) packets per death instead of gossip's several rounds until the last member hears
   * it. The verdicts stay queued for gossip as well. If the accused is in fact alive (paused, cut
   * off), it hears at once that it must refute.
   */
  announceDeaths(verdicts: { name: string; bytes: Uint8Array }[], out: Out): void {
    const packets = packAll(verdicts.map((v) => v.bytes), this.cfg.maxPacketBytes);
    const accused = new Set(verdicts.map((v) => v.name));
    for (const m of this.membership.table.all()) {
      if (m === this.self || !(isLive(m.state) || (m.state === 'dead' && accused.has(m.name)))) continue;
      for (const packet of packets) {
        this.counters.packetsOut!++;
        this.counters.bytesOut! += packet.length;
        out.push({ type: 'send', to: m.address, packet });
      }
    }
  }

  private selfAlive(): Uint8Array {
    const s = this.self;
    return encodeMessage({ type: 'alive', incarnation: s.incarnation, name: s.name, address: s.address, meta: s.meta });
  }

  /**
   * Live members plus the recently dead, in table order. Rebuilt only when the table changed or a
   * dead member's gossip window closed: a gossip round runs every 200 ms, and filtering 1,000
   * members each time was O(N) per round.
   */
  private gossipTargets(now: number): MemberInfo[] {
    const cache = this.targetCache;
    const table = this.membership.table;
    // Time only moves on, so members left out for an expired window stay out; those in it for
    // theirs are checked again.
    const fresh = cache && cache.version === table.version && now >= cache.at && cache.dead.every((m) => now - m.stateChangedAt < this.cfg.gossipToTheDeadMs);
    if (fresh) return cache.list;
    const list: MemberInfo[] = [];
    const dead: MemberInfo[] = [];
    for (const m of table.all()) {
      if (m === this.self) continue;
      if (isLive(m.state)) list.push(m);
      else if (m.state === 'dead' && now - m.stateChangedAt < this.cfg.gossipToTheDeadMs) {
        list.push(m);
        dead.push(m);
      }
    }
    this.targetCache = { version: table.version, at: now, list, dead };
    return list;
  }
}

/** Packs messages into as few packets as fit `maxBytes` (a lone message goes bare). */
function packAll(messages: Uint8Array[], maxBytes: number): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let used = COMPOUND_HEADER_BYTES;
  const flush = (): void => {
    if (batch.length === 1) packets.push(batch[0]!);
    else if (batch.length > 1) packets.push(encodeCompound(batch));
    batch = [];
    used = COMPOUND_HEADER_BYTES;
  };
  for (const m of messages) {
    const cost = compoundPartCost(m);
    if (batch.length > 0 && (used + cost > maxBytes || batch.length === MAX_COMPOUND_PARTS)) flush();
    batch.push(m);
    used += cost;
  }
  flush();
  return packets;
}
