// A LAN of network namespaces: one namespace holds the bridges (so nothing is created in the
// host's own network namespace), and each host is a namespace joined to a bridge by a veth.
//
//   [host ns: eth0 10.213.1.1] ==veth== [lan ns: br0] ==veth== [host ns: eth0 10.213.1.2]
//
// Partitions either move hosts' bridge ports to separate bridges (the cut is in the "switch",
// as when a cable or switch fails) or add iptables DROP rules in the hosts (the cut is a
// firewall; also works between hosts on one bridge). Both are undone by heal().
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { trackNamespace, untrackNamespace } from './exit-cleanup.js';
import { HostFirewall, type LossDirection } from './firewall.js';
import { hostAddress, LAN_PREFIX_LEN, type Host } from './host.js';
import { nextBaseName } from './names.js';
import { ProcessTracker } from './processes.js';
import { runCommand, type CommandResult, type RunOptions } from './run-command.js';
import { deleteNamespace } from './sweep.js';

export type PartitionMethod = 'bridge' | 'iptables';

export interface PartitionOptions {
  /** 'bridge' (default) moves veths to per-group bridges; 'iptables' drops inside the hosts. */
  method?: PartitionMethod;
}

const MAIN_BRIDGE = 'br0';
const HOST_IFNAME = 'eth0';
const MAX_HOSTS = 2_000;

export class Lan {
  private readonly hostList: Host[] = [];
  private readonly processes = new ProcessTracker();
  /** Extra bridges made by bridge partitions, deleted again by heal(). */
  private readonly partitionBridges = new Set<string>();
  private destroyed = false;

  private constructor(
    readonly baseName: string,
    readonly netns: string,
  ) {}

  /** Creates the LAN namespace with its bridge. Call destroy() in a finally/afterAll. */
  static async create(): Promise<Lan> {
    const base = nextBaseName();
    const lan = new Lan(base, `${base}-lan`);
    try {
      trackNamespace(lan.netns);
      await runCommand('ip', ['netns', 'add', lan.netns]);
      await lan.ipLan(['link', 'set', 'lo', 'up']);
      await lan.addBridge(MAIN_BRIDGE);
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return lan;
  }

  get hosts(): readonly Host[] {
    return this.hostList;
  }

  /** Adds a host: its namespace, a veth into br0, 10.213.X.Y/16, loopback and broadcast route. */
  async addHost(label?: string): Promise<Host> {
    this.assertAlive();
    if (this.hostList.length >= MAX_HOSTS) throw new Error(`a LAN holds at most ${MAX_HOSTS} hosts`);
    const index = this.hostList.length + 1;
    const netns = `${this.baseName}-h${index}`;
    const lanPort = `p${index}`;
    const host: Host = {
      label: label ?? `h${index}`,
      index,
      netns,
      address: hostAddress(index),
      ifname: HOST_IFNAME,
      lanPort,
      firewall: new HostFirewall(netns, HOST_IFNAME),
    };
    // Registered before the namespace exists so destroy() also removes a half-made host.
    this.hostList.push(host);
    trackNamespace(netns);
    await runCommand('ip', ['netns', 'add', netns]);
    // Created from inside the LAN namespace with the peer placed straight into the host: the
    // veth never appears in the machine's own namespace.
    await this.ipLan(['link', 'add', lanPort, 'type', 'veth', 'peer', 'name', HOST_IFNAME, 'netns', netns]);
    await this.ipLan(['link', 'set', lanPort, 'master', MAIN_BRIDGE, 'up']);
    await ipIn(netns, ['link', 'set', 'lo', 'up']);
    await ipIn(netns, ['addr', 'add', `${host.address}/${LAN_PREFIX_LEN}`, 'broadcast', '+', 'dev', HOST_IFNAME]);
    await ipIn(netns, ['link', 'set', HOST_IFNAME, 'up']);
    // Without a route, sending to 255.255.255.255 fails with ENETUNREACH (there is no default
    // route in a host namespace); this sends the limited broadcast out of the LAN interface.
    await ipIn(netns, ['route', 'add', 'broadcast', '255.255.255.255', 'dev', HOST_IFNAME, 'scope', 'link']);
    return host;
  }

  host(label: string): Host {
    const found = this.hostList.find((h) => h.label === label);
    if (!found) throw new Error(`no host labelled "${label}" on ${this.baseName}`);
    return found;
  }

  /** Runs a command inside a host and waits for it (bounded by opts.timeoutMs, default 10 s). */
  exec(host: Host, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<CommandResult> {
    this.assertAlive();
    return runCommand('ip', ['netns', 'exec', host.netns, cmd, ...args], opts);
  }

  /** Starts a long-running process inside a host; destroy() kills it if the test did not. */
  spawn(host: Host, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.assertAlive();
    return this.processes.spawnIn(host.netns, cmd, args, opts);
  }

  /**
   * Splits the LAN: hosts in one group reach each other and nobody else. Hosts in no group form
   * one more group together. Replaces any earlier partition.
   */
  async partition(groups: readonly (readonly Host[])[], opts: PartitionOptions = {}): Promise<void> {
    this.assertAlive();
    const groupOf = this.assignGroups(groups);
    await this.heal();
    if ((opts.method ?? 'bridge') === 'bridge') {
      for (const host of this.hostList) {
        const g = groupOf.get(host) ?? 0;
        if (g === 0) continue; // the implicit group stays on br0
        const bridge = `brp${g}`;
        if (!this.partitionBridges.has(bridge)) {
          await this.addBridge(bridge);
          this.partitionBridges.add(bridge);
        }
        await this.ipLan(['link', 'set', host.lanPort, 'master', bridge]);
      }
      return;
    }
    for (const host of this.hostList) {
      const mine = groupOf.get(host) ?? 0;
      const others = this.hostList.filter((h) => (groupOf.get(h) ?? 0) !== mine).map((h) => h.address);
      if (others.length > 0) await host.firewall.blockPeers(others);
    }
  }

  /** Undoes partition(): every host back on br0, partition DROP rules flushed. Loss stays. */
  async heal(): Promise<void> {
    this.assertAlive();
    for (const host of this.hostList) {
      await this.ipLan(['link', 'set', host.lanPort, 'master', MAIN_BRIDGE]);
      await host.firewall.unblockAll();
    }
    for (const bridge of this.partitionBridges) await this.ipLan(['link', 'del', bridge]);
    this.partitionBridges.clear();
  }

  /** Random packet loss on a host's LAN interface (iptables statistic); 0 removes it. */
  async setLoss(host: Host, probability: number, direction: LossDirection = 'in'): Promise<void> {
    this.assertAlive();
    await host.firewall.setLoss(probability, direction);
  }

  /** Kills processes started here and deletes every namespace (bridges and veths go with them). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.processes.killAll();
    const failures: string[] = [];
    for (const ns of [...this.hostList.map((h) => h.netns), this.netns]) {
      await deleteNamespace(ns).then(
        () => untrackNamespace(ns),
        (err: Error) => failures.push(`${ns}: ${err.message}`),
      );
    }
    if (failures.length > 0) throw new Error(`could not delete namespaces: ${failures.join('; ')}`);
  }

  private assignGroups(groups: readonly (readonly Host[])[]): Map<Host, number> {
    const groupOf = new Map<Host, number>();
    groups.forEach((group, i) => {
      for (const host of group) {
        if (!this.hostList.includes(host)) throw new Error(`host ${host.label} is not on ${this.baseName}`);
        if (groupOf.has(host)) throw new Error(`host ${host.label} is in two partition groups`);
        groupOf.set(host, i + 1);
      }
    });
    return groupOf;
  }

  private async addBridge(name: string): Promise<void> {
    await this.ipLan(['link', 'add', name, 'type', 'bridge']);
    // No STP and no forwarding delay: ports forward as soon as they join, so a heal is instant.
    await this.ipLan(['link', 'set', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await this.ipLan(['link', 'set', name, 'up']);
  }

  private ipLan(args: readonly string[]): Promise<CommandResult> {
    return ipIn(this.netns, args);
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error(`LAN ${this.baseName} was destroyed`);
  }
}

function ipIn(netns: string, args: readonly string[]): Promise<CommandResult> {
  return runCommand('ip', ['-n', netns, ...args]);
}

/** Convenience: a LAN with `count` hosts labelled by `labels` (or h1..hN). */
export async function createLan(count = 0, labels: readonly string[] = []): Promise<Lan> {
  const lan = await Lan.create();
  try {
    for (let i = 0; i < count; i++) await lan.addHost(labels[i]);
  } catch (err) {
    await lan.destroy();
    throw err;
  }
  return lan;
}
