// A cluster node: SWIM membership, the RPC endpoint and the lifecycle an operator sees. It is
// built from an injected world (runtime, packet and stream transports), so the same class runs on
// real sockets (src/node/start-node.ts) and in the simulator (src/sim/). Memory, quorum and tasks
// attach to it as further components.
import { Swim, type MemberEvent, type MemberInfo } from '../../gossip/swim.js';
import { profile, type ProfileName, type SwimConfig } from '../../gossip/config.js';
import { ConfigError, NodeStoppedError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { PacketTransport, StreamTransport } from '../transport/types.js';
import { parseAddress } from '../transport/address.js';
import { RpcEndpoint } from '../rpc/endpoint.js';
import { SwimDriver } from './swim-driver.js';
import { decodeMeta, encodeMeta, nodeIdOf, PROTOCOL_VERSION, type NodeMeta, type Role } from './meta.js';
import { memberLifecycle, type LifecycleState } from './lifecycle.js';
import { joinWithBackoff } from './join.js';
import { IncarnationReservation } from './incarnation.js';
import { METHODS } from '../rpc/methods.js';
import { toJsonPayload } from '../rpc/json.js';
import type { NodeStore } from '../storage/types.js';
import { QuorumGate, type QuorumMember } from '../quorum/quorum-gate.js';
import { VoterConfigDriver, type ConfigPeer } from './voter-config-driver.js';
import { MemoryService } from '../memory/memory-service.js';
import { ReplicatedDoc } from '../yjs/replicated-doc.js';
import type { AgentMemory } from '../memory/agent-memory.js';
import { registerMemoryMethods } from '../memory/memory-rpc.js';
import { RecallService } from '../recall/recall-service.js';
import type { RecallHit, RecallQuery } from '../recall/recall-query.js';
import type { SyncConfig } from '../sync/index.js';
import { TaskService, TASKS_DOC } from './task-service.js';
import { NodeRetention, type RetentionOptions } from './retention-wiring.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../storage/residency.js';
import { TASKS_UPDATE_SCHEMA } from '../tasks/task-schema.js';
import { GRAPH_DOC, GRAPH_SCHEMA } from '../../crdt/knowledge-graph.js';
import type { AgentHandler } from '../agents/index.js';
import type { NewTask, SchedulerMember, TaskView } from '../tasks/index.js';
import { MIN_THROUGHPUT_SAMPLE_BYTES, ThroughputMeter } from '../tasks/routing-throughput.js';
import type { CallTiming } from '../rpc/endpoint.js';

export interface NodeWorld {
  runtime: Runtime;
  /** Gossip packets, already sealed by the keyring unless the cluster is --insecure. */
  packets: PacketTransport;
  /** Streams for push-pull, sync and client RPC, TLS unless --insecure. */
  streams: StreamTransport;
  /** Durable state (SQLite on a real node, in memory in the simulator); closed on stop. */
  store: NodeStore;
  /** Whether streams authenticate peers (TLS), so member-only RPCs can be enforced. */
  secure: boolean;
}

export interface ClusterNodeOptions {
  name: string;
  role?: Role;
  slots?: number;
  profile?: ProfileName;
  /** Overrides of the profile's gossip settings (validated with it). */
  gossip?: Partial<SwimConfig>;
  join?: string[];
  /** Stable id from the data directory; a random one when the node keeps no data. */
  nodeId: string;
  /** Incarnation to start from (persisted across restarts so a restart refutes stale claims). */
  incarnation?: number;
  rpcPort: number;
  httpPort?: number;
  /** Called to find seeds when none are given (UDP broadcast discovery). */
  discover?: () => Promise<string[]>;
  /** Members FAILED this long are removed from the voter set by the writable side (default 10 s). */
  stableAfterMs?: number;
  /** How long a write waits for a majority of voters to acknowledge it (default 5 s). */
  writeTimeoutMs?: number;
  /** Sync engine overrides (anti-entropy period and so on). */
  sync?: Partial<SyncConfig>;
  /** Task lease: a holder that neither finishes nor renews within it loses the task. */
  leaseMs?: number;
  /** Recall index file (in the data directory); ':memory:' (default) rebuilds it on each start. */
  recallIndex?: string;
  /** Finished-task trimming and memory policy sweeps (retention-wiring.ts). */
  retention?: RetentionOptions;
  /** Memory the agent documents may take before idle ones are unloaded (default 256 MiB; storage/residency.ts). */
  memoryBudgetBytes?: number;
  /** An agent document used more recently than this stays loaded (default 2 s). */
  memoryIdleMs?: number;
}

/** How often lifecycle (ACTIVE/DEGRADED) and downing are re-evaluated besides member events. */
const QUORUM_CHECK_MS = 500;
/** How many voters a learner tells directly that it caught up (see start()). */
const LEARNER_TELLS = 3;
/** How long a voter that leaves gracefully waits for its own removal from the voter set. */
const LEAVE_PROPOSAL_MS = 3000;
/** Free-slot changes are published at most this often (see the TaskService onFreeSlots hook). */
const FREE_SLOTS_PUBLISH_MS = 250;
/** Members that reconcile memory at once with a member that (re)appears, in a large cluster (see handleMemberEvent). */
const RECONCILE_FANOUT = 8;
/** Up to this many members, member events re-check quorum at once (see queueQuorumCheck). */
const EVENT_CHECK_MAX_MEMBERS = 64;

function sameQuorumMember(a: QuorumMember, b: QuorumMember): boolean {
  return a === b || (a.name === b.name && a.role === b.role && a.state === b.state && a.reachable === b.reachable && a.stateChangedAt === b.stateChangedAt && a.configWord === b.configWord);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
/** How often a node that discovered nobody asks the LAN again while it is alone. */
const REDISCOVER_MS = 3000;
/**
 * How often a node tries to reach one FAILED member again (serf's reconnect loop, which waits
 * 30 s). After a partition longer than gossip-to-the-dead this is how the sides find each other,
 * so it bounds the time from heal to one cluster; one push-pull attempt in flight at a time keeps
 * it to a connection attempt per second while members are dead (was 5 s: 2.8 s heals in the
 * heal-convergence bench, goal 2 s).
 */
const RECONNECT_MS = 1000;
/** Sent by the writable side to a removed member that is back: pull a full snapshot from me. */
export const QUORUM_REJOIN_METHOD = METHODS.quorumRejoin;
/** Members of the writable side all ask at once; one snapshot per this long is enough. */
const REJOIN_SNAPSHOT_EVERY_MS = 30_000;

/** A member as `tri nodes --json` shows it (DESIGN.md "Command line"). */
export interface MemberView {
  name: string;
  address: string;
  port: number;
  rpcPort: number;
  role: Role;
  state: LifecycleState;
  swimState: MemberInfo['state'];
  incarnation: number;
  rttMs: number | null;
  slots: number;
  freeSlots: number;
  /** HTTP port of the member's /status and dashboard (0 when off); beyond the CLI contract's fields. */
  httpPort: number;
}

/** A member record and its view (RTT aside), in name order: what members() and routing read. */
type ViewRow = { m: Readonly<MemberInfo>; v: MemberView };

/** An RTT estimate as views show it (2 decimals), null when never measured. */
function roundRtt(rttMs: number | undefined): number | null {
  return rttMs === undefined ? null : Math.round(rttMs * 100) / 100;
}

interface RoutingLive {
  throughput: (name: string) => number | null;
  ownFreeSlots: () => number;
}

/**
 * A member as task routing sees it: its view, with the values that move without a member-table
 * change (the probe RTT, the throughput this node measured, this node's own free slots: its
 * gossiped count is published up to FREE_SLOTS_PUBLISH_MS late, which would send work away from
 * slots that just freed) read when they are read. The scheduler reads them synchronously in the
 * call it was handed the list in, so it sees what a copy made for that call held.
 */
class RoutingMember implements SchedulerMember {
  readonly name: string;
  readonly state: LifecycleState;
  readonly slots: number;
  private readonly gossipedFree: number;

  constructor(
    v: MemberView,
    private readonly m: Readonly<MemberInfo>,
    private readonly self: boolean,
    private readonly live: RoutingLive,
  ) {
    this.name = v.name;
    this.state = v.state;
    this.slots = v.slots;
    this.gossipedFree = v.freeSlots;
  }

  get freeSlots(): number {
    return this.self ? this.live.ownFreeSlots() : this.gossipedFree;
  }

  get rttMs(): number | null {
    return roundRtt(this.m.rttMs);
  }

  get throughputBytesPerSec(): number | null {
    return this.live.throughput(this.name);
  }
}

/** A copy of a view with another RTT; a literal, as an object spread cost several times more. */
function withRtt(v: MemberView, rttMs: number | null): MemberView {
  return {
    name: v.name,
    address: v.address,
    port: v.port,
    rpcPort: v.rpcPort,
    role: v.role,
    state: v.state,
    swimState: v.swimState,
    incarnation: v.incarnation,
    rttMs,
    slots: v.slots,
    freeSlots: v.freeSlots,
    httpPort: v.httpPort,
  };
}

export class ClusterNode {
  readonly rpc: RpcEndpoint;
  readonly swim: Swim;
  readonly gate: QuorumGate;
  private readonly incarnations: IncarnationReservation;
  private pendingFreeSlots: number | undefined;
  private freeSlotsFlush: (() => void) | undefined;
  readonly memoryService: MemoryService;
  /** The recall index over every agent's episodes (src/recall), opened on first use or by start-node. */
  readonly recallIndex: RecallService;
  readonly tasks: TaskService;
  /** Task trimming, memory policies and forgetting (retention-wiring.ts). */
  readonly retention: NodeRetention;
  private readonly driver: SwimDriver;
  private readonly log: Logger;
  private meta: NodeMeta;
  private lifecycle: LifecycleState = 'JOINING';
  private readonly listeners = new Set<(e: MemberEvent) => void>();
  private readonly stopHooks: Array<() => Promise<void> | void> = [];
  /**
   * quorumMembers() result, valid until the next member event or lifecycle change (every change
   * to a member's state or meta emits an event). The quorum gate reads it several times per check;
   * rebuilding it, with a meta decode per member, made each check O(N) at 1,000 nodes.
   */
  private quorumCache: QuorumMember[] | undefined;
  /** The last quorumMembers() result, even after quorumCache was invalidated (see quorumMembers). */
  private quorumPrev: QuorumMember[] | undefined;
  /** voter-config peers, derived from one quorumMembers() array. */
  private configPeers: { from: QuorumMember[]; peers: ConfigPeer[] } | undefined;
  /** Decoded meta per member name, reused while the meta bytes stay the same. */
  private readonly metaCache = new Map<string, { bytes: Uint8Array; meta: NodeMeta | undefined }>();
  /** members() as of a member table version and lifecycle (RTTs are filled in per call). */
  private viewCache: { version: number; lifecycle: LifecycleState; rows: ViewRow[] } | undefined;
  /**
   * routingMembers() rows, built once per members() view version. The task leader check reads the
   * list every second on every node (names and states only); building a row per member per call,
   * with its RTT and throughput, was the largest cost of a simulated 1,000-node cluster.
   */
  private routingCache: { rows: ViewRow[]; out: SchedulerMember[] } | undefined;
  /** What RoutingMember reads live: measured throughput and our own free slots now. */
  private readonly routingLive: RoutingLive = {
    throughput: (name) => this.throughput.get(name),
    ownFreeSlots: () => this.tasks.executor.pool.freeSlots,
  };
  /** Each member's quorum row as of the record fields it was built from (see quorumMembers()). */
  private readonly quorumMemo = new Map<string, { m: Readonly<MemberInfo>; meta: Uint8Array; state: MemberInfo['state']; changedAt: number; gossiped: number; q: QuorumMember }>();
  /** Each member's voter-config peer entry as of the record fields it was built from. */
  private readonly peerMemo = new Map<string, { m: Readonly<MemberInfo>; address: string; word: number; state: MemberInfo['state']; p: ConfigPeer }>();
  /** Each member's view as of the record fields it was built from (see members()). */
  private readonly viewMemo = new Map<string, { m: Readonly<MemberInfo>; address: string; meta: Uint8Array; state: MemberInfo['state']; incarnation: number; lifecycle: LifecycleState; v: MemberView }>();
  private quorumCheckQueued = false;
  /** Members in the SWIM table (ourselves included), kept from member events: join adds, reap removes. */
  private memberCount = 1;
  private readonly known = new Set<string>();
  /** Member names by gossip address (packets arrive with the address only). */
  private readonly nameByAddress = new Map<string, string>();
  private readonly statusFields = new Map<string, () => unknown>();
  /** Throughput to each member measured from large calls (bandwidth-aware routing). */
  private readonly throughput = new ThroughputMeter();
  private stopped = false;
  /** The voter-set protocol (public so operator commands can propose changes through it). */
  readonly voterConfig: VoterConfigDriver;
  /** When this node last pulled a rejoin snapshot (several members may ask for one at once). */
  private rejoinSnapshotAt = -Infinity;

  constructor(
    readonly world: NodeWorld,
    readonly options: ClusterNodeOptions,
  ) {
    const cfg = profile(options.profile ?? 'lan', options.gossip);
    const slots = options.slots ?? 16;
    if (!Number.isInteger(slots) || slots < 0 || slots > 4096) throw new ConfigError(`slots must be an integer from 0 to 4096, got ${slots}`);
    this.log = world.runtime.logger.child({ node: options.name });
    this.gate = new QuorumGate(options.name, () => this.quorumMembers(), options.stableAfterMs ?? 10_000, this.log, {
      load: () => world.store.kvGet('quorum/voters'),
      save: (json) => world.store.kvSet('quorum/voters', json),
    }, options.role ?? 'hybrid');
    this.meta = {
      role: options.role ?? 'hybrid',
      slots,
      freeSlots: slots,
      rpcPort: options.rpcPort,
      httpPort: options.httpPort ?? 0,
      protocol: PROTOCOL_VERSION,
      lifecycle: this.lifecycle,
      nodeId: options.nodeId,
      configWord: this.gate.word(),
    };
    this.incarnations = new IncarnationReservation(world.store);
    this.rpc = new RpcEndpoint(world.streams, world.runtime, { secure: world.secure });
    this.rpc.observeCalls((t) => this.measureThroughput(t));
    this.swim = new Swim({
      name: options.name,
      address: world.packets.address,
      meta: encodeMeta(this.meta),
      incarnation: this.incarnations.start(options.incarnation ?? 0),
      config: cfg,
      random: () => world.runtime.rng.next(),
      now: world.runtime.clock.now(),
      identity: nodeIdOf,
    });
    this.rpc.handle(METHODS.members, 'client', () => toJsonPayload(this.members()));
    this.rpc.onNotify(QUORUM_REJOIN_METHOD, 'member', (payload) => this.rejoinSnapshot(new TextDecoder().decode(payload)));
    this.voterConfig = new VoterConfigDriver({
      self: options.name,
      gate: this.gate,
      rpc: this.rpc,
      runtime: world.runtime,
      log: this.log,
      peers: () => {
        const from = this.quorumMembers();
        if (this.configPeers?.from === from) return this.configPeers.peers;
        const peers: ConfigPeer[] = [];
        for (const q of from) {
          const m = this.swim.peek(q.name);
          if (!m || m.state === 'left') continue;
          let memo = this.peerMemo.get(q.name);
          // The word is the quorum row's (countedWord): gossip's, or newer if the member showed
          // us its configuration directly. The rows array is kept while no row changes, so a
          // gossiped word catching up with a counted one changes nothing here either (reading
          // the meta instead left a peer looking like a laggard, pushed every 2 s, for good).
          const word = q.configWord ?? 0;
          if (!memo || memo.m !== m || memo.address !== m.address || memo.word !== word || memo.state !== m.state) {
            memo = { m, address: m.address, word, state: m.state, p: { name: q.name, address: m.address, word, alive: m.state === 'alive' } };
            this.peerMemo.set(q.name, memo);
          }
          peers.push(memo.p);
        }
        this.configPeers = { from, peers };
        return peers;
      },
      onChosen: (_config, back) => {
        // A removed member admitted again cannot know it was removed: tell it to pull a full snapshot.
        for (const name of back) {
          const m = this.swim.member(name);
          if (m) this.rpc.notify(m.address, QUORUM_REJOIN_METHOD, new TextEncoder().encode(this.name)).catch((err: Error) => this.log.debug({ member: name, err: err.message }, 'rejoin notice failed'));
        }
      },
      onAdopted: () => this.queueQuorumCheck(),
      wake: () => this.queueQuorumCheck(),
      onVerified: () => {
        this.quorumCache = undefined;
        this.queueQuorumCheck();
      },
      // Our last metadata update may have been gossiped only to members cut off at the time.
      onStaleView: (name) => {
        const m = this.swim.peek(name);
        if (!this.stopped && m) this.driver.apply(this.swim.announceTo(m.address));
      },
    });
    this.gate.onConfigChange(() => {
      this.quorumCache = undefined;
      if (this.stopped) return;
      this.updateMeta({ configWord: this.gate.word() });
      // Straight to every live member as well: a quorum counts on this word. (Not for a learner:
      // nobody counts it, and gossip tells the proposer soon enough; a forming cluster's joiners
      // each announcing the configuration they fetched cost N x 64 packets.)
      if (this.gate.isVoter(this.name)) this.driver.apply(this.swim.announce(this.world.runtime.clock.now()));
    });
    this.memoryService = new MemoryService({
      self: options.name,
      runtime: world.runtime,
      store: world.store,
      rpc: this.rpc,
      gate: this.gate,
      addressOf: (name) => {
        const m = this.swim.peek(name);
        return m && m.state !== 'dead' && m.state !== 'left' ? m.address : undefined;
      },
      writeTimeoutMs: options.writeTimeoutMs,
      sync: options.sync,
      schemas: { [TASKS_DOC]: TASKS_UPDATE_SCHEMA, [GRAPH_DOC]: GRAPH_SCHEMA },
      residency: { budgetBytes: options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES, idleMs: options.memoryIdleMs },
    });
    this.recallIndex = new RecallService({ docs: this.memoryService.docs, scheduler: world.runtime.scheduler, file: options.recallIndex ?? ':memory:', logger: this.log });
    this.memoryService.recallWith = (agent, q) => this.recallIndex.recall(agent, q);
    registerMemoryMethods(this.rpc, this.memoryService);
    this.tasks = new TaskService({
      self: options.name,
      runtime: world.runtime,
      rpc: this.rpc,
      memory: this.memoryService,
      slots,
      members: () => this.routingMembers(),
      addressOf: (name) => {
        const m = this.swim.peek(name);
        return m && m.state !== 'dead' && m.state !== 'left' ? m.address : undefined;
      },
      writable: () => (this.lifecycle === 'ACTIVE' || this.lifecycle === 'DEGRADED') && this.gate.verdict().writable,
      onFreeSlots: (free) => {
        // Every metadata change bumps the incarnation and is gossiped: coalesce slot changes (a
        // busy node changes them thousands of times a second) into one update per period.
        this.pendingFreeSlots = free;
        if (this.freeSlotsFlush) return;
        this.freeSlotsFlush = this.world.runtime.scheduler.schedule(FREE_SLOTS_PUBLISH_MS, () => {
          this.freeSlotsFlush = undefined;
          if (!this.stopped && this.pendingFreeSlots !== undefined) this.updateMeta({ freeSlots: this.pendingFreeSlots });
        });
      },
      leaseMs: options.leaseMs,
    });
    this.retention = new NodeRetention({ runtime: world.runtime, memory: this.memoryService, tasks: this.tasks, store: world.store, writable: () => this.tasks.leads(), options: options.retention });
    this.addStatus('retention', () => this.retention.status());
    this.driver = new SwimDriver(this.swim, world.packets, this.rpc, world.runtime, (e) => this.handleMemberEvent(e), cfg.tcpTimeoutMs, () =>
      this.incarnations.observe(this.swim.incarnation()),
    );
    this.rpc.onConnectionLost((remote, outgoing) => this.hintUnreachable(remote, outgoing));
    this.driver.onPacketFrom = (address) => {
      // Only once the voter set has changed can a member be on an older configuration than ours.
      if (this.gate.voterConfig().epoch === 0) return;
      const name = this.nameByAddress.get(address);
      const m = name === undefined ? undefined : this.swim.member(name);
      if (m) this.voterConfig.contact(m.name, this.cachedMeta(m.name, m.meta)?.configWord ?? 0);
    };
  }

  /**
   * A stream connection broke: probe its member at once (Swim.hintUnreachable). We dial members at
   * their gossip address, so an outgoing connection names its member; an accepted one comes from
   * an ephemeral port and names its member only by host, when a single member lives there.
   */
  private hintUnreachable(remote: string, outgoing: boolean): void {
    if (this.stopped) return;
    let name = outgoing ? this.nameByAddress.get(remote) : undefined;
    if (!outgoing) {
      const host = parseAddress(remote).host;
      for (const [address, member] of this.nameByAddress) {
        if (parseAddress(address).host !== host) continue;
        if (name !== undefined) return; // two members on that host: we cannot tell which one
        name = member;
      }
    }
    if (name !== undefined && name !== this.name) this.driver.apply(this.swim.hintUnreachable(name, this.world.runtime.clock.now()));
  }

  get name(): string {
    return this.options.name;
  }

  get state(): LifecycleState {
    return this.lifecycle;
  }

  /** Starts gossiping and joins the cluster; resolves once ACTIVE (at once for a first node). */
  async start(): Promise<void> {
    this.driver.start();
    let seeds = (this.options.join ?? []).filter((s) => s !== this.world.packets.address);
    if (seeds.length === 0 && this.options.discover) {
      this.setLifecycle('DISCOVERING');
      seeds = (await this.options.discover()).filter((s) => s !== this.world.packets.address);
    }
    if (seeds.length > 0) {
      this.setLifecycle('JOINING');
      // A seed's refusal (a name clash) rejects: the node stops instead of running under that name.
      const joined = await joinWithBackoff(seeds, (s) => this.driver.pushPull(s, true), this.world.runtime, () => this.stopped, this.log).catch(async (err: unknown) => {
        await this.crash();
        throw err;
      });
      if (!joined) return;
      await this.catchUp();
    } else {
      // Nobody to join: this node founds a cluster (unless it holds a configuration already, as
      // after a restart). See src/quorum/voter-config.ts "Genesis".
      this.gate.found();
    }
    if (this.stopped) return;
    // Caught up. A member that is not on the voter configuration (a new one, or one removed while
    // away) is a learner: read-only until the writable side admits it, so DEGRADED from the start
    // rather than ACTIVE for a moment (whoever waits for ACTIVE would take it for writable).
    const learner = !this.gate.isVoter(this.name);
    this.setLifecycle(learner ? 'DEGRADED' : 'ACTIVE');
    // A learner tells the lowest-named voters (the designated proposers) straight away that it is
    // caught up: gossip alone took seconds to bring a forming 200-node cluster's learners to the
    // proposer, which then needed a second admission round for the late ones.
    if (learner) {
      for (const v of this.gate.voterConfig().voters.slice(0, LEARNER_TELLS)) {
        const m = this.swim.peek(v.name);
        if (m && m.state === 'alive') this.driver.apply(this.swim.announceTo(m.address));
      }
    }
    this.log.info({ members: this.swim.members().length, seeds, learner }, learner ? 'node is caught up: a learner (DEGRADED) until the cluster admits it as a voter' : 'node is ACTIVE');
    this.scheduleQuorumCheck();
    this.reconnectFailed();
    if (this.options.discover && (this.options.join ?? []).length === 0) this.rediscoverWhileAlone();
  }

  /**
   * After a partition both sides have declared each other dead, and SWIM stops talking to dead
   * members (gossip to the dead ends after gossipToTheDeadMs, push-pull picks live members), so a
   * partition longer than that never healed. Like serf's reconnect loop: now and then push-pull
   * with one FAILED (not LEFT) member; if it answers, each side refutes the other's dead verdict
   * with a new incarnation and the member rejoins by itself. One attempt in flight at a time.
   */
  private reconnectFailed(): void {
    this.world.runtime.scheduler.schedule(RECONNECT_MS, () => {
      if (this.stopped) return;
      // Addresses only, without copying the member table (every node runs this every 5 s).
      const dead: string[] = [];
      this.swim.forEachMember((m) => {
        if (m.name !== this.name && m.state === 'dead') dead.push(m.address);
      });
      const pick = dead.length > 1 ? dead[Math.floor(this.world.runtime.rng.next() * dead.length)] : dead[0];
      if (pick === undefined) return this.reconnectFailed();
      void this.driver.pushPull(pick, false).finally(() => this.reconnectFailed());
    });
  }

  /**
   * Nodes started together on a LAN may all find nobody and each become a cluster of one; while
   * alone, keep asking the LAN and join whoever answers, so they merge into one cluster.
   */
  private rediscoverWhileAlone(): void {
    this.world.runtime.scheduler.schedule(REDISCOVER_MS * (0.5 + this.world.runtime.rng.next()), () => {
      if (this.stopped || this.swim.members().some((m) => m.name !== this.name && m.state === 'alive')) return;
      void this.options.discover!()
        .then(async (found) => {
          const seeds = found.filter((s) => s !== this.world.packets.address);
          for (const s of seeds) if (await this.driver.pushPull(s, true)) break;
        })
        .catch((err: Error) => this.log.debug({ err: err.message }, 'rediscovery failed'))
        .finally(() => this.rediscoverWhileAlone());
    });
  }

  /** SYNCING: pull a full snapshot of all memory from one live member before voting. */
  private async catchUp(): Promise<void> {
    for (const m of this.swim.members()) if (m.name !== this.name && m.state === 'alive') this.memoryService.addPeer(m.name);
    const sources = this.swim.members().filter((m) => m.name !== this.name && m.state === 'alive');
    if (sources.length === 0) return;
    this.setLifecycle('SYNCING');
    // The voter configuration first: the cluster may have removed us, or changed the voter set, while we were away.
    for (const s of sources.slice(0, 3)) if (this.stopped || (await this.voterConfig.catchUpFrom(s.name))) break;
    // A member that still lists us as left or dead (it has not heard our new incarnation yet, as
    // after a restart) has no address for us and drops its answer; so ask again, rotating through
    // the live members, with growing waits (2+4+8+16 s, the former single 30 s budget).
    for (let attempt = 0; attempt < 4 && !this.stopped; attempt++) {
      const source = sources[attempt % sources.length]!;
      if (await this.memoryService.fullSnapshotFrom(source.name, 2000 * 2 ** attempt)) return;
      this.log.info({ from: source.name, attempt: attempt + 1 }, 'no full snapshot yet; asking again');
    }
    this.log.warn({ from: sources.map((m) => m.name) }, 'full snapshot did not complete; anti-entropy will finish catching up');
  }

  /** The replicated memory of one agent (DESIGN.md "Library API"). */
  memory(agentId: string): AgentMemory {
    return this.memoryService.memory(agentId);
  }

  /** Recall across every agent's memory (node.memory(id).recall for one agent). */
  recall(query: RecallQuery = {}): RecallHit[] {
    return this.recallIndex.recall(undefined, query);
  }

  /** A general replicated Yjs document (the one Yjs clients open at /yjs/doc/<name>). */
  doc(name: string): ReplicatedDoc {
    return new ReplicatedDoc(this.memoryService, name);
  }

  /** Re-evaluates quorum: DEGRADED without it, ACTIVE with it, and downing of long-FAILED members. */
  private scheduleQuorumCheck(): void {
    if (this.stopped) return;
    this.world.runtime.scheduler.schedule(QUORUM_CHECK_MS, () => {
      if (this.stopped) return;
      this.checkQuorum();
      this.scheduleQuorumCheck();
    });
  }

  /**
   * A removed member that comes back rejoins with a full snapshot (DESIGN.md "Quorum and split
   * brain"): it cannot know it was removed, so the writable side, admitting it again, tells it.
   */
  private rejoinSnapshot(from: string): void {
    const now = this.world.runtime.clock.now();
    if (this.stopped || from === this.name || !this.swim.member(from) || now - this.rejoinSnapshotAt < REJOIN_SNAPSHOT_EVERY_MS) return;
    this.rejoinSnapshotAt = now;
    this.log.info({ from }, 'removed from the voter set while away: pulling a full snapshot');
    void this.memoryService.fullSnapshotFrom(from, 30_000).then((ok) => {
      if (!ok) this.log.warn({ from }, 'rejoin snapshot did not complete; anti-entropy will finish catching up');
    });
  }

  private checkQuorum(): void {
    this.voterConfig.drive(this.world.runtime.clock.now());
    if (this.lifecycle !== 'ACTIVE' && this.lifecycle !== 'DEGRADED') return;
    const v = this.gate.verdict();
    if (!v.writable && this.lifecycle === 'ACTIVE') {
      this.log.warn({ reachable: v.reachable, voters: v.total }, `no quorum: read-only (${v.reason})`);
      this.setLifecycle('DEGRADED');
    } else if (v.writable && this.lifecycle === 'DEGRADED') {
      this.log.info({ reachable: v.reachable, voters: v.total }, 'quorum regained: writable');
      this.setLifecycle('ACTIVE');
    }
  }

  private quorumMembers(): QuorumMember[] {
    if (this.quorumCache) return this.quorumCache;
    const out: QuorumMember[] = [];
    this.swim.forEachMember((m) => {
      if (m.name === this.name) {
        out.push({ name: m.name, role: this.meta.role, state: this.lifecycle, reachable: true, stateChangedAt: m.stateChangedAt, configWord: this.gate.word() });
        return;
      }
      // A member's row is rebuilt only when its record moved (most do not between two checks,
      // even while a large cluster forms); countedWord is asked every time, as it may change alone.
      let memo = this.quorumMemo.get(m.name);
      if (!memo || memo.m !== m || memo.meta !== m.meta || memo.state !== m.state || memo.changedAt !== m.stateChangedAt) {
        const meta = this.cachedMeta(m.name, m.meta);
        const gossiped = meta?.configWord ?? 0;
        const q: QuorumMember = {
          name: m.name,
          role: meta?.role ?? 'hybrid',
          state: memberLifecycle(m.state, meta?.lifecycle ?? 'JOINING'),
          reachable: m.state === 'alive',
          stateChangedAt: m.stateChangedAt,
          configWord: gossiped,
        };
        memo = { m, meta: m.meta, state: m.state, changedAt: m.stateChangedAt, gossiped, q };
        this.quorumMemo.set(m.name, memo);
      }
      const word = this.voterConfig.countedWord(m.name, memo.gossiped);
      if (word !== memo.q.configWord) memo.q = { ...memo.q, configWord: word };
      out.push(memo.q);
    });
    // Most member events (a free-slot count, an RTT) change nothing the quorum reads: keep the
    // previous array then, so the gate's memoised verdict (and the voter-config peers) stay valid.
    const prev = this.quorumPrev;
    if (prev && prev.length === out.length && out.every((q, i) => sameQuorumMember(q, prev[i]!))) {
      this.quorumCache = prev;
      return prev;
    }
    this.quorumCache = out;
    this.quorumPrev = out;
    return out;
  }

  private cachedMeta(name: string, bytes: Uint8Array): NodeMeta | undefined {
    const hit = this.metaCache.get(name);
    if (hit && (hit.bytes === bytes || sameBytes(hit.bytes, bytes))) return hit.meta;
    let meta: NodeMeta | undefined;
    try {
      meta = decodeMeta(bytes);
    } catch {
      meta = undefined;
    }
    this.metaCache.set(name, { bytes, meta });
    return meta;
  }

  /**
   * One quorum re-check at the current time, however many member events arrive in a burst. In a
   * large cluster (where events never stop and each check rebuilds an O(N) table) the periodic
   * check, at most QUORUM_CHECK_MS later, does it instead. Writes never wait for this: they ask
   * the gate directly.
   */
  private queueQuorumCheck(): void {
    if (this.quorumCheckQueued || this.stopped || this.memberCount > EVENT_CHECK_MAX_MEMBERS) return;
    this.quorumCheckQueued = true;
    this.world.runtime.scheduler.schedule(0, () => {
      this.quorumCheckQueued = false;
      if (!this.stopped && (this.lifecycle === 'ACTIVE' || this.lifecycle === 'DEGRADED')) this.checkQuorum();
    });
  }

  /** Graceful leave: others see this node as LEFT, not FAILED. */
  async stop(leaveWaitMs = 1000): Promise<void> {
    if (this.stopped) return;
    // A voter leaves the voter set through a configuration change before it goes (bounded wait).
    if ((this.lifecycle === 'ACTIVE' || this.lifecycle === 'DEGRADED') && this.gate.isVoter(this.name)) await this.voterConfig.leave(LEAVE_PROPOSAL_MS);
    if (this.stopped) return;
    this.setLifecycle('LEAVING');
    const now = this.world.runtime.clock.now();
    this.driver.apply(this.swim.leave(now));
    // Give the leave message a few gossip rounds to spread before the sockets close.
    if (this.swim.members().some((m) => m.name !== this.name && m.state === 'alive')) {
      await new Promise<void>((r) => this.world.runtime.scheduler.schedule(leaveWaitMs, r));
    }
    await this.shutdown();
    this.lifecycle = 'LEFT';
    this.log.info({}, 'node left the cluster');
  }

  /** Stops at once without telling anyone (tests and the simulator use it to model a crash). */
  async crash(): Promise<void> {
    if (this.stopped) return;
    await this.shutdown();
  }

  /** Runs `hook` when the node stops (components close their servers and timers here). */
  onStopped(hook: () => Promise<void> | void): void {
    this.stopHooks.push(hook);
  }

  /** Tasks by status in the replicated task table. */
  taskCounts(): Record<string, number> {
    return this.tasks.counts();
  }

  /** Registers an agent type on this node (DESIGN.md "Library API"). */
  defineAgent(type: string, handler: AgentHandler): void {
    this.tasks.defineAgent(type, handler);
  }

  /** Submits a task (quorum write) and places it by its strategy; resolves with its record. */
  submit(task: NewTask): Promise<TaskView> {
    return this.tasks.submit(task);
  }

  /** Adds a field to /status computed on each request (e.g. "security" counters from start-node). */
  addStatus(field: string, fn: () => unknown): void {
    this.statusFields.set(field, fn);
  }

  /** Extra fields for /status; components add theirs. */
  statusExtras(): Record<string, unknown> {
    const q = this.gate.verdict();
    return {
      nodeId: this.options.nodeId,
      incarnation: this.swim.incarnation(),
      address: this.world.packets.address,
      quorum: {
        writable: q.writable,
        reachable: q.reachable,
        voters: q.total,
        tiebreaker: q.tiebreaker ?? null,
        removed: this.gate.removedMembers(),
        // Members not (yet) on the voter configuration: they replicate, but do not vote.
        learners: this.gate.learners(),
        // The voter configuration (src/quorum/voter-config.ts) and a change being agreed, if any.
        configuration: this.gate.voterConfig().epoch,
        pendingConfiguration: this.gate.pending()?.epoch ?? null,
        reason: q.reason,
      },
      tasks: this.tasks.counts(),
      memory: { ...this.memoryService.digest(), agents: this.memoryService.agentIds().length, sync: this.memoryService.engine.stats() },
      gossip: this.swim.stats(),
      ...Object.fromEntries([...this.statusFields].map(([k, fn]) => [k, fn()])),
    };
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.driver.stop();
    this.voterConfig.stop();
    this.tasks.stop();
    this.retention.stop();
    this.memoryService.stop();
    this.recallIndex.close();
    for (const h of this.stopHooks.reverse()) await Promise.resolve(h()).catch((err: Error) => this.log.warn({ err: err.message }, 'stop hook failed'));
    await this.rpc.close();
    await Promise.all([this.world.packets.close(), this.world.streams.close()]);
    this.world.store.close();
  }

  members(): MemberView[] {
    // RTT moves with every probe without a table change: read it fresh, into a copy callers own.
    return this.viewRows().map(({ m, v }) => withRtt(v, roundRtt(m.rttMs)));
  }

  /**
   * The sorted member views without RTTs, rebuilt (address parse, meta decode) only when the
   * member table or our lifecycle changed.
   */
  private viewRows(): ViewRow[] {
    const version = this.swim.tableVersion();
    let cache = this.viewCache;
    if (!cache || cache.version !== version || cache.lifecycle !== this.lifecycle) {
      const rows: ViewRow[] = [];
      // During a join storm the table changes with nearly every packet: rebuild only the views of
      // the members that changed.
      this.swim.forEachMember((m) => {
        let memo = this.viewMemo.get(m.name);
        if (!memo || memo.m !== m || memo.address !== m.address || memo.meta !== m.meta || memo.state !== m.state || memo.incarnation !== m.incarnation || memo.lifecycle !== this.lifecycle) {
          memo = { m, address: m.address, meta: m.meta, state: m.state, incarnation: m.incarnation, lifecycle: this.lifecycle, v: this.view(m) };
          this.viewMemo.set(m.name, memo);
        }
        rows.push({ m, v: memo.v });
      });
      rows.sort((a, b) => a.v.name.localeCompare(b.v.name));
      cache = this.viewCache = { version, lifecycle: this.lifecycle, rows };
    }
    return cache.rows;
  }

  /**
   * Members as task routing sees them: the views plus the throughput this node measured to each,
   * and this node's own free slots as they are now (its gossiped count is published up to
   * FREE_SLOTS_PUBLISH_MS late, which would send work away from slots that just freed).
   */
  private routingMembers(): SchedulerMember[] {
    const rows = this.viewRows();
    let cache = this.routingCache;
    if (!cache || cache.rows !== rows) {
      const live = this.routingLive;
      cache = this.routingCache = { rows, out: rows.map(({ m, v }) => new RoutingMember(v, m, v.name === this.name, live)) };
    }
    return cache.out;
  }

  /**
   * Per-member throughput for bandwidth-aware routing, from this node's own large RPC calls (a
   * task input handed over, a snapshot) timed on the runtime clock, minus the probe RTT EWMA.
   */
  private measureThroughput(t: CallTiming): void {
    const bytes = t.bytesOut + t.bytesIn;
    if (bytes < MIN_THROUGHPUT_SAMPLE_BYTES) return;
    let member: Readonly<MemberInfo> | undefined;
    this.swim.forEachMember((m) => {
      if (m.address === t.to && m.name !== this.name) member = m;
    });
    if (member) this.throughput.observe(member.name, bytes, t.elapsedMs, member.rttMs ?? null);
  }

  /** One push-pull (join) with the member at `address`; true when it answered (member-snapshot.ts retries known members). */
  contact(address: string): Promise<boolean> {
    return this.stopped || address === this.world.packets.address ? Promise.resolve(false) : this.driver.pushPull(address, true);
  }

  onMemberEvent(listener: (e: MemberEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes new self-reported metadata (free slots, lifecycle) to the cluster. */
  updateMeta(patch: Partial<Pick<NodeMeta, 'freeSlots' | 'lifecycle' | 'configWord'>>): void {
    if (this.stopped) throw new NodeStoppedError('the node has stopped');
    const next = { ...this.meta, ...patch };
    if (next.freeSlots === this.meta.freeSlots && next.lifecycle === this.meta.lifecycle && next.configWord === this.meta.configWord) return;
    this.meta = next;
    this.driver.apply(this.swim.setMeta(encodeMeta(this.meta), this.world.runtime.clock.now()));
  }

  setLifecycle(state: LifecycleState): void {
    if (state === this.lifecycle) return;
    this.log.info({ from: this.lifecycle, to: state }, 'lifecycle');
    this.lifecycle = state;
    this.quorumCache = undefined;
    if (!this.stopped) this.updateMeta({ lifecycle: state });
  }

  private view(m: Readonly<MemberInfo>): MemberView {
    const { host, port } = parseAddress(m.address);
    // undefined for a member from a newer or broken build: show what SWIM knows
    const meta = this.cachedMeta(m.name, m.meta);
    const self = m.name === this.name;
    return {
      name: m.name,
      address: host,
      port,
      rpcPort: meta?.rpcPort ?? 0,
      role: meta?.role ?? 'hybrid',
      state: self ? this.lifecycle : memberLifecycle(m.state, meta?.lifecycle ?? 'ACTIVE'),
      swimState: m.state,
      incarnation: m.incarnation,
      rttMs: m.rttMs === undefined ? null : Math.round(m.rttMs * 100) / 100,
      slots: meta?.slots ?? 0,
      freeSlots: meta?.freeSlots ?? 0,
      httpPort: meta?.httpPort ?? 0,
    };
  }

  private handleMemberEvent(e: MemberEvent): void {
    this.quorumCache = undefined;
    if (e.kind === 'reap') {
      this.metaCache.delete(e.member.name);
      this.viewMemo.delete(e.member.name);
      this.quorumMemo.delete(e.member.name);
      this.peerMemo.delete(e.member.name);
    }
    if (e.member.name !== this.name) {
      if (e.kind === 'reap') {
        this.known.delete(e.member.name);
        if (this.nameByAddress.get(e.member.address) === e.member.name) this.nameByAddress.delete(e.member.address);
      } else {
        this.known.add(e.member.name);
        this.nameByAddress.set(e.member.address, e.member.name);
      }
      this.memberCount = this.known.size + 1;
    }
    if (e.member.name !== this.name) {
      if (e.member.state === 'alive' || e.member.state === 'suspect') this.memoryService.addPeer(e.member.name);
      else this.memoryService.removePeer(e.member.name);
      if (e.kind === 'join' || (e.kind === 'alive' && this.lifecycle !== 'SYNCING')) {
        // A member that (re)appears after a partition or restart: reconcile with it at once
        // instead of waiting for the periodic anti-entropy round.
        // In a large cluster every member sees every join: if all reconciled, a cluster forming
        // would run N^2 rounds (and keep N^2 connections). About RECONCILE_FANOUT members (drawn
        // at random) reconcile at once; periodic anti-entropy spreads the rest.
        const peers = this.memberCount - 1;
        const chosen = peers <= RECONCILE_FANOUT || this.world.runtime.rng.next() * peers < RECONCILE_FANOUT;
        if (chosen && (this.lifecycle === 'ACTIVE' || this.lifecycle === 'DEGRADED')) this.memoryService.antiEntropyWith(e.member.name);
      }
      if (this.lifecycle === 'ACTIVE' || this.lifecycle === 'DEGRADED') this.queueQuorumCheck();
    }
    if (e.member.name !== this.name && e.kind !== 'update') {
      // A member failing (suspected, then dead) is what an operator must notice: warn, not info.
      const level = e.kind === 'dead' || e.kind === 'suspect' ? 'warn' : 'info';
      this.log[level]({ member: e.member.name, event: e.kind, address: e.member.address, incarnation: e.member.incarnation }, `member ${e.kind}`);
    }
    // A member that died or left may hold tasks: the leader re-places them now, not at its next sweep.
    if (e.member.name !== this.name && (e.member.state === 'dead' || e.member.state === 'left')) this.tasks.onMembership();
    for (const l of this.listeners) l(e);
  }
}
