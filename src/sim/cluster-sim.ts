// SimCluster: N whole ClusterNodes (gossip + memory + quorum) in one process on a SimNetwork
// (DESIGN.md "The same node code runs in both worlds"). The node class is the one startNode()
// runs on real sockets; only the world differs: a virtual clock and a per-host scheduler, the
// simulated packet and stream transports, and a MemoryStore per node that outlives a crash, so a
// restarted node sees its durable data as a real node sees its data directory.
//
// Determinism: every random number comes from the seed (node ids, each node life's rng, link
// faults), and nothing here reads a real clock, so a seed replays the same run.

import type { ProfileName } from '../../gossip/config.js';
import type { MemberEvent } from '../../gossip/swim.js';
import { ClusterNode, type ClusterNodeOptions, type MemberView } from '../node/cluster-node.js';
import { silentLogger } from '../node/logger.js';
import type { LifecycleState } from '../vocabulary.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { HostStats } from './host.js';
import type { LinkConfig } from './link.js';
import { SimNetwork, SIM_GOSSIP_PORT, type SimNetworkOptions } from './network.js';
import { aliveCount } from './alive-count.js';
import { createPrng, hexString, type Prng } from './prng.js';
import { SimWorld } from './world.js';
import { SimStoreHandle } from './cluster-store.js';

export interface SimClusterOptions {
  seed: number | string;
  nodes: number;
  /** Gossip profile of every node (default 'lan'). */
  profile?: ProfileName;
  /** Link behaviour between every pair of hosts (latency, jitter, loss, duplication). */
  link?: Partial<LinkConfig>;
  /** Connect and stream-break timeouts of the simulated network. */
  network?: Omit<SimNetworkOptions, 'link'>;
  /** Extra ClusterNode options for every node, or per node index. */
  nodeOptions?: Partial<ClusterNodeOptions> | ((index: number) => Partial<ClusterNodeOptions>);
  /**
   * 'seed': every node joins via node 0 (default); 'chain': node i joins via node i-1; 'ring':
   * node i joins via node i+1 (the last via node 0), so no node starts alone and founds the cluster.
   */
  join?: 'seed' | 'chain' | 'ring';
  /** Logger for every node (default silent). */
  logger?: Logger;
  /**
   * The replication factor the cluster is founded with (default 3). Tests that assert every node
   * holds everything pass at least the node count (replica sets then cover every voter).
   */
  replicationFactor?: number;
}

/** One simulated machine and the node (current life) running on it. */
interface Slot {
  index: number;
  ip: string;
  name: string;
  nodeId: string;
  store: MemoryStore;
  node: ClusterNode;
  /** Lives so far (1 after start, +1 per restart); each life gets its own rng stream. */
  life: number;
  /** Settles when the current life's start() settles. */
  started: Promise<void>;
  down: boolean;
}

export class SimCluster {
  readonly world = new SimWorld();
  readonly network: SimNetwork;
  readonly prng: Prng;
  readonly seed: number | string;
  private readonly slots: Slot[] = [];
  private readonly logger: Logger;
  private readonly eventListeners = new Set<(index: number, e: MemberEvent) => void>();

  constructor(private readonly opts: SimClusterOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new RangeError(`nodes must be an integer >= 1, got ${opts.nodes}`);
    this.seed = opts.seed;
    this.prng = createPrng(opts.seed);
    this.network = new SimNetwork(this.world, this.prng, { ...opts.network, link: opts.link });
    this.logger = opts.logger ?? silentLogger();
    const ids = this.prng.fork('node-ids');
    for (let i = 0; i < opts.nodes; i++) {
      const ip = this.network.addHost();
      const name = `n${i}`;
      const nodeId = hexString(ids, 16);
      const store = new MemoryStore({ nodeId, name });
      this.slots.push({ index: i, ip, name, nodeId, store, node: undefined as unknown as ClusterNode, life: 0, started: Promise.resolve(), down: false });
    }
    for (const slot of this.slots) slot.node = this.build(slot, this.seedsFor(slot.index));
  }

  /**
   * Adds a new machine and starts a new member on it (name `n<index>`, a fresh store), joining via
   * node `via`: during a partition it is plugged in on `via`'s side. Returns its index; its
   * start() runs as the world runs.
   */
  addNode(via: number): number {
    const ip = this.network.addHost();
    const i = this.slots.length;
    const name = `n${i}`;
    const nodeId = hexString(this.prng.fork(`added-node-id/${i}`), 16);
    const store = new MemoryStore({ nodeId, name });
    const slot: Slot = { index: i, ip, name, nodeId, store, node: undefined as unknown as ClusterNode, life: 0, started: Promise.resolve(), down: false };
    this.slots.push(slot);
    this.network.placeLike(ip, this.slot(via).ip);
    slot.node = this.build(slot, [`${this.slot(via).ip}:${SIM_GOSSIP_PORT}`]);
    void this.launch(slot).catch(() => undefined);
    return i;
  }

  /** Hint printed on failure: how to replay this run. */
  replayHint(): string {
    return `seed=${JSON.stringify(this.seed)} nodes=${this.opts.nodes} profile=${this.opts.profile ?? 'lan'}: rerun with the same SimCluster options to replay`;
  }

  // ---- building and starting nodes ---------------------------------------------------------------

  private seedsFor(i: number): string[] {
    const ring = this.opts.join === 'ring';
    if (i === 0 && !ring) return [];
    const via = ring ? (i + 1) % this.slots.length : this.opts.join === 'chain' ? i - 1 : 0;
    if (via === i) return [];
    return [`${this.slots[via]!.ip}:${SIM_GOSSIP_PORT}`];
  }

  private build(slot: Slot, join: string[]): ClusterNode {
    slot.life++;
    const base = this.network.runtime(slot.ip, this.logger);
    // The network derives a host's rng from its IP alone; a restarted node must not replay its
    // previous life's random numbers (its Yjs client id would collide with the old one), so each
    // life gets its own named stream.
    const runtime: Runtime = { ...base, rng: this.prng.fork(`node/${slot.index}/life/${slot.life}`) };
    const packets = this.network.packetTransport(slot.ip, SIM_GOSSIP_PORT);
    // One stream listener on the gossip port: push-pull and memory sync both dial a member's
    // gossip address, and client RPCs can use it too (the real node fans in two listeners).
    const streams = this.network.streamTransport(slot.ip, SIM_GOSSIP_PORT);
    const store = new SimStoreHandle(slot.store);
    const extra = typeof this.opts.nodeOptions === 'function' ? this.opts.nodeOptions(slot.index) : (this.opts.nodeOptions ?? {});
    const node = new ClusterNode(
      { runtime, packets, streams, store, secure: false },
      {
        profile: this.opts.profile ?? 'lan',
        ...extra,
        name: slot.name,
        nodeId: slot.nodeId,
        join,
        incarnation: store.bumpIncarnation(),
        rpcPort: SIM_GOSSIP_PORT,
      },
    );
    node.onMemberEvent((e) => {
      for (const l of this.eventListeners) l(slot.index, e);
    });
    if (this.opts.replicationFactor !== undefined) node.gate.setFoundingReplicationFactor(this.opts.replicationFactor);
    return node;
  }

  /** Calls `listener(i, event)` for every member event on every node, restarted ones included. */
  onMemberEvent(listener: (index: number, e: MemberEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private launch(slot: Slot): Promise<void> {
    const node = slot.node;
    slot.started = node.start();
    slot.started.catch((err: Error) => this.logger.warn({ node: slot.name, err: err.message }, 'start failed'));
    return slot.started;
  }

  /**
   * Starts every node at once (node 0 first; the others join via node 0 or, with join 'chain',
   * via their predecessor) and runs the world until all are ACTIVE and voters. Throws after `maxMs`
   * if they do not all start.
   */
  async start(maxMs = 120_000): Promise<void> {
    const all = this.slots.map((s) => this.launch(s));
    const t0 = this.world.now();
    await this.world.runUntilSettled(Promise.all(all), maxMs);
    // Caught up is not formed: new members are learners until the writable side admits them
    // (src/quorum/voter-config.ts). Run until every node is on the configuration, as a cluster
    // started from scratch is once it formed.
    await this.world.runUntilPolled(() => this.slots.every((s) => s.down || s.node.gate.isVoter(s.name)), Math.max(0, maxMs - (this.world.now() - t0)), 10);
  }

  // ---- access ---------------------------------------------------------------------------------

  /** The current node on host `i` (a new object after restart(i)). */
  node(i: number): ClusterNode {
    return this.slot(i).node;
  }

  get nodes(): ClusterNode[] {
    return this.slots.map((s) => s.node);
  }

  get size(): number {
    return this.slots.length;
  }

  ip(i: number): string {
    return this.slot(i).ip;
  }

  /** The node id of node i's data directory (a new one after wipe()): which incarnation a voter entry admitted. */
  nodeId(i: number): string {
    return this.slot(i).nodeId;
  }

  /** Indices of nodes not crashed or stopped. */
  live(): number[] {
    return this.slots.filter((s) => !s.down).map((s) => s.index);
  }

  isDown(i: number): boolean {
    return this.slot(i).down;
  }

  private slot(i: number): Slot {
    const s = this.slots[i];
    if (!s) throw new RangeError(`no node ${i}: the cluster has ${this.slots.length}`);
    return s;
  }

  // ---- running ------------------------------------------------------------------------------

  now(): number {
    return this.world.now();
  }

  runFor(ms: number): Promise<void> {
    return this.world.runFor(ms);
  }

  /**
   * Runs until `pred()` holds or `maxMs` pass; returns whether it held. With `everyMs` the
   * predicate is checked every that many virtual ms (cheap polling at 1,000 nodes, where a batch
   * holds about one event); without it, after every batch of same-time events.
   */
  runUntil(pred: () => boolean, maxMs: number, everyMs?: number): Promise<boolean> {
    return everyMs === undefined ? this.world.runUntilTrue(pred, maxMs) : this.world.runUntilPolled(pred, maxMs, everyMs);
  }

  /** Runs the world until `promise` settles; its value, or its error. */
  settle<T>(promise: Promise<T>, maxMs: number): Promise<T> {
    return this.world.runUntilSettled(promise, maxMs);
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Splits the cluster into sides by node index; nodes not listed form one more side. */
  partition(...groups: number[][]): void {
    this.network.partition(groups.map((g) => g.map((i) => this.slot(i).ip)));
  }

  isolate(i: number): void {
    this.network.isolate(this.slot(i).ip);
  }

  heal(): void {
    this.network.heal();
  }

  /** Kills node i's process: no goodbye, its timers and sockets die, its store survives. */
  crash(i: number): void {
    const s = this.slot(i);
    if (s.down) return;
    s.down = true;
    this.network.crash(s.ip);
    // Releases the node's own state (timers, pending writes). The network crash came first, so
    // nothing it does on the way out reaches anyone.
    void s.node.crash();
  }

  /**
   * Brings a crashed (or stopped) node back: a new ClusterNode on the same host with the same
   * store (durable data kept, incarnation bumped), joining via the first live node. Returns its
   * start() promise; the cluster keeps running it as the world runs.
   */
  restart(i: number): Promise<void> {
    const s = this.slot(i);
    if (!s.down) throw new Error(`node ${i} is running: crash(${i}) or stop(${i}) it first`);
    this.network.restart(s.ip);
    s.down = false;
    const via = this.slots.find((o) => o !== s && !o.down);
    s.node = this.build(s, via ? [`${via.ip}:${SIM_GOSSIP_PORT}`] : []);
    return this.launch(s);
  }

  /** Graceful stop (SIGTERM): the node leaves; others see it LEFT. Resolves when it has left. */
  async stop(i: number, maxMs = 30_000): Promise<void> {
    const s = this.slot(i);
    if (s.down) return;
    s.down = true;
    await this.world.runUntilSettled(s.node.stop(), maxMs);
  }

  /**
   * Graceful stop without running the world (a fuzz schedule runs it): the node is down at once
   * for live(), drains and leaves as the world runs; resolves when it has left.
   */
  leave(i: number): Promise<void> {
    const s = this.slot(i);
    if (s.down) return Promise.resolve();
    s.down = true;
    return s.node.stop();
  }

  /** Wipes the data directory of down node i: its next restart has an empty store and a new node id, as a real node would. */
  wipe(i: number): void {
    const s = this.slot(i);
    if (!s.down) throw new Error(`node ${i} is running: crash(${i}) it first`);
    s.nodeId = hexString(this.prng.fork(`wiped-node-id/${i}/${s.life}`), 16);
    s.store = new MemoryStore({ nodeId: s.nodeId, name: s.name });
  }

  pause(i: number): void {
    this.network.pause(this.slot(i).ip);
  }

  resume(i: number): void {
    this.network.resume(this.slot(i).ip);
  }

  /** Overrides links between two nodes, both directions. */
  setLink(a: number, b: number, patch: Partial<LinkConfig>): void {
    this.network.setLink(this.slot(a).ip, this.slot(b).ip, patch);
    this.network.setLink(this.slot(b).ip, this.slot(a).ip, patch);
  }

  setDefaultLink(patch: Partial<LinkConfig>): void {
    this.network.setDefaultLink(patch);
  }

  /** The node allSeeAlive() last found behind. */
  private lastBehind = 0;

  // ---- views --------------------------------------------------------------------------------

  /** Node i's member table as `tri nodes --json` shows it. */
  membersSeenBy(i: number): MemberView[] {
    return this.slot(i).node.members();
  }

  /** Lifecycle of member `name` as node i sees it (undefined when i does not know it). */
  stateSeenBy(i: number, name: string): LifecycleState | undefined {
    const m = this.slot(i).node.swim.peek(name);
    if (!m) return undefined;
    return this.slot(i).node.members().find((v) => v.name === name)?.state;
  }

  /** True when `predicate(node i's member views, i)` holds for every live node. */
  allSee(predicate: (members: MemberView[], i: number) => boolean, nodes: number[] = this.live()): boolean {
    return nodes.every((i) => predicate(this.membersSeenBy(i), i));
  }

  /**
   * True when every live node sees `count` members in SWIM state alive. Cheap (no meta decoding),
   * for polling at scale: it asks the node that was behind last time first, which until the
   * cluster has formed is nearly always behind again (one table read per poll, not up to N).
   */
  allSeeAlive(count: number, nodes: number[] = this.live()): boolean {
    const n = nodes.length;
    const start = Math.max(0, nodes.indexOf(this.lastBehind));
    for (let k = 0; k < n; k++) {
      const i = nodes[(start + k) % n]!;
      if (aliveCount(this.slot(i).node.swim) !== count) {
        this.lastBehind = i;
        return false;
      }
    }
    return true;
  }

  /** The memory digest of every live node (index -> hex). */
  digests(nodes: number[] = this.live()): Map<number, string> {
    return new Map(nodes.map((i) => [i, this.slot(i).node.memoryService.digest().digest]));
  }

  /** True when every live node holds the same memory digest. */
  digestsEqual(nodes: number[] = this.live()): boolean {
    return new Set(this.digests(nodes).values()).size <= 1;
  }

  /** Per-host network counters, summed (packets, frames, bytes, connections). */
  totals(): HostStats {
    return this.network.totals();
  }

  /** Stops every live node without goodbye (test teardown). */
  async destroy(): Promise<void> {
    for (const s of this.slots) {
      if (s.down) continue;
      s.down = true;
      this.network.crash(s.ip);
      await s.node.crash().catch(() => undefined);
    }
  }
}
