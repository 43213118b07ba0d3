// Cuts a minority of the demo's nodes off from the rest with iptables, for `tri cluster`'s
// partition step. Only where the platform allows it: as root with iptables. The rules live in a
// chain of their own, match only traffic between the demo's own 127.0.10.x addresses (nodes bind
// their UDP sockets and dial TCP from their own address), and are removed when the step ends or
// the demo stops, on a signal too. Everything else on the machine, the demo's own client connections included
// (they come from 127.0.0.1), is untouched.
import { execFileSync } from 'node:child_process';

const CHAIN_PREFIX = 'TRI-DEMO-';

export class LoopbackPartition {
  /** Cuts in place now: a signal handler heals them all at once, synchronously (healAll). */
  private static readonly live = new Set<LoopbackPartition>();
  private readonly chain = `${CHAIN_PREFIX}${process.pid}`;
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

  /** Heals every cut of this process (a signal arrived; the demo is ending). */
  static healAll(): void {
    for (const p of [...LoopbackPartition.live]) p.heal();
  }

  /**
   * Removes the chains (and their INPUT jumps) that an earlier demo left behind when it was
   * killed mid-partition: chains named after a process that no longer exists. Returns their names.
   */
  static removeStale(): string[] {
    if (!LoopbackPartition.available().ok) return [];
    let rules: string;
    try {
      rules = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
    } catch {
      return [];
    }
    const stale = [...rules.matchAll(new RegExp(`^-N (${CHAIN_PREFIX}(\\d+))$`, 'gm'))].filter((m) => !processAlive(Number(m[2]))).map((m) => m[1]!);
    for (const chain of stale) removeChain(chain, rules);
    return stale;
  }

  /** Drops every packet between a host of `minority` and a host of `majority`, both ways. */
  cut(minority: string[], majority: string[]): void {
    this.heal();
    LoopbackPartition.live.add(this);
    this.active = true;
    iptables('-N', this.chain);
    for (const a of minority) {
      for (const b of majority) {
        iptables('-A', this.chain, '-s', a, '-d', b, '-j', 'DROP');
        iptables('-A', this.chain, '-s', b, '-d', a, '-j', 'DROP');
      }
    }
    iptables('-I', 'INPUT', '1', '-i', 'lo', '-j', this.chain);
  }

  heal(): void {
    LoopbackPartition.live.delete(this);
    if (!this.active) return;
    this.active = false;
    let rules = '';
    try {
      rules = execFileSync('iptables', ['-w', '-S', 'INPUT'], { encoding: 'utf8' });
    } catch {
      // removeChain still tries the usual jump
    }
    removeChain(this.chain, rules);
  }
}

/** Deletes every INPUT jump to `chain` found in `rules` (or the one cut() adds), then the chain. */
function removeChain(chain: string, rules: string): void {
  const jumps = rules.split('\n').filter((l) => l.startsWith('-A INPUT ') && l.endsWith(` -j ${chain}`));
  const deletions = (jumps.length ? jumps.map((l) => ['-D', ...l.slice(3).split(' ')]) : [['-D', 'INPUT', '-i', 'lo', '-j', chain]]).concat([['-F', chain], ['-X', chain]]);
  for (const args of deletions) {
    try {
      iptables(...args);
    } catch {
      // already gone
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function iptables(...args: string[]): void {
  execFileSync('iptables', ['-w', ...args], { stdio: 'ignore' });
}
