// Starts a peer's server processes (etcd, nats-server, redis-server) for a benchmark: each one
// tracked, its last log lines kept for error messages, SIGKILLed by stop() and also if this
// process exits without calling it. Readiness is polled (bounded) by the caller's probe.
import { spawn, type ChildProcess } from 'node:child_process';
import { procCpuSeconds } from '../quorum/load.js';

const live = new Set<ChildProcess>();
let hooked = false;

export class PeerProcess {
  readonly tail: string[] = [];
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    binary: string,
    args: readonly string[],
    env: Record<string, string> = {},
    cwd?: string,
  ) {
    if (!hooked) {
      hooked = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    live.add(this.child);
    this.child.once('exit', () => live.delete(this.child));
    // A spawn failure (ENOENT, EACCES) arrives as 'error'; keep it as the last log line.
    this.child.once('error', (err) => this.keep(Buffer.from(`spawn failed: ${err.message}`)));
    this.child.stdout?.on('data', (d: Buffer) => this.keep(d));
    this.child.stderr?.on('data', (d: Buffer) => this.keep(d));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** CPU seconds (user + system) the process used so far. */
  cpuSeconds(): number {
    return procCpuSeconds(this.child.pid);
  }

  /** Throws with the process's last log lines if it has exited. */
  assertRunning(): void {
    if (!this.running()) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode ?? 'not started'}): ${this.tail.slice(-5).join(' | ')}`);
  }

  /** SIGKILLs the process and waits (bounded) for its exit. */
  async kill(waitMs = 5_000): Promise<void> {
    if (!this.running()) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGKILL');
    await Promise.race([exited, sleep(waitMs)]);
  }

  private keep(d: Buffer): void {
    for (const line of d.toString().split('\n')) if (line.trim()) this.tail.push(line.slice(0, 400));
    this.tail.splice(0, Math.max(0, this.tail.length - 20));
  }
}

/** Polls `probe` until it resolves true (bounded); throws with every process's log tail if not. */
export async function waitFor(what: string, procs: readonly PeerProcess[], probe: () => Promise<boolean>, timeoutMs: number, pollMs = 200): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    for (const p of procs) p.assertRunning();
    try {
      if (await probe()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(pollMs);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last ? ` (${last})` : ''}; logs: ${procs.map((p) => `${p.name}: ${p.tail.slice(-3).join(' | ')}`).join(' || ')}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
