// Real node processes on loopback for `tri cluster`: each `tri node start` child is the node
// itself (so SIGKILL is a real crash and SIGTERM a real graceful leave), on its own 127.0.10.x
// address with the default ports, sharing one generated key.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey } from '../security/index.js';
import { NodeClient } from '../client/node-client.js';
import type { MemberView } from '../node/cluster-node.js';
import { childHeapFlags } from '../node/heap-flags.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../storage/residency.js';

const TRI = fileURLToPath(new URL('../cli/tri.js', import.meta.url));

export interface DemoNode {
  name: string;
  host: string;
  proc: ChildProcess | undefined;
  exitCode: number | null;
}

export class ProcessCluster {
  readonly dir: string;
  readonly keyFile: string;
  readonly key: string;
  readonly nodes: DemoNode[] = [];
  private readonly clients = new Map<string, NodeClient>();

  constructor(
    readonly size: number,
    readonly subnet = '127.0.10',
    readonly profile: 'lan' | 'local' = 'lan',
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'tri-cluster-'));
    this.key = generateKey();
    this.keyFile = join(this.dir, 'cluster.key');
    writeFileSync(this.keyFile, this.key + '\n', { mode: 0o600 });
    for (let i = 1; i <= size; i++) this.nodes.push({ name: `n${i}`, host: `${subnet}.${i}`, proc: undefined, exitCode: null });
  }

  /** Starts (or restarts) node i; the first node is the coordinator and every node joins it. */
  start(i: number): void {
    const n = this.nodes[i]!;
    const args = [TRI, 'node', 'start', '--name', n.name, '--bind', n.host, '--key-file', this.keyFile, '--data', join(this.dir, n.name), '--profile', this.profile, '--role', i === 0 ? 'coordinator' : 'hybrid', '--join', `${this.nodes[0]!.host}:9999`];
    // The demo shows every node holding every agent's memory (one digest everywhere): a replication
    // factor of at least the node count (odd) makes every replica set the whole voter set.
    args.push('--replication-factor', String(Math.min(31, this.nodes.length % 2 === 1 ? this.nodes.length : this.nodes.length + 1)));
    // V8's heap sized from the node's (default) memory budget: docs/retention.md.
    const proc = spawn(process.execPath, [...childHeapFlags(DEFAULT_MEMORY_BUDGET_BYTES), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.proc = proc;
    n.exitCode = null;
    proc.on('exit', (code, signal) => {
      n.exitCode = code ?? (signal ? 128 : 1);
    });
  }

  kill(i: number, signal: NodeJS.Signals): void {
    this.nodes[i]!.proc?.kill(signal);
  }

  /** A client to node i's RPC port, kept open for the demo's queries. */
  async client(i: number): Promise<NodeClient> {
    const n = this.nodes[i]!;
    let c = this.clients.get(n.name);
    if (!c) {
      c = await NodeClient.connect({ at: `${n.host}:10000`, key: this.key, timeoutMs: 3000 });
      this.clients.set(n.name, c);
    }
    return c;
  }

  async members(i: number): Promise<MemberView[] | undefined> {
    try {
      return await (await this.client(i)).members();
    } catch {
      await this.dropClient(i);
      return undefined;
    }
  }

  async dropClient(i: number): Promise<void> {
    const name = this.nodes[i]!.name;
    const c = this.clients.get(name);
    this.clients.delete(name);
    await c?.close().catch(() => undefined);
  }

  running(): number[] {
    return this.nodes.flatMap((n, i) => (n.proc && n.exitCode === null ? [i] : []));
  }

  /** Ends every process it started (SIGKILL after a grace period) and removes the temp dir. */
  async shutdown(): Promise<void> {
    for (const i of this.nodes.keys()) await this.dropClient(i);
    const live = this.nodes.filter((n) => n.proc && n.exitCode === null);
    for (const n of live) n.proc!.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (live.some((n) => n.exitCode === null) && Date.now() < deadline) await sleep(100);
    for (const n of live) if (n.exitCode === null) n.proc!.kill('SIGKILL');
    while (live.some((n) => n.exitCode === null) && Date.now() < deadline + 2000) await sleep(50);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value or the deadline passes (then undefined). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await sleep(everyMs);
  }
  return undefined;
}
