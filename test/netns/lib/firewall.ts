// iptables rules inside one host namespace. The harness owns four chains there, hooked into
// INPUT/OUTPUT for the LAN interface only, so loopback traffic inside a host is never affected
// and heal/clear is a chain flush rather than a search for individual rules.
import { runCommand } from './run-command.js';

const CHAINS = {
  partitionIn: 'TRI-PART-IN',
  partitionOut: 'TRI-PART-OUT',
  lossIn: 'TRI-LOSS-IN',
  lossOut: 'TRI-LOSS-OUT',
} as const;

export type LossDirection = 'in' | 'out' | 'both';

export class HostFirewall {
  private installed = false;

  constructor(
    private readonly netns: string,
    private readonly ifname: string,
  ) {}

  /** Drops every packet from or to these addresses (broadcasts included: they match by source). */
  async blockPeers(addresses: readonly string[]): Promise<void> {
    await this.install();
    for (const addr of addresses) {
      await this.iptables(['-A', CHAINS.partitionIn, '-s', addr, '-j', 'DROP']);
      await this.iptables(['-A', CHAINS.partitionOut, '-d', addr, '-j', 'DROP']);
    }
  }

  async unblockAll(): Promise<void> {
    if (!this.installed) return;
    await this.iptables(['-F', CHAINS.partitionIn]);
    await this.iptables(['-F', CHAINS.partitionOut]);
  }

  /** Replaces any loss rule with random drops of this probability (0 clears it). */
  async setLoss(probability: number, direction: LossDirection): Promise<void> {
    if (!(probability >= 0 && probability <= 1)) throw new RangeError(`loss probability must be in [0, 1], got ${probability}`);
    await this.install();
    await this.iptables(['-F', CHAINS.lossIn]);
    await this.iptables(['-F', CHAINS.lossOut]);
    if (probability === 0) return;
    const rule = ['-m', 'statistic', '--mode', 'random', '--probability', probability.toFixed(6), '-j', 'DROP'];
    if (direction !== 'out') await this.iptables(['-A', CHAINS.lossIn, ...rule]);
    if (direction !== 'in') await this.iptables(['-A', CHAINS.lossOut, ...rule]);
  }

  /** Created lazily: hosts in a test that never partitions pay no iptables calls. */
  private async install(): Promise<void> {
    if (this.installed) return;
    for (const chain of Object.values(CHAINS)) await this.iptables(['-N', chain]);
    // Loss before partition does not matter for the outcome; both end in DROP or fall through.
    await this.iptables(['-A', 'INPUT', '-i', this.ifname, '-j', CHAINS.lossIn]);
    await this.iptables(['-A', 'INPUT', '-i', this.ifname, '-j', CHAINS.partitionIn]);
    await this.iptables(['-A', 'OUTPUT', '-o', this.ifname, '-j', CHAINS.lossOut]);
    await this.iptables(['-A', 'OUTPUT', '-o', this.ifname, '-j', CHAINS.partitionOut]);
    this.installed = true;
  }

  private async iptables(args: readonly string[]): Promise<void> {
    // -w: wait for the xtables lock instead of failing when another namespace holds it.
    await runCommand('ip', ['netns', 'exec', this.netns, 'iptables', '-w', '5', ...args], { timeoutMs: 10_000 });
  }
}
