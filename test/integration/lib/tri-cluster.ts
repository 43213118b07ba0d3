// A cluster of real `tri node start` processes for integration tests: one temp dir with a fresh
// cluster key and a data directory per node, each node on its own loopback address with the
// design's default ports (9999 gossip, 10000 RPC, 10080 HTTP), all joined to the first.
//
//   const c = await TriCluster.create({ addresses: loopbackRange(10, 5) });
//   await c.startAll();                       // resolves once everyone sees everyone ACTIVE
//   const r = await c.cli(['nodes', '--at', c.node('n1').address, '--json']);
//   c.node('n3').signal('SIGKILL'); await c.waitStates({ n3: { state: 'FAILED', swimState: 'dead' } });
//   await c.restart('n3');
//   await c.cleanup(failed);                  // SIGKILL whatever runs, print logs if failed, rm dir
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess, type MemberJson, type NodeStatus } from './node-process.js';
import { describeResult, runTri, type CliResult } from './run-tri.js';
import { waitFor } from './wait-for.js';

/** `count` addresses 127.0.NET.FROM.. (NET 1 by default; a suite keeps to its own 127.0.NET.1-254). */
export function loopbackRange(from: number, count: number, net = 1): string[] {
  if (from < 1 || from + count - 1 > 254) throw new Error(`127.0.${net}.${from}+${count} leaves 127.0.${net}.1-254`);
  return Array.from({ length: count }, (_, i) => `127.0.${net}.${from + i}`);
}

export interface ClusterOptions {
  /** One loopback address per node; node i is named `${namePrefix}${i + 1}`. */
  addresses: string[];
  namePrefix?: string;
  profile?: 'lan' | 'local' | 'wan';
  /** Extra `tri node start` flags per node. */
  extraArgs?: (index: number) => string[];
}

export interface ExpectedMember {
  state?: string;
  swimState?: string;
}

export class TriCluster {
  readonly nodes: NodeProcess[];

  private constructor(
    readonly dir: string,
    readonly keyFile: string,
    opts: ClusterOptions,
  ) {
    const prefix = opts.namePrefix ?? 'n';
    const seed = `${opts.addresses[0]}:9999`;
    this.nodes = opts.addresses.map((address, i) => {
      const name = `${prefix}${i + 1}`;
      const args = ['node', 'start', '--name', name, '--bind', address, '--key-file', keyFile, '--data', join(dir, name), '--profile', opts.profile ?? 'lan'];
      if (i > 0) args.push('--join', seed);
      args.push(...(opts.extraArgs?.(i) ?? []));
      return new NodeProcess(name, address, args, join(dir, `${name}.log`));
    });
  }

  /** Makes the temp dir and a cluster key with `tri keys generate`; starts nothing. */
  static async create(opts: ClusterOptions): Promise<TriCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'tri-it-'));
    const gen = await runTri(['keys', 'generate'], { timeoutMs: 20_000 });
    if (gen.code !== 0 || !/^[A-Za-z0-9+/]{43}=\n$/.test(gen.stdout)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tri keys generate failed\n${describeResult(gen)}`);
    }
    const keyFile = join(dir, 'cluster.key');
    writeFileSync(keyFile, gen.stdout, { mode: 0o600 });
    return new TriCluster(dir, keyFile, opts);
  }

  node(name: string): NodeProcess {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in this cluster (${this.nodes.map((x) => x.name).join(', ')})`);
    return n;
  }

  get running(): NodeProcess[] {
    return this.nodes.filter((n) => n.running);
  }

  /**
   * Starts the nodes and resolves once every node sees every node ACTIVE. By default one at a
   * time, each once all earlier ones agree: a node that joins while another's JOINING -> ACTIVE
   * news is still spreading can keep a stale view of it until a periodic push-pull, which on the
   * lan profile comes 30-60 s after start. `concurrent` starts all but the first at once.
   */
  async startAll(timeoutMs = 30_000, opts: { concurrent?: boolean } = {}): Promise<void> {
    const [first, ...rest] = this.nodes;
    first!.start();
    await this.waitSelfActive(first!, timeoutMs);
    if (opts.concurrent) {
      for (const n of rest) n.start();
      await this.waitAllActive(timeoutMs);
      return;
    }
    const started = [first!];
    for (const n of rest) {
      n.start();
      started.push(n);
      const expected = Object.fromEntries(started.map((x) => [x.name, { state: 'ACTIVE', swimState: 'alive' }]));
      await this.waitStates(expected, { timeoutMs, observers: [...started], exact: true });
    }
  }

  /** Starts a stopped node again with the same flags and data directory; waits until it is ACTIVE. */
  async restart(name: string, timeoutMs = 30_000): Promise<void> {
    const n = this.node(name);
    if (n.running) throw new Error(`node ${name} is still running`);
    n.start();
    await this.waitSelfActive(n, timeoutMs);
  }

  /** Waits until the node's own /status says ACTIVE. */
  async waitSelfActive(n: NodeProcess, timeoutMs = 30_000): Promise<NodeStatus> {
    return waitFor(
      `${n.name} to report itself ACTIVE on /status`,
      async () => {
        if (!n.running) throw new Error(`${n.name} is not running`);
        const s = await n.status();
        return { ok: s?.state === 'ACTIVE', value: s!, detail: s ? `state ${s.state}` : 'no answer' };
      },
      { timeoutMs, diagnostics: () => this.diagnostics() },
    );
  }

  /** Every running node sees every node of the cluster alive and ACTIVE, and no one else. */
  async waitAllActive(timeoutMs = 30_000): Promise<Map<string, NodeStatus>> {
    const expected = Object.fromEntries(this.nodes.map((n) => [n.name, { state: 'ACTIVE', swimState: 'alive' }]));
    return this.waitStates(expected, { timeoutMs, exact: true });
  }

  /**
   * Waits until every observer (default: every running node) lists each expected member with the
   * given state/swimState (and, with `exact`, lists no other member). Reads /status.
   */
  async waitStates(
    expected: Record<string, ExpectedMember>,
    opts: { timeoutMs?: number; observers?: NodeProcess[]; exact?: boolean } = {},
  ): Promise<Map<string, NodeStatus>> {
    const observers = () => opts.observers ?? this.running;
    return waitFor(
      `members ${JSON.stringify(expected)} as seen by ${observers().map((n) => n.name).join(', ')}`,
      async () => {
        const seen = new Map<string, NodeStatus>();
        const problems: string[] = [];
        await Promise.all(
          observers().map(async (o) => {
            const s = await o.status();
            if (!s) return problems.push(`${o.name}: no /status`);
            seen.set(o.name, s);
            const p = memberMismatch(s.members, expected, opts.exact ?? false);
            if (p) problems.push(`${o.name}: ${p}`);
            return undefined;
          }),
        );
        return { ok: problems.length === 0 && observers().length > 0, value: seen, detail: problems.join('; ') || 'no observers' };
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 300, diagnostics: () => this.diagnostics() },
    );
  }

  /** `tri ARGS --key-file KEY` (the cluster's key appended). */
  cli(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
    return runTri([...args, '--key-file', this.keyFile], opts);
  }

  /** Log tails of every node, for failure messages. */
  diagnostics(lines = 25): string {
    return this.nodes.map((n) => n.tailText(lines)).join('\n');
  }

  /** SIGKILLs every node still running and waits for them; prints the logs when `failed`; removes the temp dir. */
  async cleanup(failed = false): Promise<void> {
    const errors: string[] = [];
    await Promise.all(this.nodes.map((n) => n.kill().catch((err: Error) => errors.push(err.message))));
    if (failed) console.error(`[tri-cluster] test failed; node logs:\n${this.diagnostics(60)}`);
    await Promise.all(this.nodes.map((n) => n.closeLog()));
    if (process.env.TRI_IT_KEEP) console.error(`[tri-cluster] kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
    if (errors.length) throw new Error(`cleanup could not stop every node: ${errors.join('; ')}`);
  }
}

/** Why `members` does not match `expected` (undefined when it does). */
export function memberMismatch(members: MemberJson[], expected: Record<string, ExpectedMember>, exact: boolean): string | undefined {
  const out: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const m = members.find((x) => x.name === name);
    if (!m) out.push(`${name} missing`);
    else if ((want.state && m.state !== want.state) || (want.swimState && m.swimState !== want.swimState)) out.push(`${name} is ${m.state}/${m.swimState}`);
  }
  if (exact) for (const m of members) if (!(m.name in expected)) out.push(`unexpected member ${m.name}`);
  return out.length ? out.join(', ') : undefined;
}
