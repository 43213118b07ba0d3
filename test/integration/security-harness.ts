// Real node processes for the security integration tests: `tri node start` from dist/ (build with
// `npx tsc -p tsconfig.json` first) on 127.0.2.x with the default ports, /status over HTTP, the
// `tri` CLI as a child process. Every process started here is killed by `killAll()` (call it in
// afterAll/afterEach), and every wait is bounded in time.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKey } from '../../src/security/keyring.js';

export const TRI = resolve('dist/src/cli/tri.js');

export function requireBuild(): void {
  if (!existsSync(TRI)) throw new Error(`${TRI} is missing: run \`npx tsc -p tsconfig.json\` before the integration tests`);
}

export interface NodeProc {
  name: string;
  ip: string;
  data: string;
  child: ChildProcess;
  log: string[];
}

export interface MemberJson {
  name: string;
  address: string;
  port: number;
  state: string;
  swimState: string;
  incarnation: number;
}

export interface StatusJson {
  name: string;
  state: string;
  incarnation: number;
  gossip: Record<string, number>;
  security?: {
    encrypted: boolean;
    packetDrops: { auth: number; replay: number; malformed: number; oversize: number; total: number };
    tlsHandshakeFailures: { auth: number; transport: number };
    connectionsOverPeerLimit: number;
    /** Only with a client token (status(ip, timeout, token)); without one, keysHidden says how. */
    keys?: string[];
    keysHidden?: string;
  };
  members: MemberJson[];
}

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'tri-sec-'));
  private readonly procs: NodeProc[] = [];

  keyFile(name: string, key = generateKey()): string {
    const p = join(this.dir, name);
    writeFileSync(p, key + '\n', { mode: 0o600 });
    return p;
  }

  readKey(file: string): string {
    return readFileSync(file, 'utf8').trim();
  }

  start(name: string, ip: string, opts: { keyFile?: string; insecure?: boolean; join?: string[]; data?: string; extra?: string[]; profile?: 'local' | 'lan' } = {}): NodeProc {
    const data = opts.data ?? join(this.dir, `data-${name}`);
    const args = [TRI, 'node', 'start', '--name', name, '--bind', ip, '--profile', opts.profile ?? 'local', '--data', data, '--log-level', 'warn'];
    if (opts.insecure) args.push('--insecure');
    else args.push('--key-file', opts.keyFile!);
    for (const j of opts.join ?? []) args.push('--join', j);
    args.push(...(opts.extra ?? []));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    const keep = (b: Buffer): void => {
      log.push(b.toString());
      if (log.length > 200) log.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const p = { name, ip, data, child, log };
    this.procs.push(p);
    return p;
  }

  /** SIGTERM (graceful leave) and wait for the exit, bounded. */
  async stop(p: NodeProc, timeoutMs = 8000): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
        p.child.kill('SIGKILL');
        await Promise.race([exited, sleep(3000)]);
      }),
    );
  }

  /** Re-throws a failure with each process's exit status and last log lines, for diagnosis. */
  async explain<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      const lines = this.procs.map((p) => `${p.name}@${p.ip} exit=${p.child.exitCode ?? p.child.signalCode ?? 'running'}: ${p.log.join('').slice(-600)}`);
      throw new Error(`${(err as Error).message}\n${lines.join('\n')}`, { cause: err });
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * GET /status (node:http: fetch() refuses port 10080, which is on the WHATWG "bad ports" list).
 * Key fingerprints (security.keys) come only with a client token (clientToken below).
 */
export function status(ip: string, timeoutMs = 2000, token?: string): Promise<StatusJson | undefined> {
  return new Promise((resolvePromise) => {
    const path = token === undefined ? '/status' : `/status?token=${encodeURIComponent(token)}`;
    const req = http.get({ host: ip, port: 10080, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolvePromise(res.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString()) as StatusJson) : undefined);
        } catch {
          resolvePromise(undefined);
        }
      });
      res.on('error', () => resolvePromise(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePromise(undefined));
  });
}

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until the node at `ip` sees exactly `names` alive (and is ACTIVE itself, unless told otherwise). */
export function waitForView(ip: string, names: string[], timeoutMs = 20_000, requireActive = true): Promise<StatusJson> {
  const want = [...names].sort().join(',');
  return waitFor(
    `${ip} to see ${want} alive`,
    async () => {
      const s = await status(ip);
      if (!s || (requireActive && s.state !== 'ACTIVE')) return undefined;
      const alive = s.members.filter((m) => m.swimState === 'alive').map((m) => m.name).sort().join(',');
      return alive === want ? s : undefined;
    },
    timeoutMs,
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tri(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [TRI, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A client token signed with the key in `keyFile`, made as operators make one: `tri token create`. */
export async function clientToken(keyFile: string): Promise<string> {
  const r = await tri(['token', 'create', '--key-file', keyFile, '--ttl', '1h']);
  if (r.code !== 0 || !/^tri1\.\S+\n$/.test(r.stdout)) throw new Error(`tri token create failed (exit ${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}
