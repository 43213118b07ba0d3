// A cluster node: SWIM membership, the RPC endpoint and the lifecycle an operator sees. It is
// built from an injected world (runtime, packet and stream transports), so the same class runs on
// real sockets (src/node/start-node.ts) and in the simulator (src/sim/). Memory, quorum and tasks
// attach to it as further components.
import { Swim, type MemberEvent } from '../../gossip/swim.js';
import { profile } from '../../gossip/config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../runtime/types.js';
import { RpcEndpoint, type CallTiming } from '../rpc/endpoint.js';
import { SwimDriver } from './swim-driver.js';
import { encodeMeta, nodeIdOf, PROTOCOL_VERSION, type NodeMeta } from './meta.js';
import type { LifecycleState } from './lifecycle.js';
import { IncarnationReservation } from './incarnation.js';
import { METHODS } from '../rpc/methods.js';
import { toJsonPayload } from '../rpc/json.js';
import { QuorumGate } from '../quorum/quorum-gate.js';
import { VoterConfigDriver } from './voter-config-driver.js';
import { MemoryService } from '../memory/memory-service.js';
import { ReplicatedDoc } from '../yjs/replicated-doc.js';
import type { AgentMemory, MemoryConsistency } from '../memory/agent-memory.js';
import { registerMemoryMethods } from '../memory/memory-rpc.js';
import { RecallService } from '../recall/recall-service.js';
import type { RecallHit, RecallQuery } from '../recall/recall-query.js';
import { TaskService, TASKS_DOC, TASK_SHARD_PREFIX } from './task-service.js';
import { NodeRetention } from './retention-wiring.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../storage/residency.js';
import { TASKS_UPDATE_SCHEMA } from '../tasks/task-schema.js';
import { GRAPH_DOC, GRAPH_SCHEMA } from '../../crdt/knowledge-graph.js';
import type { AgentHandler } from '../agents/index.js';
import type { NewTask, TaskView } from '../tasks/index.js';
import { MIN_THROUGHPUT_SAMPLE_BYTES, ThroughputMeter } from '../tasks/routing-throughput.js';
import { MemberDirectory, type MemberView } from './member-directory.js';
import { NodeLifecycle } from './node-lifecycle.js';
import { JoinLoop, REJOIN_METHOD } from './join-loop.js';
import { returnSyncFor, type ReturnSync } from './return-sync.js';
import { leaveAndDrain } from './graceful-leave.js';
import { nodeStatus } from './node-status.js';
import type { ClusterNodeOptions, NodeWorld } from './node-options.js';

export type { ClusterNodeOptions, NodeWorld } from './node-options.js';

/** How long a voter that leaves gracefully waits for its own removal from the voter set. */
const LEAVE_PROPOSAL_MS = 3000;
/** Sent by the writable side to a removed member that is back: pull a full snapshot from me. */
export const QUORUM_REJOIN_METHOD = REJOIN_METHOD;

export type { MemberView } from './member-directory.js';

/**
 * The composition root: it builds the parts (SWIM and its driver, the member directory, the
 * lifecycle, the quorum gate and voter-set protocol, memory, recall, tasks, retention, the join
 * loop) and wires member events and stop order between them. Each part holds its own logic.
 */
export class ClusterNode {
  readonly rpc: RpcEndpoint;
  readonly swim: Swim;
  readonly gate: QuorumGate;
  readonly memoryService: MemoryService;
  /** The recall index over every agent's episodes (src/recall), opened on first use or by start-node. */
  readonly recallIndex: RecallService;
  readonly tasks: TaskService;
  /** Task trimming, memory policies and forgetting (retention-wiring.ts). */
  readonly retention: NodeRetention;
  /** The voter-set protocol (public so operator commands can propose changes through it). */
  readonly voterConfig: VoterConfigDriver;
  /** What quorum, routing, voter-config sync and status read of the member table (member-directory.ts). */
  readonly directory: MemberDirectory;
  private readonly lifecycle: NodeLifecycle;
  private readonly joinLoop: JoinLoop;
  private readonly returnSync: ReturnSync;
  private readonly incarnations: IncarnationReservation;
  private readonly driver: SwimDriver;
  private readonly log: Logger;
  private readonly listeners = new Set<(e: MemberEvent) => void>();
  private readonly stopHooks: Array<() => Promise<void> | void> = [];
  private readonly statusFields = new Map<string, () => unknown>();
  /** Throughput to each member measured from large calls (bandwidth-aware routing). */
  private readonly throughput = new ThroughputMeter();
  private stopped = false;

  constructor(
    readonly world: NodeWorld,
    readonly options: ClusterNodeOptions,
  ) {
    const cfg = profile(options.profile ?? 'lan', options.gossip);
    const slots = options.slots ?? 16;
    if (!Number.isInteger(slots) || slots < 0 || slots > 4096) throw new ConfigError(`slots must be an integer from 0 to 4096, got ${slots}`);
    const { runtime, store } = world;
    const isStopped = () => this.stopped;
    this.log = runtime.logger.child({ node: options.name });
    this.gate = new QuorumGate(options.name, () => this.directory.quorumMembers(), options.stableAfterMs ?? 10_000, this.log, {
      load: () => store.kvGet('quorum/voters'),
      save: (json) => store.kvSet('quorum/voters', json),
    }, options.role ?? 'hybrid', options.nodeId);
    const meta: NodeMeta = {
      role: options.role ?? 'hybrid',
      slots,
      freeSlots: slots,
      rpcPort: options.rpcPort,
      httpPort: options.httpPort ?? 0,
      protocol: PROTOCOL_VERSION,
      lifecycle: 'JOINING',
      nodeId: options.nodeId,
      configWord: this.gate.word(),
    };
    this.incarnations = new IncarnationReservation(store);
    this.rpc = new RpcEndpoint(world.streams, runtime, { secure: world.secure });
    this.rpc.observeCalls((t) => this.measureThroughput(t));
    this.swim = new Swim({
      name: options.name,
      address: world.packets.address,
      meta: encodeMeta(meta),
      incarnation: this.incarnations.start(options.incarnation ?? 0),
      config: cfg,
      random: () => runtime.rng.next(),
      now: runtime.clock.now(),
      identity: nodeIdOf,
    });
    this.lifecycle = new NodeLifecycle({
      runtime,
      log: this.log,
      swim: this.swim,
      gate: this.gate,
      meta,
      apply: (effects) => this.driver.apply(effects),
      memberCount: () => this.directory.size,
      drive: (now) => this.voterConfig.drive(now),
      onChange: () => this.directory.refreshSelf(),
      word: () => this.gate.word(),
      announceWord: () => this.joinLoop.announceWord(),
      stopped: isStopped,
    });
    this.voterConfig = new VoterConfigDriver({
      self: options.name,
      gate: this.gate,
      rpc: this.rpc,
      runtime,
      log: this.log,
      peers: () => this.directory.configPeers(), seeds: options.join,
      onChosen: (_config, back) => {
        // A removed member admitted again cannot know it was removed: tell it to pull a full snapshot.
        for (const name of back) this.joinLoop.tellRejoin(name);
      },
      onAdopted: () => this.lifecycle.adopted(),
      wake: () => this.lifecycle.queueCheck(),
      onVerified: (name) => {
        this.directory.refreshWord(name);
        this.lifecycle.queueCheck();
      },
      // Our last metadata update may have been gossiped only to members cut off at the time.
      onStaleView: (name) => {
        const m = this.swim.peek(name);
        if (!this.stopped && m) this.driver.apply(this.swim.announceTo(m.address));
      },
    });
    this.directory = new MemberDirectory({
      self: options.name,
      peek: (name) => this.swim.peek(name),
      ownMeta: () => this.lifecycle.meta,
      ownLifecycle: () => this.lifecycle.state,
      ownWord: () => this.gate.word(),
      countedWord: (name, gossiped) => this.voterConfig.countedWord(name, gossiped),
      quorumRowChanged: (row, gone) => this.gate.memberChanged(row, gone),
      throughput: (name) => this.throughput.get(name),
      ownFreeSlots: () => this.tasks.executor.pool.freeSlots,
    });
    this.gate.onConfigChange(() => {
      this.directory.refreshSelf();
      this.lifecycle.wordChanged();
    });
    const addressOf = (name: string): string | undefined => {
      const m = this.swim.peek(name);
      return m && m.state !== 'dead' && m.state !== 'left' ? m.address : undefined;
    };
    this.memoryService = new MemoryService({
      self: options.name,
      runtime,
      store,
      rpc: this.rpc,
      gate: this.gate,
      addressOf,
      writeTimeoutMs: options.writeTimeoutMs,
      sync: options.sync,
      schemas: { [TASKS_DOC]: TASKS_UPDATE_SCHEMA, [TASK_SHARD_PREFIX]: TASKS_UPDATE_SCHEMA, [GRAPH_DOC]: GRAPH_SCHEMA },
      residency: { budgetBytes: options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES, idleMs: options.memoryIdleMs },
      segments: options.memorySegments,
    });
    this.recallIndex = new RecallService({ docs: this.memoryService.docs, scheduler: runtime.scheduler, file: options.recallIndex ?? ':memory:', logger: this.log });
    this.memoryService.recallWith = (agent, q) => this.recallIndex.recall(agent, q);
    registerMemoryMethods(this.rpc, this.memoryService, (agent, q) => this.recallIndex.pageSoon(agent, q));
    this.tasks = new TaskService({
      self: options.name,
      runtime,
      rpc: this.rpc,
      memory: this.memoryService,
      slots,
      routing: this.directory,
      addressOf,
      writable: () => this.lifecycle.writable(),
      onFreeSlots: (free) => this.lifecycle.publishFreeSlots(free),
      leaseMs: options.leaseMs,
    });
    this.retention = new NodeRetention({ runtime, memory: this.memoryService, tasks: this.tasks, store, recall: this.recallIndex, writable: () => this.tasks.leads(), options: options.retention });
    this.addStatus('retention', () => this.retention.status());
    this.driver = new SwimDriver(this.swim, world.packets, this.rpc, runtime, (e) => this.handleMemberEvent(e), cfg.tcpTimeoutMs, () =>
      this.incarnations.observe(this.swim.incarnation()),
    );
    this.returnSync = returnSyncFor(options.name, this.memoryService, this.swim, this.directory, this.lifecycle, runtime, (name) => this.joinLoop.memberBack(name));
    this.joinLoop = new JoinLoop({
      self: options.name,
      address: world.packets.address,
      join: options.join ?? [],
      discover: options.discover,
      runtime,
      log: this.log,
      swim: this.swim,
      rpc: this.rpc,
      driver: () => this.driver,
      directory: this.directory,
      lifecycle: this.lifecycle,
      gate: this.gate,
      voterConfig: this.voterConfig,
      memory: this.memoryService,
      stopped: isStopped,
      crash: () => this.crash(),
      onCaughtUp: () => this.returnSync.started(),
      prewarm: options.prewarm !== false,
    });
    this.rpc.handle(METHODS.members, 'client', () => toJsonPayload(this.members()));
    this.rpc.onNotify(QUORUM_REJOIN_METHOD, 'member', (payload) => this.joinLoop.rejoinSnapshot(new TextDecoder().decode(payload)));
    this.rpc.onConnectionLost((remote, outgoing) => this.hintUnreachable(remote, outgoing));
    this.driver.onPacketFrom = (address) => {
      // Only once the voter set has changed can a member be on an older configuration than ours.
      if (this.gate.voterConfig().epoch === 0) return;
      const name = this.directory.nameAt(address);
      if (name !== undefined) this.voterConfig.contact(name, this.directory.meta(name)?.configWord ?? 0);
    };
  }

  /** A stream connection broke: probe its member at once (Swim.hintUnreachable). */
  private hintUnreachable(remote: string, outgoing: boolean): void {
    const name = this.stopped ? undefined : this.directory.nameByConnection(remote, outgoing);
    if (name !== undefined && name !== this.name) this.driver.apply(this.swim.hintUnreachable(name, this.world.runtime.clock.now()));
  }

  get name(): string {
    return this.options.name;
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** Starts gossiping and joins the cluster; resolves once ACTIVE (at once for a first node). */
  async start(): Promise<void> {
    this.driver.start();
    await this.joinLoop.start();
  }

  /** The replicated memory of one agent (DESIGN.md "Library API"); `consistency`: levels of its calls (memory/consistency.ts). */
  memory(agentId: string, consistency?: MemoryConsistency): AgentMemory {
    return this.memoryService.memory(agentId, consistency);
  }

  /** Recall across every agent's memory (node.memory(id).recall for one agent). */
  recall(query: RecallQuery = {}): RecallHit[] {
    return this.recallIndex.recall(undefined, query);
  }

  /** A general replicated Yjs document (the one Yjs clients open at /yjs/doc/<name>). */
  doc(name: string): ReplicatedDoc {
    return new ReplicatedDoc(this.memoryService, name);
  }

  /** Graceful leave: others see this node as LEFT, not FAILED. */
  async stop(leaveWaitMs = 1000): Promise<void> {
    if (this.stopped) return;
    // Leave the voter set through a configuration change, then hand agents off (bounded waits, graceful-leave.ts).
    await leaveAndDrain({ self: this.name, log: this.log, running: () => this.lifecycle.running, isVoter: () => this.gate.isVoter(this.name), leaveVoters: (ms) => this.voterConfig.leave(ms), replicas: this.memoryService.replicas }, LEAVE_PROPOSAL_MS);
    if (this.stopped) return;
    this.setLifecycle('LEAVING');
    const now = this.world.runtime.clock.now();
    this.driver.apply(this.swim.leave(now));
    // Give the leave message a few gossip rounds to spread before the sockets close.
    if (this.swim.members().some((m) => m.name !== this.name && m.state === 'alive')) {
      await new Promise<void>((r) => this.world.runtime.scheduler.schedule(leaveWaitMs, r));
    }
    await this.shutdown();
    this.lifecycle.markLeft();
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

  /** Extra fields for /status; components add theirs (node-status.ts). */
  statusExtras(): Record<string, unknown> {
    return nodeStatus(this, this.statusFields);
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

  /** Members as `tri nodes --json` shows them, in name order (RTTs as of now). */
  members(): MemberView[] {
    return this.directory.views();
  }

  /**
   * Per-member throughput for bandwidth-aware routing, from this node's own large RPC calls (a
   * task input handed over, a snapshot) timed on the runtime clock, minus the probe RTT EWMA.
   */
  private measureThroughput(t: CallTiming): void {
    const bytes = t.bytesOut + t.bytesIn;
    if (bytes < MIN_THROUGHPUT_SAMPLE_BYTES) return;
    const name = this.directory.nameAtAddress(t.to);
    const member = name === undefined ? undefined : this.swim.peek(name);
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
    this.lifecycle.updateMeta(patch);
  }

  setLifecycle(state: LifecycleState): void {
    this.lifecycle.set(state);
  }

  private handleMemberEvent(e: MemberEvent): void {
    this.directory.apply(e);
    const m = e.member;
    if (m.name !== this.name) {
      const running = this.lifecycle.running;
      if (m.state === 'alive' || m.state === 'suspect') this.memoryService.addPeer(m.name);
      else this.memoryService.removePeer(m.name);
      // Back after a partition, crash or restart: anti-entropy with it now (return-sync.ts).
      this.returnSync.onMemberEvent(e);
      if (running) this.lifecycle.queueCheck();
      if (e.kind !== 'update') {
        // A member failing (suspected, then dead) is what an operator must notice: warn, not info.
        const level = e.kind === 'dead' || e.kind === 'suspect' ? 'warn' : 'info';
        this.log[level]({ member: m.name, event: e.kind, address: m.address, incarnation: m.incarnation }, `member ${e.kind}`);
      }
      // A member that died or left may hold tasks: the leader re-places them now, not at its next sweep.
      if (m.state === 'dead' || m.state === 'left') this.tasks.onMembership();
    }
    for (const l of this.listeners) l(e);
  }
}
