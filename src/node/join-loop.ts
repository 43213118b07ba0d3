// How a node finds and keeps its cluster: joining through seeds (or LAN discovery), catching up
// (voter configuration, then a full memory snapshot) before it votes, reconnecting to FAILED
// members after a partition, rediscovering the LAN while alone, and pulling a full snapshot when
// the writable side says it was removed while away.
import type { Swim } from '../../gossip/swim.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { joinWithBackoff } from './join.js';
import type { MemberDirectory } from './member-directory.js';
import type { NodeLifecycle } from './node-lifecycle.js';
import type { SwimDriver } from './swim-driver.js';
import type { VoterConfigDriver } from './voter-config-driver.js';

/** Sent by the writable side to a removed member that is back: pull a full snapshot from me. */
export const REJOIN_METHOD = METHODS.quorumRejoin;
/** How many voters a learner tells directly that it caught up (see start()). */
const LEARNER_TELLS = 3;
/** How often a node that discovered nobody asks the LAN again while it is alone. */
const REDISCOVER_MS = 3000;
/**
 * How often a node tries to reach one FAILED member again (serf's reconnect loop waits 30 s).
 * After a partition longer than gossip-to-the-dead this is how the sides find each other, so it
 * bounds the time from heal to one cluster; one attempt in flight at a time.
 */
const RECONNECT_MS = 1000;
/** Further voters a learner pulls the documents it will hold from (besides its first source), and how long it waits for each. */
const PREWARM_SOURCES = 3;
const PREWARM_TIMEOUT_MS = 10_000;
/** Members of the writable side all ask at once; one rejoin snapshot per this long is enough. */
const REJOIN_SNAPSHOT_EVERY_MS = 30_000;

export interface JoinLoopOptions {
  self: string;
  address: string;
  join: string[];
  discover: (() => Promise<string[]>) | undefined;
  runtime: Runtime;
  log: Logger;
  swim: Swim;
  rpc: RpcEndpoint;
  driver: () => SwimDriver;
  directory: MemberDirectory;
  lifecycle: NodeLifecycle;
  gate: QuorumGate;
  voterConfig: VoterConfigDriver;
  memory: MemoryService;
  stopped: () => boolean;
  /** Stops the node at once (a seed refused our name). */
  crash: () => Promise<void>;
  /** Caught up after the start and running (ACTIVE, or DEGRADED as a learner). */
  onCaughtUp?: () => void;
  /** Pre-warm as a learner (default true). */
  prewarm?: boolean;
}

export class JoinLoop {
  private rejoinSnapshotAt = -Infinity;
  /** The voter configuration's epoch at our last full pull: a removal learnt on a later one pulls again (pullOnReturn). */
  private pulledEpoch = 0;
  /** Which seed seedWhileCutOff tries next. */
  private seedTurn = 0;

  constructor(private readonly o: JoinLoopOptions) {}

  /** Joins the cluster (or founds one) and catches up; resolves once ACTIVE, or DEGRADED as a learner. */
  async start(): Promise<void> {
    const o = this.o;
    let seeds = o.join.filter((s) => s !== o.address);
    if (seeds.length === 0 && o.discover) {
      o.lifecycle.set('DISCOVERING');
      seeds = (await o.discover()).filter((s) => s !== o.address);
    }
    if (seeds.length > 0) {
      o.lifecycle.set('JOINING');
      // A seed's refusal (a name clash) rejects: the node stops instead of running under that name.
      // A member that knew us (member-snapshot.ts) may reach us while our seeds are still down.
      const reached = () => o.swim.members().some((m) => m.name !== o.self && m.state === 'alive');
      const joined = await joinWithBackoff(seeds, (s) => o.driver().pushPull(s, true), o.runtime, o.stopped, o.log, reached).catch(async (err: unknown) => {
        await o.crash();
        throw err;
      });
      if (!joined) return;
      await this.catchUp();
    } else {
      // Nobody to join: this node founds a cluster (unless it holds a configuration already, as
      // after a restart). See src/quorum/voter-config.ts "Genesis".
      o.gate.found();
    }
    if (o.stopped()) return;
    // Caught up. A member that is not on the voter configuration (a new one, or one removed while
    // away) is a learner: read-only until the writable side admits it, so DEGRADED from the start
    // rather than ACTIVE for a moment (whoever waits for ACTIVE would take it for writable).
    const learner = !o.gate.isVoter(o.self);
    o.lifecycle.set(learner ? 'DEGRADED' : 'ACTIVE');
    // A learner tells the lowest-named voters (the designated proposers) straight away that it is
    // caught up: gossip alone took seconds to bring a forming 200-node cluster's learners to them.
    if (learner) this.tellProposers();
    o.log.info({ members: o.directory.size, seeds, learner }, learner ? 'node is caught up: a learner (DEGRADED) until the cluster admits it as a voter' : 'node is ACTIVE');
    o.lifecycle.startChecks();
    // What the one snapshot source does not hold for us (replica sets), and whatever a restart missed.
    o.onCaughtUp?.();
    this.reconnectFailed();
    if (o.discover && o.join.length === 0) this.rediscoverWhileAlone();
  }

  /**
   * Our configuration word changed. A voter announces it to every live member: quorums count on
   * it. A learner past catching up (a member removed while away that now learnt so) tells the
   * proposers directly, as start() does: the planner admits only learners it sees on its own
   * configuration, and waiting for gossip to carry the word cost seconds of a heal. (A learner
   * announcing to everyone was N x 64 packets while a cluster formed.)
   */
  announceWord(): void {
    const o = this.o;
    if (o.gate.isVoter(o.self)) o.driver().apply(o.swim.announce(o.runtime.clock.now()));
    else if (o.lifecycle.state === 'DEGRADED' || o.lifecycle.state === 'ACTIVE') {
      this.tellProposers();
      this.pullOnReturn();
    }
  }

  /** A member is reachable again: if it is a voter and we learnt our removal while none was, pull now. */
  memberBack(name: string): void {
    if (this.o.gate.isVoter(name) && !this.o.gate.isVoter(this.o.self) && this.o.lifecycle.state === 'DEGRADED') this.pullOnReturn();
  }

  /**
   * We learnt that the writable side removed us while we were away: pull what we missed now, from
   * a live voter, instead of once it has admitted us again (reading needs no vote; the admission
   * round and our catch-up then overlap). The writable side's notice after the admission
   * (rejoinSnapshot) finds this pull recent and runs a delta round with its sender instead.
   */
  private pullOnReturn(): void {
    const o = this.o;
    const c = o.gate.voterConfig();
    if (!c.removed.includes(o.self)) return;
    const live = c.voters.filter((v) => v.name !== o.self && o.swim.peek(v.name)?.state === 'alive');
    if (live.length === 0 || c.epoch <= this.pulledEpoch) return;
    this.rejoinSnapshot(live[Math.floor(o.runtime.rng.next() * live.length)]!.name, true);
  }

  private tellProposers(): void {
    const o = this.o;
    for (const v of o.gate.voterConfig().voters.slice(0, LEARNER_TELLS)) {
      const m = o.swim.peek(v.name);
      if (m && m.state === 'alive') o.driver().apply(o.swim.announceTo(m.address));
    }
  }

  /** A removed member we admitted again cannot know it was removed: tell it to pull a full snapshot. */
  tellRejoin(name: string): void {
    const m = this.o.swim.peek(name);
    if (m) this.o.rpc.notify(m.address, REJOIN_METHOD, new TextEncoder().encode(this.o.self)).catch((err: Error) => this.o.log.debug({ member: name, err: err.message }, 'rejoin notice failed'));
  }

  /**
   * A removed member that comes back rejoins with a full snapshot (DESIGN.md "Quorum and split
   * brain"): it cannot know it was removed, so the writable side, admitting it again, tells it;
   * it also pulls by itself as soon as it learns its removal (`early`, pullOnReturn). A pull
   * begun or done within REJOIN_SNAPSHOT_EVERY_MS is not repeated: a delta round with `from`
   * (anti-entropy: a 64-byte probe when equal) covers whatever was acknowledged since.
   */
  rejoinSnapshot(from: string, early = false): void {
    const now = this.o.runtime.clock.now();
    if (this.o.stopped() || from === this.o.self || !this.o.swim.peek(from)) return;
    if (now - this.rejoinSnapshotAt < REJOIN_SNAPSHOT_EVERY_MS) {
      if (!early) this.o.memory.antiEntropyWith(from);
      return;
    }
    const at = (this.rejoinSnapshotAt = now);
    const epoch = this.pulledEpoch;
    this.pulledEpoch = this.o.gate.voterConfig().epoch;
    this.o.log.info({ from, early }, 'removed from the voter set while away: pulling a full snapshot');
    void this.o.memory.fullSnapshotFrom(from, 30_000).then((ok) => {
      if (!ok) {
        this.o.log.warn({ from }, 'rejoin snapshot did not complete; anti-entropy will finish catching up');
        // The next notice (or removal learnt) pulls again rather than a delta round.
        if (this.rejoinSnapshotAt === at) [this.rejoinSnapshotAt, this.pulledEpoch] = [-Infinity, epoch];
      } else this.o.log.info({ from, durationMs: Math.round(this.o.runtime.clock.now() - now), documents: this.o.memory.digest().documents }, 'rejoin catch-up done');
    });
  }

  /** SYNCING: the voter configuration, then a full snapshot of all memory from one live member, before voting. */
  private async catchUp(): Promise<void> {
    const o = this.o;
    const sources = o.swim.members().filter((m) => m.name !== o.self && m.state === 'alive');
    for (const m of sources) o.memory.addPeer(m.name);
    if (sources.length === 0) return;
    o.lifecycle.set('SYNCING');
    // The voter configuration first: the cluster may have removed us, or changed the voter set, while we were away.
    for (const s of sources.slice(0, 3)) if (o.stopped() || (await o.voterConfig.catchUpFrom(s.name))) break;
    // A member that still lists us as left or dead (it has not heard our new incarnation yet, as
    // after a restart) has no address for us and drops its answer; so ask again, rotating through
    // the live members, with growing waits (2+4+8+16 s).
    // A learner's snapshot carries the documents it will hold (pre-warm): slower to take in, and a
    // retry elsewhere would send them again, so it waits longer.
    const firstWait = this.prewarms() ? PREWARM_TIMEOUT_MS : 2000;
    for (let attempt = 0; attempt < 4 && !o.stopped(); attempt++) {
      const source = sources[attempt % sources.length]!;
      if (await o.memory.fullSnapshotFrom(source.name, firstWait * 2 ** attempt)) {
        // A full pull on this configuration (caught up above): its removal, if it says so, needs no second one.
        this.pulledEpoch = o.gate.voterConfig().epoch;
        await this.prewarm(source.name);
        return;
      }
      o.log.info({ from: source.name, attempt: attempt + 1 }, 'no full snapshot yet; asking again');
    }
    o.log.warn({ from: sources.map((m) => m.name) }, 'full snapshot did not complete; anti-entropy will finish catching up');
  }

  /**
   * Pre-warm (docs/replica-sets.md "Pre-warm"): a learner's full snapshot carries the documents
   * its source replicates that the learner will hold once admitted; any N - RF + 1 voters include
   * a replica of each, so it pulls from up to PREWARM_SOURCES more live voters at once, then waits
   * until what it took in is on disk. All before it says it is caught up (the proposers admit it
   * then), so the writes that need it as a replica do not wait for it to take in whole documents.
   */
  private async prewarm(first: string): Promise<void> {
    const o = this.o;
    const c = o.gate.voterConfig();
    if (!this.prewarms()) return;
    const more = c.voters.filter((v) => v.name !== first && v.name !== o.self && o.swim.peek(v.name)?.state === 'alive').slice(0, Math.min(PREWARM_SOURCES, c.voters.length - c.replicationFactor));
    const t0 = o.runtime.clock.now();
    await Promise.all(more.map((v) => o.memory.fullSnapshotFrom(v.name, PREWARM_TIMEOUT_MS)));
    await o.memory.stored();
    o.log.info({ sources: [first, ...more.map((v) => v.name)], documents: o.memory.digest().documents, durationMs: Math.round(o.runtime.clock.now() - t0) }, 'pre-warmed the documents this node will hold once admitted');
  }

  /** Whether this node pre-warms: a learner of a configuration with more voters than RF (else every voter holds everything: the first snapshot had it all). */
  private prewarms(): boolean {
    const c = this.o.gate.voterConfig();
    return this.o.prewarm !== false && !this.o.gate.isVoter(this.o.self) && c.voters.length > c.replicationFactor;
  }

  /**
   * After a partition both sides have declared each other dead, and SWIM stops talking to dead
   * members, so a partition longer than gossip-to-the-dead never healed. Like serf's reconnect
   * loop: now and then push-pull with one FAILED (not LEFT) member; if it answers, each side
   * refutes the other's dead verdict with a new incarnation and the member rejoins by itself.
   */
  private reconnectFailed(): void {
    const o = this.o;
    o.runtime.scheduler.schedule(RECONNECT_MS, () => {
      if (o.stopped()) return;
      const dead = o.directory.deadAddresses();
      const pick = dead.length > 1 ? dead[Math.floor(o.runtime.rng.next() * dead.length)] : dead[0];
      const seed = pick === undefined ? this.seedWhileCutOff() : undefined;
      if (pick === undefined && seed === undefined) return this.reconnectFailed();
      void o
        .driver()
        .pushPull(pick ?? seed!, pick === undefined)
        .finally(() => this.reconnectFailed());
    });
  }

  /**
   * A seed to join again when no other voter of our configuration is even in our member table
   * (so no FAILED member to reconnect to): as after a restart while cut off, where the one member
   * that reached us was a newcomer joining through us, and the cluster lists us LEFT and never
   * gossips to us. Seeds in turn, one attempt per reconnect round.
   */
  private seedWhileCutOff(): string | undefined {
    const o = this.o;
    const seeds = o.join.filter((s) => s !== o.address);
    if (seeds.length === 0) return undefined;
    // Stops at the first other voter in our table (one or two lookups in a formed cluster, not a copy of N voters per round).
    let others = false;
    for (const v of o.gate.voterConfig().voters) {
      if (v.name === o.self) continue;
      if (o.swim.peek(v.name) !== undefined) return undefined;
      others = true;
    }
    return others ? seeds[this.seedTurn++ % seeds.length] : undefined;
  }

  /**
   * Nodes started together on a LAN may all find nobody and each become a cluster of one; while
   * alone, keep asking the LAN and join whoever answers, so they merge into one cluster.
   */
  private rediscoverWhileAlone(): void {
    const o = this.o;
    o.runtime.scheduler.schedule(REDISCOVER_MS * (0.5 + o.runtime.rng.next()), () => {
      if (o.stopped() || o.swim.members().some((m) => m.name !== o.self && m.state === 'alive')) return;
      void o.discover!()
        .then(async (found) => {
          const seeds = found.filter((s) => s !== o.address);
          for (const s of seeds) if (await o.driver().pushPull(s, true)) break;
        })
        .catch((err: Error) => o.log.debug({ err: err.message }, 'rediscovery failed'))
        .finally(() => this.rediscoverWhileAlone());
    });
  }
}
