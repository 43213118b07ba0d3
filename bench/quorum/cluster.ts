// Real `tri node start` processes for the quorum benchmarks (quorum-writes, heal-convergence):
// node i binds 127.0.11.i with the default ports (gossip 9999, RPC 10000, HTTP 10080), keeps a
// durable SQLite data directory (WAL, synchronous = FULL: the write path under test), and joins
// node 1. Processes run from a private copy of dist/ (snapshotCli), are SIGKILLed by stop() and
// also if this process exits without calling it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchStatus, snapshotCli, type CliSnapshot } from '../lib/proc-cluster.js';
import { NodeClient } from '../../src/client/node-client.js';
import { benchPrefix } from '../lib/bench-net.js';

export const QUORUM_PREFIX = benchPrefix('127.0.11.');
/**
 * Set TRI_QUORUM_BENCH_PROF=DIR to run every node with --cpu-prof into DIR (nodes then stop with
 * SIGTERM, so the profile is written): where a write's CPU goes (docs/performance.md).
 */
const PROF_DIR = process.env.TRI_QUORUM_BENCH_PROF;
export const RPC_PORT = 10_000;

export interface QNode {
  name: string;
  address: string;
  proc: ChildProcess;
  tail: string[];
}

/** The parts of /status these benchmarks read. */
export interface QStatus {
  name: string;
  state: string;
  members: { name: string; state: string; swimState: string }[];
  memory?: { digest: string; documents: number };
  quorum?: { writable: boolean; reachable: number; voters: number; removed?: string[] };
}

export interface QuorumClusterOptions {
  first?: number;
  nodeArgs?: string[];
  triArgs?: string[];
  insecure?: boolean;
  prefix?: string;
  /** Another build's dist/src/cli/tri.js (a before/after comparison in one run); default this checkout's. */
  triPath?: string;
  /** The nodes' --log-level; warn by default. */
  logLevel?: 'debug' | 'info' | 'warn';
  /** Every output line of every node (the tail keeps only the last 20). */
  onLine?: (node: string, line: string) => void;
}

const live = new Set<ChildProcess>();
let hooked = false;

export class QuorumCluster {
  readonly nodes: QNode[] = [];
  readonly key = randomBytes(32).toString('base64');
  private readonly dir = mkdtempSync(join(tmpdir(), 'tri-bench-quorum-'));
  private readonly keyFile = join(this.dir, 'cluster.key');
  private cli: CliSnapshot | undefined;
  private readonly clients: NodeClient[] = [];

  constructor(private readonly opts: QuorumClusterOptions = {}) {
    if (!hooked) {
      hooked = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    writeFileSync(this.keyFile, `${this.key}\n`, { mode: 0o600 });
  }

  address(i: number): string {
    return `${this.opts.prefix ?? QUORUM_PREFIX}${(this.opts.first ?? 1) + i}`;
  }

  /**
   * Starts n nodes and resolves once every node lists every other as ACTIVE (or, with `alive`,
   * as alive in SWIM: enough for gossip, without waiting for every admission). With `batch`,
   * node 1 first and then `batch` at a time, each batch alive everywhere before the next: 32
   * joining at once on a busy 2-core machine did not form within 5 minutes.
   */
  async start(n: number, timeoutMs = 60_000, o: { batch?: number; alive?: boolean } = {}): Promise<void> {
    if ((this.opts.first ?? 1) + n - 1 > 254) throw new Error(`addresses must stay within ${this.opts.prefix ?? QUORUM_PREFIX}1-254`);
    this.cli ??= await snapshotCli(this.opts.triPath);
    for (let i = 0; i < n; i++) {
      this.spawnNode(i);
      const batchEnd = o.batch !== undefined && (i === 0 || i % o.batch === 0 || i === n - 1);
      if (batchEnd && i < n - 1) {
        const names = this.nodes.map((x) => x.name);
        if (!(await this.waitAll((st) => names.every((nm) => nm === st.name || st.members.some((m) => m.name === nm && m.swimState === 'alive')), timeoutMs, 500))) {
          throw new Error(`nodes 1-${i + 1} did not all see each other alive within ${timeoutMs} ms`);
        }
      }
    }
    const names = this.nodes.map((x) => x.name);
    // Polled less often when batched: 32 nodes answering /status 10 times a second is load itself.
    const ok = o.alive
      ? await this.waitAll((s) => names.every((nm) => nm === s.name || s.members.some((m) => m.name === nm && m.swimState === 'alive')), timeoutMs, o.batch ? 500 : 100)
      : await this.waitAll((s) => names.every((nm) => nm === s.name || s.members.some((m) => m.name === nm && m.state === 'ACTIVE')) && s.state === 'ACTIVE', timeoutMs);
    if (!ok) throw new Error(`cluster of ${n} did not form within ${timeoutMs} ms; logs: ${this.nodes.map((x) => `${x.name}: ${x.tail.slice(-3).join(' | ')}`).join(' || ')}`);
  }

  /** Starts one more node (the next name and address), joining node 1; resolves once every node lists it ACTIVE. */
  async add(timeoutMs = 60_000, pollMs = 100): Promise<QNode> {
    this.cli ??= await snapshotCli(this.opts.triPath);
    const node = this.spawnNode(this.nodes.length);
    if (!(await this.waitAll((s) => s.name === node.name ? s.state === 'ACTIVE' : s.members.some((m) => m.name === node.name && m.state === 'ACTIVE'), timeoutMs, pollMs))) {
      throw new Error(`${node.name} was not ACTIVE everywhere within ${timeoutMs} ms: ${node.tail.slice(-3).join(' | ')}`);
    }
    return node;
  }

  /** Stops node i gracefully (SIGTERM: it leaves the voter set and drains) and waits for it to exit (bounded); it leaves the list. */
  async leave(i: number, timeoutMs = 30_000): Promise<void> {
    const node = this.nodes[i]!;
    const exited = new Promise<void>((r) => node.proc.once('exit', () => r()));
    node.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(timeoutMs)]);
    if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
    this.nodes.splice(i, 1);
  }

  private spawnNode(i: number): QNode {
    const cli = this.cli!;
    const name = `q${i + 1}`;
    const address = this.address(i);
    // --insecure: plaintext gossip and streams, the baseline encryption is measured against.
    const args = [...(this.opts.nodeArgs ?? []), ...(PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : []), cli.triPath, 'node', 'start', '--name', name, '--bind', address, ...(this.opts.insecure ? ['--insecure'] : ['--key-file', this.keyFile])];
    args.push('--data', join(this.dir, name), '--profile', 'lan', '--log-level', this.opts.logLevel ?? 'warn', ...(this.opts.triArgs ?? []));
    if (i > 0) args.push('--join', `${this.address(0)}:9999`);
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    const node: QNode = { name, address, proc, tail: [] };
    const keep = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim()) continue;
        node.tail.push(line);
        this.opts.onLine?.(name, line);
      }
      node.tail.splice(0, Math.max(0, node.tail.length - 20));
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.nodes.push(node);
    return node;
  }

  /** Polls every node's /status until `holds` is true for all of them (bounded). */
  async waitAll(holds: (s: QStatus) => boolean, timeoutMs: number, pollMs = 100): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const n of this.nodes) if (n.proc.exitCode !== null || n.proc.signalCode !== null) throw new Error(`node ${n.name} exited: ${n.tail.join(' | ')}`);
      const all = await Promise.all(this.nodes.map((n) => fetchStatus(n.address, 1_000) as Promise<QStatus | undefined>));
      if (all.every((s) => s !== undefined && holds(s))) return true;
      await sleep(pollMs);
    }
    return false;
  }

  async status(i: number): Promise<QStatus | undefined> {
    return (await fetchStatus(this.nodes[i]!.address, 2_000)) as QStatus | undefined;
  }

  /** A TLS-PSK RPC client of node i (kept and closed by stop()). */
  async client(i: number, timeoutMs = 10_000): Promise<NodeClient> {
    const c = await NodeClient.connect({ at: `${this.nodes[i]!.address}:${RPC_PORT}`, ...(this.opts.insecure ? { insecure: true } : { key: this.key }), timeoutMs });
    this.clients.push(c);
    return c;
  }

  /** Closes clients, SIGKILLs every node, waits (bounded) for exits, removes data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
    const running = this.nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
    const exited = running.map((n) => new Promise<void>((r) => n.proc.once('exit', () => r())));
    if (PROF_DIR) {
      for (const n of running) n.proc.kill('SIGTERM');
      await Promise.race([Promise.all(exited), sleep(15_000)]);
    }
    for (const n of running) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
    await Promise.race([Promise.all(exited), sleep(5_000)]);
    rmSync(this.dir, { recursive: true, force: true });
    this.cli?.cleanup();
    this.cli = undefined;
  }
}



export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
