// Cuts a minority of the demo's nodes off from the rest with iptables, for `tri cluster`'s
// partition step. Only where the platform allows it: as root with iptables. The rules live in a
// chain of their own, match only traffic between the demo's own 127.0.10.x addresses (nodes bind
// their UDP sockets and dial TCP from their own address), and are removed when the step ends or
// the demo stops. Everything else on the machine, the demo's own client connections included
// (they come from 127.0.0.1), is untouched.
import { execFileSync } from 'node:child_process';

export class LoopbackPartition {
  private readonly chain = `TRI-DEMO-${process.pid}`;
  private active = false;

  static available(): { ok: true } | { ok: false; reason: string } {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'needs root for iptables' };
    try {
      execFileSync('iptables', ['-S', 'INPUT'], { stdio: 'ignore' });
      return { ok: true };
    } catch {
      return { ok: false, reason: 'iptables is not usable here' };
    }
  }

  /** Drops every packet between a host of `minority` and a host of `majority`, both ways. */
  cut(minority: string[], majority: string[]): void {
    this.heal();
    iptables('-N', this.chain);
    this.active = true;
    for (const a of minority) {
      for (const b of majority) {
        iptables('-A', this.chain, '-s', a, '-d', b, '-j', 'DROP');
        iptables('-A', this.chain, '-s', b, '-d', a, '-j', 'DROP');
      }
    }
    iptables('-I', 'INPUT', '1', '-i', 'lo', '-j', this.chain);
  }

  heal(): void {
    if (!this.active) return;
    this.active = false;
    for (const args of [['-D', 'INPUT', '-i', 'lo', '-j', this.chain], ['-F', this.chain], ['-X', this.chain]]) {
      try {
        iptables(...args);
      } catch {
        // already gone
      }
    }
  }
}

function iptables(...args: string[]): void {
  execFileSync('iptables', ['-w', ...args], { stdio: 'ignore' });
}
