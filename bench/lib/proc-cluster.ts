// Starts and stops our own node processes (`tri node start`) on loopback for the benchmarks. Node
// i binds 127.0.3.i (default ports: gossip 9999, RPC 10000, HTTP 10080), a /24 of 127/8 that
// serf's runner (127.0.213.x) does not use, and joins node 1. Every process is tracked and
// SIGKILLed by stopAll(), and also if this process exits without calling it. Each node's JSON log
// lines about other members (suspect, dead, ...) are kept, so a transient false suspicion that a
// poll would miss still shows.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';

export const NODE_ADDRESS_PREFIX = '127.0.3.';
export const GOSSIP_PORT = 9999;
export const HTTP_PORT = 10080;
/** Addresses 127.0.3.1-127.0.3.254 only. */
const MAX_NODES = 254;
const LOG_TAIL_LINES = 20;

/** A member as GET /status lists it. */
export interface StatusMember {
  name: string;
  state: string;
  swimState: string;
  incarnation: number;
}

/** The parts of GET /status the benchmarks read. */
export interface NodeStatus {
  name: string;
  state: string;
  members: StatusMember[];
  gossip: Record<string, number>;
}

/** One "member <event>" log line of a node about another member. */
export interface MemberLogEvent {
  observer: string;
  member: string;
  event: string;
  /** Wall-clock ms (Date.now() scale) from the log line's time. */
  at: number;
}

export interface ProcNode {
  readonly index: number;
  readonly name: string;
  readonly address: string;
  readonly process: ChildProcess;
  /** performance.now() at spawn. */
  readonly startedAt: number;
  /** performance.now() when /status first answered. */
  readyAt: number;
  readonly logTail: string[];
  readonly events: MemberLogEvent[];
}

export interface ProcClusterOptions {
  /** Path of the compiled CLI; default dist/src/cli/tri.js of this checkout. */
  triPath?: string;
  profile?: 'lan' | 'local' | 'wan';
  /** Extra `tri node start` flags. */
  extraArgs?: string[];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLeftoversOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** dist/src/cli/tri.js, whether this file runs compiled (dist/bench/lib) or from source (bench/lib). */
export function defaultTriPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = resolve(here, '..', '..', 'src', 'cli', 'tri.js');
  if (existsSync(compiled)) return compiled;
  return resolve(here, '..', '..', 'dist', 'src', 'cli', 'tri.js');
}

/** A private copy of the compiled CLI; `cleanup` removes it. */
export interface CliSnapshot {
  triPath: string;
  cleanup: () => void;
}

/**
 * Copies the compiled tree (every directory of dist/: src, the leaf modules gossip/, crdt/,
 * errors/, and bench/, which the CLI imports for `tri cluster-bench`) to a temporary directory and checks
 * that the copy loads, so nodes started minutes apart run the same code even while someone
 * rebuilds dist/ in the shared checkout (a half-written dist/ otherwise kills a node at import).
 * Bare imports resolve through a symlink to the checkout's node_modules. Retries a few times.
 */
export async function snapshotCli(triPath = defaultTriPath(), attempts = 4): Promise<CliSnapshot> {
  const distRoot = resolve(dirname(triPath), '..', '..');
  const repoRoot = resolve(distRoot, '..');
  let lastError = '';
  for (let i = 0; i < attempts; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'tri-bench-cli-'));
    const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
    try {
      // Every top-level directory: a leaf module added later (errors/ was) is copied without a list to keep.
      for (const sub of readdirSync(distRoot, { withFileTypes: true })) {
        // Timestamps kept: tri.js runs its client bundle only when it is not older than the modules.
        if (sub.isDirectory()) cpSync(join(distRoot, sub.name), join(dir, 'dist', sub.name), { recursive: true, preserveTimestamps: true });
      }
      cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const copy = join(dir, 'dist', 'src', 'cli', 'tri.js');
      // Loading the CLI links every module a node imports; a torn copy fails here, not mid-run.
      await runCommand(process.execPath, [copy, 'node', 'start', '--help'], { timeoutMs: 20_000 });
      return { triPath: copy, cleanup };
    } catch (err) {
      cleanup();
      lastError = (err as Error).message;
      await sleep(3_000);
    }
  }
  throw new Error(`could not take a working copy of ${distRoot} in ${attempts} attempts: ${lastError}`);
}

/** Parses one JSON log line of a node into a member event, if it is one. */
export function parseMemberLogLine(observer: string, line: string): MemberLogEvent | undefined {
  if (!line.includes('"member')) return undefined;
  try {
    const rec = JSON.parse(line) as { msg?: unknown; member?: unknown; event?: unknown; time?: unknown };
    if (typeof rec.msg !== 'string' || !rec.msg.startsWith('member ') || typeof rec.member !== 'string') return undefined;
    const event = typeof rec.event === 'string' ? rec.event : rec.msg.slice('member '.length);
    const at = typeof rec.time === 'string' ? Date.parse(rec.time) : typeof rec.time === 'number' ? rec.time : NaN;
    return { observer, member: rec.member, event, at };
  } catch {
    return undefined;
  }
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'tri-bench-'));
  private readonly keyFile = join(this.dir, 'cluster.key');
  private readonly triPath: string;

  constructor(private readonly opts: ProcClusterOptions = {}) {
    killLeftoversOnExit();
    this.triPath = opts.triPath ?? defaultTriPath();
    if (!existsSync(this.triPath)) throw new Error(`no CLI at ${this.triPath}: build first (npx tsc -p tsconfig.json)`);
    writeFileSync(this.keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }

  /** Spawns node n+1 (joining node 1 unless it is node 1) and resolves once its /status answers. */
  async startNode(readyTimeoutMs = 20_000): Promise<ProcNode> {
    const index = this.nodes.length + 1;
    if (index > MAX_NODES) throw new Error(`at most ${MAX_NODES} nodes (127.0.3.1-127.0.3.${MAX_NODES})`);
    const address = `${NODE_ADDRESS_PREFIX}${index}`;
    const name = `n${index}`;
    const args = [this.triPath, 'node', 'start', '--name', name, '--bind', address, '--key-file', this.keyFile];
    args.push('--profile', this.opts.profile ?? 'lan', '--log-level', 'info', ...(this.opts.extraArgs ?? []));
    if (index > 1) args.push('--join', `${NODE_ADDRESS_PREFIX}1:${GOSSIP_PORT}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const node: ProcNode = { index, name, address, process: child, startedAt: performance.now(), readyAt: NaN, logTail: [], events: [] };
    let partial = '';
    child.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const ev = parseMemberLogLine(name, line);
        if (ev) node.events.push(ev);
        else if (line.trim()) keepTail(node, line);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) keepTail(node, line);
    });
    this.nodes.push(node);
    await this.waitReady(node, readyTimeoutMs);
    return node;
  }

  /** Crash-stops a node (SIGKILL: no leave message, the others must detect it). */
  kill(node: ProcNode): void {
    node.process.kill('SIGKILL');
  }

  isRunning(node: ProcNode): boolean {
    return node.process.exitCode === null && node.process.signalCode === null;
  }

  /** SIGKILLs every node, waits (bounded) for them to exit, removes the key file. */
  async stopAll(waitMs = 5_000): Promise<void> {
    const running = this.nodes.filter((n) => this.isRunning(n));
    const exited = running.map((n) => new Promise<void>((r) => n.process.once('exit', () => r())));
    for (const n of running) this.kill(n);
    await Promise.race([Promise.all(exited), sleep(waitMs)]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitReady(node: ProcNode, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && this.isRunning(node)) {
      if (await fetchStatus(node.address, 500)) {
        node.readyAt = performance.now();
        return;
      }
      await sleep(50);
    }
    this.kill(node);
    throw new Error(
      `node ${node.name} did not answer http://${node.address}:${HTTP_PORT}/status within ${timeoutMs} ms ` +
        `(exit code ${String(node.process.exitCode)}); its log: ${node.logTail.join(' | ')}`,
    );
  }
}

/** Keep-alive, so polling dozens of nodes every 50 ms does not open a connection per poll. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * GET /status of the node at `address` (default HTTP port), or undefined if it does not answer in
 * time. node:http, not fetch(): fetch refuses port 10080 (on the WHATWG "bad ports" list).
 */
export function fetchStatus(address: string, timeoutMs = 1_000): Promise<NodeStatus | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port: HTTP_PORT, path: '/status', agent, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as NodeStatus);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

/** Per-observer times (ms after the start event); observers that never saw it are `missing`. */
export interface ObservedTimes {
  times: number[];
  missing: string[];
}

/**
 * Polls every node's /status every pollMs until `holds(status)` is true for it, recording when
 * (ms after `since`, a performance.now() value; taken after the answer, so at most one round trip
 * late). `inspect` sees every status read (e.g. to spot false suspicions). Bounded by timeoutMs.
 */
export async function timeUntilEach(
  observers: readonly ProcNode[],
  since: number,
  holds: (s: NodeStatus) => boolean,
  opts: { timeoutMs: number; pollMs?: number; inspect?: (observer: ProcNode, s: NodeStatus) => void },
): Promise<ObservedTimes> {
  const pollMs = opts.pollMs ?? 50;
  const seenAt = new Map<ProcNode, number>();
  const deadline = since + opts.timeoutMs;
  while (seenAt.size < observers.length && performance.now() < deadline) {
    const next = performance.now() + pollMs;
    const pending = observers.filter((o) => !seenAt.has(o));
    await Promise.all(
      pending.map(async (o) => {
        const s = await fetchStatus(o.address, Math.max(200, Math.min(2_000, deadline - performance.now())));
        if (!s) return;
        opts.inspect?.(o, s);
        if (holds(s)) seenAt.set(o, performance.now() - since);
      }),
    );
    await sleep(Math.max(0, next - performance.now()));
  }
  return {
    times: observers.filter((o) => seenAt.has(o)).map((o) => seenAt.get(o)!),
    missing: observers.filter((o) => !seenAt.has(o)).map((o) => o.name),
  };
}

/** Every name listed with lifecycle state `state` (ACTIVE, FAILED, ...). */
export function allInState(names: readonly string[], state: string) {
  return (s: NodeStatus): boolean => names.every((n) => s.members.some((m) => m.name === n && m.state === state));
}

/** Every name listed with SWIM state `swimState` (alive, suspect, dead, left). */
export function allInSwimState(names: readonly string[], swimState: string) {
  return (s: NodeStatus): boolean => names.every((n) => s.members.some((m) => m.name === n && m.swimState === swimState));
}

/**
 * bytes_sent per established TCP socket from `ss -tinH` output, keyed "local peer", for sockets
 * whose local address starts with `addressPrefix` and whose local or peer port is in `ports`.
 * On loopback both ends of a connection are listed, so the sum is what all nodes sent.
 */
export function parseSsBytesSent(text: string, addressPrefix: string, ports: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/);
    if (cols.length < 4 || lines[i]!.startsWith('\t') || lines[i]!.startsWith(' ')) continue;
    const [local, peer] = cols.slice(-2) as [string, string];
    const info = lines[i + 1] ?? '';
    const m = /bytes_sent:(\d+)/.exec(info);
    const port = (a: string): number => Number(a.slice(a.lastIndexOf(':') + 1));
    if (!local.startsWith(addressPrefix) || !(ports.includes(port(local)) || ports.includes(port(peer)))) continue;
    out.set(`${local} ${peer}`, m ? Number(m[1]) : 0);
  }
  return out;
}

/** Bytes sent between `before` and `after` (a socket new in `after` counts from zero; closed ones are lost). */
export function bytesSentBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const [k, v] of after) total += Math.max(0, v - (before.get(k) ?? 0));
  return total;
}

/** TCP bytes sent so far on our nodes' stream sockets (push-pull, RPC), from `ss`; undefined without ss. */
export async function nodeTcpBytesSent(addressPrefix = NODE_ADDRESS_PREFIX, ports: readonly number[] = [GOSSIP_PORT, 10_000]): Promise<Map<string, number> | undefined> {
  const r = await runCommand('ss', ['-tinH', 'state', 'established'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  return parseSsBytesSent(r.stdout, addressPrefix, ports);
}

function keepTail(node: ProcNode, line: string): void {
  node.logTail.push(line);
  node.logTail.splice(0, Math.max(0, node.logTail.length - LOG_TAIL_LINES));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
