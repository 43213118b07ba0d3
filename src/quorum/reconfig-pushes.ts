// Pushes of our configuration to members that show an older one, and answers to members that
// push us what we hold, paced per member (part of the sans-IO voter-set protocol,
// reconfiguration.ts). Gossip alone is not enough: a node's metadata update can be spent on a
// side it was cut off from, and then others see its old word until the next push-pull (30 s on
// lan) while it already counts on the new configuration. A node still on an old epoch that counts
// members by such stale words could call itself writable with them; pushing the configuration to
// it ends that within a check.
import { toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { QuorumGate } from './quorum-gate.js';
import { commitNotice } from './reconfig-messages.js';
import { epochOfWord, type VoterConfig } from './voter-config.js';

export interface ConfigPeer {
  name: string;
  address: string;
  /** The config word the member advertises. */
  word: number;
  alive: boolean;
}

/** What a push is: a one-way notice (the same shape as ReconfigDirective's notify). */
export interface PushNotice {
  kind: 'notify';
  to: string;
  method: string;
  payload: Uint8Array;
}

/** A member that shows an older configuration is sent ours at most this often. */
const LAGGARD_PUSH_MS = 2000;
/** The same for a member that just sent us a packet (it is certainly in touch). */
const CONTACT_PUSH_MS = 500;
/** The same for a member we hold for dead (it may be alive behind a healed partition). */
const LAGGARD_PUSH_DEAD_MS = 5000;
/**
 * In a cluster of more than GRACE_MIN_PEERS live members, no pushes for this long after our own
 * epoch changed: the chooser's commit notice went to every live member directly, and gossip is
 * carrying their new words. Pushing at once made every change cost N^2 notices. A small cluster
 * keeps pushing at once: it is cheap there, and a member that accepted a change on one side of a
 * shifting partition learns the outcome before it carries its old word to the other side
 * (quorum-voter-config.test.ts "shifting partitions").
 */
const ADOPT_GRACE_MS = 1000;
const GRACE_MIN_PEERS = 16;
/**
 * In a cluster of more than GRACE_MIN_PEERS live members, a member that shows an older
 * configuration is pushed ours only by this many members: those that follow it in name order
 * among the live members on our configuration. A push lists every voter (O(N) bytes), and every
 * member pushing every laggard was O(N^3) bytes while a large cluster formed; each laggard still
 * gets this many pushes per period, and fetches by itself once it sees a newer configuration.
 */
const PUSHERS_PER_LAGGARD = 3;

export interface PeerView {
  laggards: ConfigPeer[];
  ahead: ConfigPeer | undefined;
  peers: ConfigPeer[];
}

export class PacedPushes {
  private viewMemo: (PeerView & { from: ConfigPeer[]; epoch: number }) | undefined;
  /** pushesTo()'s answers for one view (an answer is O(N) to work out, and asked per packet). */
  private pushMemo: { view: PeerView; answers: Map<string, boolean> } | undefined;
  /** Our configuration as a commit notice (a push), encoded once per configuration. */
  private noteMemo: { config: VoterConfig; bytes: Uint8Array } | undefined;
  /** The epoch we last saw ourselves on, and since when (see ADOPT_GRACE_MS). */
  private epochSeen = -1;
  private epochSince = -Infinity;
  /** When we last answered each member's stale view of us with our metadata. */
  private readonly answeredAt = new Map<string, number>();
  /** When we last pushed our configuration to a member that showed an older one. */
  private readonly pushedAt = new Map<string, number>();

  constructor(
    private readonly self: string,
    private readonly gate: QuorumGate,
    private readonly peers: () => ConfigPeer[],
  ) {}

  /**
   * What the protocol reads of the peers, recomputed only when the peer list or our epoch changed
   * (every quorum check on every node drives the protocol: at 1,000 nodes, rescanning was most of it).
   */
  view(epoch: number): PeerView {
    const from = this.peers();
    const v = this.viewMemo;
    if (v && v.from === from && v.epoch === epoch) return v;
    const all = from.filter((p) => p.name !== this.self);
    const peers = all.filter((p) => p.alive);
    const ahead = peers.filter((p) => epochOfWord(p.word) > epoch).sort((a, b) => b.word - a.word)[0];
    const laggards = epoch === 0 ? [] : all.filter((p) => epochOfWord(p.word) < epoch);
    this.viewMemo = { from, epoch, laggards, ahead, peers };
    return this.viewMemo;
  }

  /**
   * Whether `by`'s stale view of us (it pushed us a configuration we hold) should be answered
   * with our metadata now: at most once per CONTACT_PUSH_MS and member. Answered directly, as a
   * re-announce to a random sample rarely reached it in a large cluster.
   */
  answerStaleView(by: string | undefined, now: number): boolean {
    if (by === undefined || by === this.self || now - (this.answeredAt.get(by) ?? -Infinity) < CONTACT_PUSH_MS) return false;
    if (this.answeredAt.size > 4096) this.answeredAt.clear();
    this.answeredAt.set(by, now);
    return true;
  }

  /**
   * Members that show an older configuration get ours pushed directly, members we hold for dead
   * included (less often): after a partition heals, the cut-off side sees us alive (we answer its
   * probes) well before we see it alive again.
   */
  pushToLaggards(now: number, epoch: number, out: { push(n: PushNotice): unknown }): void {
    const { laggards, peers } = this.view(epoch);
    // Only voters push: quorums count voters' words, and a learner's view counts for nobody.
    if (epoch === 0 || !this.gate.isVoter(this.self) || this.inGrace(now, epoch, peers.length)) return;
    for (const p of laggards) {
      if (epochOfWord(p.word) >= epoch || now - (this.pushedAt.get(p.name) ?? -Infinity) < (p.alive ? LAGGARD_PUSH_MS : LAGGARD_PUSH_DEAD_MS)) continue;
      if (!this.pushesTo(p.name, epoch)) continue;
      this.pushedAt.set(p.name, now);
      out.push({ kind: 'notify', to: p.address, method: METHODS.quorumCommit, payload: this.note() });
    }
  }

  /** A packet came from `name` on gossiped word `gossiped`: push it ours now if it is behind (at most once per CONTACT_PUSH_MS). */
  contact(name: string, gossiped: number, now: number, out: { push(n: PushNotice): unknown }): void {
    const epoch = this.gate.voterConfig().epoch;
    if (epochOfWord(gossiped) >= epoch) return;
    if (!this.gate.isVoter(this.self) || this.inGrace(now, epoch, this.viewMemo?.peers.length ?? 0)) return;
    // The view as of the last check (at most QUORUM_CHECK_MS old) decides who pushes: rebuilding
    // it for every packet after any member event made each packet O(N) while a cluster formed.
    const memo = this.viewMemo;
    const v = memo && memo.epoch === epoch ? memo : this.view(epoch);
    if (now - (this.pushedAt.get(name) ?? -Infinity) < CONTACT_PUSH_MS || !this.pushesTo(name, epoch, v)) return;
    const p = this.peers().find((x) => x.name === name);
    if (!p) return;
    this.pushedAt.set(name, now);
    out.push({ kind: 'notify', to: p.address, method: METHODS.quorumCommit, payload: this.note() });
  }

  /** Whether our epoch changed less than ADOPT_GRACE_MS ago, in a cluster of more than GRACE_MIN_PEERS. */
  private inGrace(now: number, epoch: number, peers: number): boolean {
    if (epoch !== this.epochSeen) {
      this.epochSeen = epoch;
      this.epochSince = now;
    }
    return peers > GRACE_MIN_PEERS && now - this.epochSince < ADOPT_GRACE_MS;
  }

  /**
   * Whether we are one of the members that push `name` our configuration (PUSHERS_PER_LAGGARD):
   * always in a small cluster; in a large one, when we follow it in name order among the live
   * members on our configuration (ourselves included), wrapping around.
   */
  private pushesTo(name: string, epoch: number, v: PeerView = this.view(epoch)): boolean {
    if (v.peers.length <= GRACE_MIN_PEERS) return true;
    if (this.pushMemo?.view !== v) this.pushMemo = { view: v, answers: new Map() };
    const known = this.pushMemo.answers.get(name);
    if (known !== undefined) return known;
    const answer = this.countPushers(name, epoch, v);
    this.pushMemo.answers.set(name, answer);
    return answer;
  }

  private countPushers(name: string, epoch: number, v: PeerView): boolean {
    // Fewer than PUSHERS_PER_LAGGARD members on our configuration lie between `name` and us in
    // circular name order. One pass, no sorted copy (a view lasts about one quorum check).
    const self = this.self;
    const between = (x: string): boolean => (name < self ? x > name && x < self : x > name || x < self);
    let count = 0;
    for (const p of v.peers) {
      if (p.name === name || epochOfWord(p.word) !== epoch || !between(p.name)) continue;
      if (++count >= PUSHERS_PER_LAGGARD) return false;
    }
    return true;
  }

  /** Our configuration as a commit notice: `by` and `epoch` first, so a receiver on it can skip the rest. */
  private note(): Uint8Array {
    const config = this.gate.voterConfig();
    if (this.noteMemo?.config !== config) this.noteMemo = { config, bytes: toJsonPayload(commitNotice(this.self, config)) };
    return this.noteMemo.bytes;
  }
}
