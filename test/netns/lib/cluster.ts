// Runs real `tri node start` processes inside harness hosts, and the `tri` client CLI inside a
// host namespace too (the 10.213 addresses exist only there). Every node gets its own data
// directory under one temp dir, the same key file (from `tri keys generate`), --profile lan, and
// fixed ports on its own address. Logs (JSON lines) are kept per node so a failing test can print
// them. Everything is bounded: each CLI call has a timeout, each wait a deadline.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Host } from './host.js';
import { createLan, type Lan } from './lan.js';
import { sweepStale } from './sweep.js';
import type { CommandResult } from './run-command.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built CLI (CI builds before the tests: `npx tsc -p tsconfig.json`). */
export const TRI = join(REPO, 'dist/src/cli/tri.js');

export const GOSSIP_PORT = 9999;
export const RPC_PORT = 10000;
export const HTTP_PORT = 10080;

export type Role = 'coordinator' | 'worker' | 'hybrid';

export interface TriNode {
  readonly name: string;
  readonly host: Host;
  readonly role: Role;
  readonly dataDir: string;
  child: ChildProcess;
  /** Every stdout/stderr line the node printed, across restarts. */
  readonly log: string[];
}

/** A member as `tri nodes --json` shows it. */
export interface MemberJson {
  name: string;
  address: string;
  role: Role;
  state: string;
  swimState: string;
  incarnation: number;
}

/** The parts of GET /status the tests read. */
export interface StatusJson {
  name: string;
  state: string;
  incarnation: number;
  quorum: { writable: boolean; reachable: number; voters: number; tiebreaker: string | null; removed: string[]; configuration: number; pendingConfiguration: number | null; reason: string };
  memory: { digest: string; documents: number; agents: number };
  members: MemberJson[];
}

export interface EpisodeJson {
  id: string;
  task: string;
  outcome: string;
  node: string;
}

export interface StartOptions {
  role?: Role;
  /** Gossip addresses HOST:PORT of seeds. */
  join?: string[];
  /** Further `tri node start` flags (e.g. --discover). */
  extraArgs?: string[];
}

// GETs http://ADDR:PORT/status inside the namespace, prints the body or "ERR <why>". node:http,
// not fetch: the default HTTP port 10080 is on the Fetch standard's blocked-port list ("bad port").
const STATUS_SCRIPT = `
const req = require('node:http').get(process.argv[1], { timeout: Number(process.argv[2]) }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (body += d));
  res.on('end', () => console.log(body));
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => console.log('ERR ' + e.message));
`;

export class TriCluster {
  readonly nodes = new Map<string, TriNode>();
  /**
   * Node names on the wire are `<tag><name>` ("q1234xn1"), unique to this process, so another
   * engineer's cleanup that kills "tri node start --name n1" by pattern cannot hit our nodes (it
   * happened). Everything read back (status, CLI output) has the tag stripped, so tests use n1.
   */
  readonly tag = `q${process.pid}x`;
  readonly dir: string;
  readonly keyFile: string;

  private constructor(
    readonly lan: Lan,
    dir: string,
    keyFile: string,
  ) {
    this.dir = dir;
    this.keyFile = keyFile;
  }

  /** Makes the temp dir and the cluster key (with `tri keys generate`, run inside the first host). */
  static async create(lan: Lan): Promise<TriCluster> {
    if (!existsSync(TRI)) throw new Error(`${TRI} is missing: build first with "npx tsc -p tsconfig.json"`);
    const host = lan.hosts[0];
    if (!host) throw new Error('the LAN has no hosts');
    const dir = mkdtempSync(join(tmpdir(), 'tri-quorum-'));
    const res = await lan.exec(host, process.execPath, [TRI, 'keys', 'generate'], { timeoutMs: 20_000 });
    const keyFile = join(dir, 'cluster.key');
    writeFileSync(keyFile, res.stdout.trim() + '\n', { mode: 0o600 });
    return new TriCluster(lan, dir, keyFile);
  }

  /** Starts `tri node start` on the host (the node process itself, no wrapper). */
  start(host: Host, name: string, opts: StartOptions = {}): TriNode {
    const existing = this.nodes.get(name);
    const dataDir = existing?.dataDir ?? join(this.dir, name);
    const role = existing?.role ?? opts.role ?? 'hybrid';
    const args = [
      TRI, 'node', 'start',
      '--name', this.tag + name,
      '--bind', host.address,
      '--port', String(GOSSIP_PORT),
      '--rpc-port', String(RPC_PORT),
      '--http-port', String(HTTP_PORT),
      '--role', role,
      '--data', dataDir,
      '--key-file', this.keyFile,
      '--profile', 'lan',
    ];
    for (const j of opts.join ?? []) args.push('--join', j);
    args.push(...(opts.extraArgs ?? []));
    const child = this.lan.spawn(host, process.execPath, args);
    const log = existing?.log ?? [];
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (l) => log.push(l));
    }
    const node: TriNode = { name, host, role, dataDir, child, log };
    this.nodes.set(name, node);
    return node;
  }

  node(name: string): TriNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Runs `tri ARGS --at <node's address> --key-file K` inside `from` (default: the node's own host). */
  async cli(target: TriNode, args: readonly string[], from: Host = target.host, timeoutMs = 20_000): Promise<CommandResult> {
    const r = await this.lan.exec(from, process.execPath, [TRI, ...args, '--at', `${target.host.address}:${RPC_PORT}`, '--key-file', this.keyFile], {
      allowFailure: true,
      timeoutMs,
    });
    return { ...r, stdout: this.untag(r.stdout), stderr: this.untag(r.stderr) };
  }

  /** `tri memory add`; returns the exit code, stderr and the episode id when it succeeded. */
  async addEpisode(target: TriNode, agent: string, task: string): Promise<{ code: number; stderr: string; id?: string }> {
    const r = await this.cli(target, ['memory', 'add', '--agent', agent, '--task', task, '--outcome', 'ok', '--json']);
    const id = r.code === 0 ? (JSON.parse(r.stdout) as EpisodeJson).id : undefined;
    return { code: r.code, stderr: r.stderr.trim(), id };
  }

  async show(target: TriNode, agent: string): Promise<EpisodeJson[]> {
    const r = await this.cli(target, ['memory', 'show', '--agent', agent, '--all', '--json']);
    if (r.code !== 0) throw new Error(`tri memory show on ${target.name} failed (exit ${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as EpisodeJson[];
  }

  async digest(target: TriNode): Promise<{ digest: string; documents: number }> {
    const r = await this.cli(target, ['memory', 'digest', '--json']);
    if (r.code !== 0) throw new Error(`tri memory digest on ${target.name} failed (exit ${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as { digest: string; documents: number };
  }

  async members(target: TriNode): Promise<MemberJson[]> {
    const r = await this.cli(target, ['nodes', '--json']);
    if (r.code !== 0) throw new Error(`tri nodes on ${target.name} failed (exit ${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as MemberJson[];
  }

  /** GET /status from inside the node's own host; undefined when it does not answer. */
  async status(target: TriNode): Promise<StatusJson | undefined> {
    const url = `http://${target.host.address}:${HTTP_PORT}/status`;
    const r = await this.lan.exec(target.host, process.execPath, ['-e', STATUS_SCRIPT, url, '3000'], { allowFailure: true, timeoutMs: 8_000 });
    const text = this.untag(r.stdout.trim());
    if (r.code !== 0 || !text.startsWith('{')) return undefined;
    return JSON.parse(text) as StatusJson;
  }

  /**
   * Polls every node's /status until `check` holds for all of them (bounded by timeoutMs); returns
   * the last statuses either way, so a failed expectation can show what the nodes saw.
   */
  async waitStatus(
    names: readonly string[],
    check: (s: StatusJson, name: string) => boolean,
    timeoutMs: number,
    everyMs = 500,
  ): Promise<{ ok: boolean; statuses: Record<string, StatusJson | undefined>; elapsedMs: number }> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    let statuses: Record<string, StatusJson | undefined> = {};
    for (let round = 0; round < 1000; round++) {
      statuses = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await this.status(this.node(n))] as const)));
      if (names.every((n) => statuses[n] !== undefined && check(statuses[n]!, n))) return { ok: true, statuses, elapsedMs: Date.now() - t0 };
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return { ok: false, statuses, elapsedMs: Date.now() - t0 };
  }

  /** SIGKILLs one node (a crash). */
  async kill(name: string): Promise<void> {
    const n = this.node(name);
    if (n.child.exitCode !== null || n.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => n.child.once('exit', () => r()));
    if (n.child.pid !== undefined) {
      try {
        process.kill(-n.child.pid, 'SIGKILL');
      } catch {
        n.child.kill('SIGKILL');
      }
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }

  private untag(text: string): string {
    return text.replaceAll(this.tag, '');
  }

  /** The last lines of every node's log, for a failure message. */
  logs(lines = 30): string {
    return [...this.nodes.values()].map((n) => `--- ${n.name} (${n.host.address}) ---\n${n.log.slice(-lines).join('\n')}`).join('\n');
  }

  /** Kills the nodes and removes the temp dir; the LAN itself is the caller's to destroy. */
  async destroy(): Promise<void> {
    for (const name of this.nodes.keys()) await this.kill(name);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `HOST:9999` of a host, for --join. */
export function gossipAddress(host: Host): string {
  return `${host.address}:${GOSSIP_PORT}`;
}

/**
 * Starts one node per host (names n1..nN unless given), the first as seed, the others joining it,
 * and waits until every node is ACTIVE and sees all N voters on /status.
 */
export async function startCluster(
  cluster: TriCluster,
  hosts: readonly Host[],
  roles: Partial<Record<string, Role>> = {},
  timeoutMs = 45_000,
  extraArgs: string[] = [],
): Promise<string[]> {
  const names = hosts.map((_, i) => `n${i + 1}`);
  const seed = hosts[0]!;
  cluster.start(seed, names[0]!, { role: roles[names[0]!], extraArgs });
  // The seed must be listening before the others push-pull with it; join also retries with backoff.
  const seedUp = await cluster.waitStatus([names[0]!], (s) => s.state === 'ACTIVE', 20_000, 300);
  if (!seedUp.ok) throw new Error(`seed ${names[0]} did not become ACTIVE:\n${cluster.logs()}`);
  hosts.slice(1).forEach((h, i) => cluster.start(h, names[i + 1]!, { role: roles[names[i + 1]!], join: [gossipAddress(seed)], extraArgs }));
  const all = await cluster.waitStatus(
    names,
    (s) => s.state === 'ACTIVE' && s.quorum.voters === names.length && s.quorum.reachable === names.length,
    timeoutMs,
  );
  if (!all.ok) throw new Error(`cluster did not form within ${timeoutMs} ms: ${JSON.stringify(summarize(all.statuses))}\n${cluster.logs()}`);
  return names;
}

/** A compact view of statuses for failure messages: name -> state, reachable/voters, writable. */
export function summarize(statuses: Record<string, StatusJson | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(statuses).map(([n, s]) => [n, s ? `${s.state} ${s.quorum.reachable}/${s.quorum.voters} writable=${s.quorum.writable} removed=[${s.quorum.removed.join(',')}]` : 'no answer']),
  );
}

/**
 * The setup every quorum test shares: sweep stale namespaces, make a LAN of `count` hosts, start
 * a `tri` node on each (n1 first, the rest joining it) and wait until all are ACTIVE.
 */
/**
 * `replicationFactor`: founded with it (`--replication-factor`); the split suites pass at least
 * the node count, so every node holds every agent as their digest checks assume.
 */
export async function launchLanCluster(count: number, roles: Partial<Record<string, Role>>, label: string, replicationFactor?: number): Promise<{ lan: Lan; cluster: TriCluster; hosts: Host[] }> {
  await sweepStale();
  const lan = await createLan(count);
  const hosts = [...lan.hosts];
  const cluster = await TriCluster.create(lan);
  const t0 = Date.now();
  await startCluster(cluster, hosts, roles, 45_000, replicationFactor === undefined ? [] : ['--replication-factor', String(replicationFactor)]);
  console.log(`[${label}] cluster of ${count} ACTIVE in ${Date.now() - t0} ms`);
  return { lan, cluster, hosts };
}

/** Stops every node, then removes the namespaces, even if stopping fails. */
export async function destroyLanCluster(cluster: TriCluster | undefined, lan: Lan | undefined): Promise<void> {
  try {
    await cluster?.destroy();
  } finally {
    await lan?.destroy();
  }
}
