// SimMembership: N nodes of the membership layer alone (issue 2's simulator) on a SimNetwork. Each
// node is the membership stack a ClusterNode runs, built from the same pieces: the SWIM core
// (gossip/swim.ts), the SwimDriver that binds it to packets, timers and push-pull RPCs over
// streams (src/node/swim-driver.ts), the RpcEndpoint, and the seed join with backoff
// (src/node/join.ts). Memory, quorum and tasks are not built, so a run measures what gossip costs
// at scale; SimCluster (cluster-sim.ts) runs whole nodes.
//
// Determinism: node ids and every node's rng derive from the seed, and nothing reads a real
// clock, so a seed replays the same run.

import { profile as gossipProfile, type ProfileName } from '../../gossip/config.js';
import { Swim, type MemberEventKind } from '../../gossip/swim.js';
import { encodeMeta, PROTOCOL_VERSION } from '../node/meta.js';
import { joinWithBackoff } from '../node/join.js';
import { silentLogger } from '../node/logger.js';
import { SwimDriver } from '../node/swim-driver.js';
import { RpcEndpoint } from '../rpc/endpoint.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { HostStats } from './host.js';
import type { LinkConfig } from './link.js';
import { SimNetwork, SIM_GOSSIP_PORT, type SimNetworkOptions } from './network.js';
import { aliveCount } from './alive-count.js';
import { createPrng, hexString, type Prng } from './prng.js';
import { SimWorld } from './world.js';

export interface SimMembershipOptions {
  seed: number | string;
  nodes: number;
  /** Gossip profile of every node (default 'lan'). */
  profile?: ProfileName;
  link?: Partial<LinkConfig>;
  network?: Omit<SimNetworkOptions, 'link'>;
  /** 'seed': every node joins via node 0 (default); 'chain': node i joins via node i-1. */
  join?: 'seed' | 'chain';
  logger?: Logger;
}

/** One simulated host running the membership layer. */
export interface MembershipNode {
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly swim: Swim;
  readonly driver: SwimDriver;
  readonly rpc: RpcEndpoint;
  readonly runtime: Runtime;
  /** Member events this node reported, by kind. */
  readonly events: Record<MemberEventKind, number>;
  /** Settles true once the node's join push-pull succeeded (at once for node 0). */
  joined: Promise<boolean>;
  stopped: boolean;
}

export class SimMembership {
  readonly world = new SimWorld();
  readonly network: SimNetwork;
  readonly prng: Prng;
  readonly nodes: MembershipNode[] = [];
  private readonly logger: Logger;
  /** The node allSeeAlive() last found behind. */
  private lastBehind = 0;

  constructor(private readonly opts: SimMembershipOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new RangeError(`nodes must be an integer >= 1, got ${opts.nodes}`);
    this.prng = createPrng(opts.seed);
    this.network = new SimNetwork(this.world, this.prng, { ...opts.network, link: opts.link });
    this.logger = opts.logger ?? silentLogger();
    const ids = this.prng.fork('node-ids');
    const cfg = gossipProfile(opts.profile ?? 'lan');
    for (let i = 0; i < opts.nodes; i++) {
      const ip = this.network.addHost();
      const name = `n${i}`;
      const runtime: Runtime = { ...this.network.runtime(ip, this.logger), rng: this.prng.fork(`node/${i}/life/1`) };
      const packets = this.network.packetTransport(ip, SIM_GOSSIP_PORT);
      const streams = this.network.streamTransport(ip, SIM_GOSSIP_PORT);
      // The metadata a whole node gossips, so packets carry what they carry in a real cluster.
      const meta = encodeMeta({ role: 'hybrid', slots: 16, freeSlots: 16, rpcPort: SIM_GOSSIP_PORT, httpPort: 0, protocol: PROTOCOL_VERSION, lifecycle: 'JOINING', nodeId: hexString(ids, 16), configWord: 0 });
      const swim = new Swim({ name, address: packets.address, meta, incarnation: 1, config: cfg, random: () => runtime.rng.next(), now: runtime.clock.now() });
      const rpc = new RpcEndpoint(streams, runtime, { secure: false });
      const events: Record<MemberEventKind, number> = { join: 0, update: 0, suspect: 0, alive: 0, dead: 0, left: 0, reap: 0 };
      const driver = new SwimDriver(swim, packets, rpc, runtime, (e) => {
        events[e.kind]++;
      }, cfg.tcpTimeoutMs);
      this.nodes.push({ index: i, name, ip, swim, driver, rpc, runtime, events, joined: Promise.resolve(true), stopped: false });
    }
  }

  replayHint(): string {
    return `seed=${JSON.stringify(this.opts.seed)} nodes=${this.opts.nodes} profile=${this.opts.profile ?? 'lan'}: rerun with the same SimMembership options to replay`;
  }

  /**
   * Starts every node at once (node 0 first); the others join via node 0 (or their predecessor
   * with join 'chain') with the node's own backoff. Runs the world until every join push-pull
   * succeeded; throws after `maxMs` of virtual time.
   */
  async start(maxMs = 120_000): Promise<void> {
    for (const n of this.nodes) {
      n.driver.start();
      if (n.index === 0) continue;
      const via = this.nodes[this.opts.join === 'chain' ? n.index - 1 : 0]!;
      const seed = `${via.ip}:${SIM_GOSSIP_PORT}`;
      n.joined = joinWithBackoff([seed], (s) => n.driver.pushPull(s, true), n.runtime, () => n.stopped, this.logger);
    }
    await this.world.runUntilSettled(Promise.all(this.nodes.map((n) => n.joined)), maxMs);
  }

  now(): number {
    return this.world.now();
  }

  runFor(ms: number): Promise<void> {
    return this.world.runFor(ms);
  }

  /** Runs until `pred()` holds, checked every `everyMs` virtual ms, or `maxMs` pass; returns whether it held. */
  runUntil(pred: () => boolean, maxMs: number, everyMs: number): Promise<boolean> {
    return this.world.runUntilPolled(pred, maxMs, everyMs);
  }

  /** Members node i holds in SWIM state alive (itself included). */
  aliveCount(i: number): number {
    return aliveCount(this.nodes[i]!.swim);
  }

  /**
   * True when every running node sees `count` members alive. Polled while a cluster forms, so it
   * asks the node that failed last time first: until convergence that one nearly always fails
   * again, and the check costs one member table instead of all of them.
   */
  allSeeAlive(count: number): boolean {
    const n = this.nodes.length;
    for (let k = 0; k < n; k++) {
      const i = (this.lastBehind + k) % n;
      const node = this.nodes[i]!;
      if (!node.stopped && this.aliveCount(i) !== count) {
        this.lastBehind = i;
        return false;
      }
    }
    return true;
  }

  /** One SWIM counter (stats() key) summed over every node. */
  sumStat(key: string): number {
    let sum = 0;
    for (const n of this.nodes) sum += n.swim.stats()[key] ?? 0;
    return sum;
  }

  totals(): HostStats {
    return this.network.totals();
  }

  /** Stops every node without goodbye (teardown). */
  async destroy(): Promise<void> {
    for (const n of this.nodes) {
      if (n.stopped) continue;
      n.stopped = true;
      n.driver.stop();
      this.network.crash(n.ip);
      await n.rpc.close().catch(() => undefined);
    }
  }
}
