// The simulated network (DESIGN.md "One transport interface, two implementations"): hosts on
// 10.0.0.0/8 exchanging packets and streams through the SimWorld's agenda, with seeded per-link
// latency, jitter (hence reordering), loss and duplication, plus partitions, crashes and pauses.
//
// Determinism: every random draw comes from one seeded stream, in event order, and every
// delivery is an event on the world's agenda, so a seed replays the same run exactly.

import { TransportError } from '../errors.js';
import type { Cancel, Logger, Runtime, Scheduler } from '../runtime/types.js';
import type { Address } from '../transport/types.js';
import { SimHost, emptyStats, type HostStats } from './host.js';
import { DEFAULT_LINK, mergeLink, type LinkConfig } from './link.js';
import type { Prng } from './prng.js';
import { SimPacketTransport } from './sim-packet.js';
import type { StreamFabric, StreamPair } from './sim-connection.js';
import { SimStreamTransport } from './sim-stream.js';
import type { SimWorld } from './world.js';

export interface SimNetworkOptions {
  /** Link behaviour for every pair of hosts without an override (default DEFAULT_LINK). */
  link?: Partial<LinkConfig>;
  /** connect() gives up after this much virtual time when nobody answers (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** An open stream whose hosts stay cut apart this long fails on both ends (default 10,000 ms). */
  streamBreakTimeoutMs?: number;
}

export const SIM_GOSSIP_PORT = 9999;
export const SIM_STREAM_PORT = 10000;

/** Splits "a.b.c.d:port" quickly; the simulator only hands out IPv4 addresses. */
function splitAddress(address: Address): { ip: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon < 0) return { ip: address, port: NaN };
  return { ip: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export class SimNetwork implements StreamFabric {
  readonly connectTimeoutMs: number;
  readonly streamBreakTimeoutMs: number;
  private readonly hostsByIp = new Map<string, SimHost>();
  private defaultLink: LinkConfig;
  private readonly linkOverrides = new Map<string, LinkConfig>();
  /** Partition side per host; hosts absent from the map share side 0. */
  private readonly side = new Map<string, number>();
  private nextSide = 1;
  private readonly pairs = new Set<StreamPair>();
  /** Open pairs by host (each pair under both of its hosts), so a crash does not scan every pair. */
  private readonly pairsByHost = new Map<SimHost, Set<StreamPair>>();
  private readonly rng: Prng;
  /** Bandwidth-limited links ("from>to"): when the link finishes sending what is queued on it. */
  private readonly linkBusyUntil = new Map<string, number>();

  constructor(
    readonly world: SimWorld,
    rng: Prng,
    options: SimNetworkOptions = {},
  ) {
    this.rng = rng.fork('network');
    this.defaultLink = mergeLink(DEFAULT_LINK, options.link ?? {});
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.streamBreakTimeoutMs = options.streamBreakTimeoutMs ?? 10000;
  }

  // ---- hosts ----------------------------------------------------------------------------

  /** Adds a host and returns its IP: 10.0.0.1, 10.0.0.2, ... (10.0.1.0 follows 10.0.0.255). */
  addHost(): string {
    const n = this.hostsByIp.size + 1;
    const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    this.hostsByIp.set(ip, new SimHost(ip));
    return ip;
  }

  /** Every host IP, in creation order. */
  hosts(): string[] {
    return [...this.hostsByIp.keys()];
  }

  /** The host for an IP or a "host:port" address; throws on an unknown one. */
  host(ipOrAddress: string): SimHost {
    const found = this.hostsByIp.get(ipOrAddress) ?? this.hostsByIp.get(splitAddress(ipOrAddress).ip);
    if (!found) throw new RangeError(`no simulated host "${ipOrAddress}"; create it with addHost()`);
    return found;
  }

  hostOf(address: Address): { host: SimHost; port: number } | undefined {
    const { ip, port } = splitAddress(address);
    const host = this.hostsByIp.get(ip);
    return host === undefined || !Number.isInteger(port) ? undefined : { host, port };
  }

  // ---- transports -----------------------------------------------------------------------

  /** Binds a packet transport on `ip:port` (port 0 picks a free one). */
  packetTransport(ip: string, port = SIM_GOSSIP_PORT): SimPacketTransport {
    const host = this.liveHost(ip, 'bind a packet transport');
    const bound = port === 0 ? host.ephemeralPort() : port;
    if (host.packetPorts.has(bound)) throw new TransportError(`${ip}:${bound} is already bound: close the other transport or pick another port`);
    const transport = new SimPacketTransport(this, host, bound, host.generation);
    host.packetPorts.set(bound, transport);
    return transport;
  }

  /** Listens for streams on `ip:port` (port 0 picks a free one). */
  streamTransport(ip: string, port = SIM_STREAM_PORT): SimStreamTransport {
    const host = this.liveHost(ip, 'listen for streams');
    const bound = port === 0 ? host.ephemeralPort() : port;
    if (host.streamPorts.has(bound)) throw new TransportError(`${ip}:${bound} is already listening: close the other transport or pick another port`);
    const transport = new SimStreamTransport(this, host, bound);
    host.streamPorts.set(bound, transport);
    return transport;
  }

  /**
   * The Runtime for node code on `ip`: the world's clock, a scheduler whose timers freeze while
   * the host is paused and die with a crash, and a random stream derived from the IP.
   */
  runtime(ip: string, logger: Logger): Runtime {
    const host = this.host(ip);
    return { clock: this.world, scheduler: this.hostScheduler(host), rng: this.rng.fork(`host/${ip}`), logger };
  }

  private hostScheduler(host: SimHost): Scheduler {
    return {
      schedule: (delayMs: number, fn: () => void): Cancel => {
        const generation = host.generation;
        let cancelled = false;
        const run = (): void => {
          if (cancelled || host.generation !== generation || !host.up) return;
          if (host.paused) host.held.push(run);
          else fn();
        };
        const cancel = this.world.schedule(delayMs, run);
        return () => {
          cancelled = true;
          cancel();
        };
      },
    };
  }

  private liveHost(ip: string, what: string): SimHost {
    const host = this.host(ip);
    if (!host.up) throw new TransportError(`cannot ${what} on ${ip}: the host is crashed; restart() it first`);
    return host;
  }

  // ---- links ----------------------------------------------------------------------------

  setDefaultLink(patch: Partial<LinkConfig>): void {
    this.defaultLink = mergeLink(this.defaultLink, patch);
  }

  /** Overrides one direction, from -> to (call twice for both ways). */
  setLink(from: string, to: string, patch: Partial<LinkConfig>): void {
    const key = `${this.host(from).ip}>${this.host(to).ip}`;
    this.linkOverrides.set(key, mergeLink(this.linkOverrides.get(key) ?? this.defaultLink, patch));
  }

  /** Drops every per-link override. */
  clearLinks(): void {
    this.linkOverrides.clear();
  }

  link(from: SimHost, to: SimHost): LinkConfig {
    if (this.linkOverrides.size === 0) return this.defaultLink;
    return this.linkOverrides.get(`${from.ip}>${to.ip}`) ?? this.defaultLink;
  }

  /**
   * One-way delay of a message of `bytes` sent now from `from` to `to`: propagation (latency plus
   * jitter) and, on a bandwidth-limited link, the wait for the link to send what is queued ahead
   * plus this message's own serialization (bytes / bandwidth). Sending reserves the link, so call
   * it once per message actually sent. Unlimited links draw exactly as before (same replays).
   */
  delay(from: SimHost, to: SimHost, bytes = 0): number {
    const link = this.link(from, to);
    const propagation = link.jitterMs > 0 ? link.latencyMs + this.rng.next() * link.jitterMs : link.latencyMs;
    const bw = link.bandwidthBytesPerSec;
    if (bw === undefined || bw === Infinity || !(bytes > 0)) return propagation;
    return propagation + this.serialize(`${from.ip}>${to.ip}`, bytes, bw);
  }

  /** Reserves the link for `bytes`; returns how long from now until the last byte has left. */
  private serialize(key: string, bytes: number, bytesPerSec: number): number {
    const now = this.world.now();
    const start = Math.max(now, this.linkBusyUntil.get(key) ?? now);
    const sent = start + (bytes * 1000) / bytesPerSec;
    this.linkBusyUntil.set(key, sent);
    return sent - now;
  }

  // ---- faults ---------------------------------------------------------------------------

  /** Splits hosts into sides that cannot reach each other; unlisted hosts form one more side. */
  partition(groups: string[][]): void {
    this.side.clear();
    for (const group of groups) {
      const id = this.nextSide++;
      for (const member of group) this.side.set(this.host(member).ip, id);
    }
    this.linksChanged();
  }

  /** Cuts one host off from every other host (other partitions stay as they are). */
  isolate(ip: string): void {
    this.side.set(this.host(ip).ip, this.nextSide++);
    this.linksChanged();
  }

  /** Puts host `ip` on the side of the partition that host `like` is on (a machine plugged in there). */
  placeLike(ip: string, like: string): void {
    const side = this.side.get(this.host(like).ip);
    if (side === undefined) this.side.delete(this.host(ip).ip);
    else this.side.set(this.host(ip).ip, side);
    this.linksChanged();
  }

  /** Removes every partition and isolation. */
  heal(): void {
    this.side.clear();
    this.linksChanged();
  }

  /** Kills the host's process: bound transports vanish, peers' streams get reset, timers die. */
  crash(ip: string): void {
    const host = this.host(ip);
    if (!host.up) return;
    host.up = false;
    host.paused = false;
    host.generation++;
    host.held = [];
    for (const transport of [...host.packetPorts.values()]) transport.kill();
    for (const transport of [...host.streamPorts.values()]) transport.kill();
    for (const pair of [...(this.pairsByHost.get(host) ?? [])]) {
      if (pair.client.host === host && pair.client.open) pair.crashEnd(pair.client);
      else if (pair.server.host === host && pair.server.open) pair.crashEnd(pair.server);
    }
  }

  /** Brings a crashed host back with nothing bound; node code rebinds its transports. */
  restart(ip: string): void {
    const host = this.host(ip);
    host.up = true;
  }

  /** Freezes the host (as SIGSTOP): nothing in, nothing out, its timers held, all until resume. */
  pause(ip: string): void {
    const host = this.host(ip);
    if (!host.up || host.paused) return;
    host.paused = true;
    this.linksChanged();
  }

  /** Thaws a paused host: held traffic and timers run in the order they were held. */
  resume(ip: string): void {
    const host = this.host(ip);
    if (!host.paused) return;
    host.paused = false;
    const held = host.held;
    host.held = [];
    for (const work of held) work();
    this.linksChanged();
  }

  /** True when a and b are both up and on the same side of every partition. */
  connected(a: SimHost, b: SimHost): boolean {
    return a.up && b.up && !this.partitioned(a, b);
  }

  partitioned(a: SimHost, b: SimHost): boolean {
    return a !== b && (this.side.get(a.ip) ?? 0) !== (this.side.get(b.ip) ?? 0);
  }

  canFlow(from: SimHost, to: SimHost): boolean {
    return !from.paused && !to.paused && this.connected(from, to);
  }

  /** Whether two hosts (IPs or addresses) can reach each other now. */
  reachable(a: string, b: string): boolean {
    return this.connected(this.host(a), this.host(b));
  }

  private linksChanged(): void {
    for (const pair of [...this.pairs]) pair.linkChanged();
  }

  trackPair(pair: StreamPair, open: boolean): void {
    if (open) this.pairs.add(pair);
    else this.pairs.delete(pair);
    for (const host of [pair.client.host, pair.server.host]) {
      let set = this.pairsByHost.get(host);
      if (open) {
        if (!set) this.pairsByHost.set(host, (set = new Set()));
        set.add(pair);
      } else if (set) {
        set.delete(pair);
        if (set.size === 0) this.pairsByHost.delete(host);
      }
    }
  }

  /** Open stream connections, for tests and leak checks. */
  get openStreams(): number {
    return this.pairs.size;
  }

  // ---- delivery -------------------------------------------------------------------------

  carry(from: SimHost, to: SimHost, arrive: () => void): void {
    this.transmit(from, to, from.generation, to.generation, arrive, undefined, 0);
  }

  /**
   * Moves one message from `from` to `to` with the link's delay. A paused sender holds it; a cut
   * link or dead host (checked at send and at arrival) drops it; a paused receiver holds it.
   * Returns false when it was dropped at once.
   */
  private transmit(
    from: SimHost,
    to: SimHost,
    fromGen: number,
    toGen: number,
    arrive: () => void,
    lost: (() => void) | undefined,
    bytes: number,
  ): boolean {
    if (from.generation !== fromGen || !from.up) return false;
    if (from.paused) {
      from.held.push(() => {
        if (!this.transmit(from, to, fromGen, toGen, arrive, lost, bytes)) lost?.();
      });
      return true;
    }
    if (!this.connected(from, to) || to.generation !== toGen) return false;
    const land = (): void => {
      if (to.generation !== toGen || !this.connected(from, to)) return lost?.();
      if (to.paused) to.held.push(land);
      else arrive();
    };
    this.world.schedule(this.delay(from, to, bytes), land);
    return true;
  }

  sendPacket(source: SimPacketTransport, to: Address, data: Uint8Array): void {
    const from = source.host;
    const stats = from.stats;
    stats.packetsSent++;
    stats.bytesSent += data.byteLength;
    const target = this.hostOf(to);
    const link = target === undefined ? this.defaultLink : this.link(from, target.host);
    if (target === undefined || (link.loss > 0 && this.rng.next() < link.loss)) {
      stats.packetsDropped++;
      return;
    }
    const copies = link.duplicate > 0 && this.rng.next() < link.duplicate ? 2 : 1;
    // Not copied: as with a UDP socket, the sender must not change a packet it handed over (a copy
    // per packet was an allocation per packet, millions at 1,000 nodes). A duplicate is a copy.
    const payload = data;
    const dest = target.host;
    const lost = (): void => {
      stats.packetsDropped++;
    };
    for (let i = 0; i < copies; i++) {
      const sent = this.transmit(from, dest, source.generation, dest.generation, () => {
        const receiver = dest.packetPorts.get(target.port);
        if (receiver === undefined || !receiver.deliver(source.address, i === 0 ? payload : payload.slice())) {
          stats.packetsDropped++;
          return;
        }
        dest.stats.packetsReceived++;
        dest.stats.bytesReceived += payload.byteLength;
      }, lost, payload.byteLength);
      if (!sent) {
        stats.packetsDropped++;
        break;
      }
    }
  }

  // ---- accounting -----------------------------------------------------------------------

  stats(ip: string): HostStats {
    return { ...this.host(ip).stats };
  }

  /** Sum of every host's counters. */
  totals(): HostStats {
    const sum = emptyStats();
    for (const host of this.hostsByIp.values()) {
      for (const key of Object.keys(sum) as Array<keyof HostStats>) sum[key] += host.stats[key];
    }
    return sum;
  }
}
