// One `tri node start` process: spawn it, keep its log (a file in the test's temp dir plus an
// in-memory tail for failure messages), signal it, wait for its exit, read its HTTP /status.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import http from 'node:http';
import { REPO_ROOT, TRI, assertBuilt, trackChild, untrackChild } from './run-tri.js';

/** A member as `tri nodes --json` and /status show it (DESIGN.md "Command line"). */
export interface MemberJson {
  name: string;
  address: string;
  port: number;
  rpcPort: number;
  role: string;
  state: string;
  swimState: string;
  incarnation: number;
  rttMs: number | null;
  slots: number;
  freeSlots: number;
}

/** The parts of GET /status the tests read. */
export interface NodeStatus {
  name: string;
  state: string;
  incarnation: number;
  members: MemberJson[];
  memory?: { digest: string; documents: number; agents: number };
  quorum?: { writable: boolean; reachable: number; voters: number };
  [k: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_LINES = 60;

export class NodeProcess {
  private proc: ChildProcess | undefined;
  private exitInfo: ExitInfo | undefined;
  private exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  private log: WriteStream | undefined;
  private readonly tail: string[] = [];
  /** The last signal this harness sent, so an exit nobody here asked for stands out in the log. */
  private sent: NodeJS.Signals | undefined;
  /** How many times this node was started (restarts append to the same log). */
  starts = 0;

  constructor(
    readonly name: string,
    readonly address: string,
    /** Everything after `tri`, for example ['node', 'start', '--name', ...]. */
    readonly args: string[],
    readonly logFile: string,
    readonly httpPort = 10080,
  ) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** True from spawn until the process has exited. */
  get running(): boolean {
    return this.proc !== undefined && this.exitInfo === undefined;
  }

  start(): void {
    if (this.running) throw new Error(`node ${this.name} is already running (pid ${this.pid})`);
    assertBuilt();
    this.starts++;
    this.exitInfo = undefined;
    this.sent = undefined;
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    const header = `[harness] start #${this.starts}: tri ${this.args.join(' ')}`;
    this.record(header);
    const child = spawn(process.execPath, [TRI, ...this.args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = child;
    trackChild(child.pid);
    let partial = { out: '', err: '' };
    const onData = (which: 'out' | 'err') => (chunk: string) => {
      const text = partial[which] + chunk;
      const lines = text.split('\n');
      partial = { ...partial, [which]: lines.pop() ?? '' };
      for (const l of lines) this.record(which === 'err' ? `[stderr] ${l}` : l);
    };
    child.stdout!.setEncoding('utf8').on('data', onData('out'));
    child.stderr!.setEncoding('utf8').on('data', onData('err'));
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => this.record(`[harness] spawn error: ${err.message}`));
      child.on('exit', (code, signal) => {
        untrackChild(child.pid);
        this.exitInfo = { code, signal };
        if (partial.out) this.record(partial.out);
        if (partial.err) this.record(`[stderr] ${partial.err}`);
        partial = { out: '', err: '' };
        const unasked = this.sent === undefined ? ' (UNEXPECTED: the harness sent no signal; a crash, or a signal from outside this test)' : '';
        this.record(`[harness] exited: code ${code} signal ${signal}${unasked}`);
        resolve(this.exitInfo);
      });
    });
  }

  /** Sends a signal; false when the process is not running. */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.running || !this.proc) return false;
    this.record(`[harness] sending ${sig}`);
    this.sent = sig;
    return this.proc.kill(sig);
  }

  /** Resolves with how the process ended; rejects when it is still running after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${this.name} (pid ${this.pid}) still running ${timeoutMs} ms later\n${this.tailText()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL and wait for the exit (no-op when it is not running). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.waitExit(10_000);
  }

  /** GET /status, or undefined when the node does not answer (yet, or any more). */
  async status(timeoutMs = 2_000): Promise<NodeStatus | undefined> {
    if (!this.running) return undefined;
    // node:http, not fetch: 10080 is on the WHATWG fetch "bad port" list, so fetch refuses it.
    const body = await httpGet(`http://${this.address}:${this.httpPort}/status`, timeoutMs);
    if (body === undefined) return undefined;
    try {
      return JSON.parse(body) as NodeStatus;
    } catch {
      return undefined;
    }
  }

  /** The last log lines (node JSON logs, stderr, harness events). */
  tailText(lines = 25): string {
    return `--- ${this.name} (${this.address}, pid ${this.pid ?? '-'}, ${this.running ? 'running' : `exited ${JSON.stringify(this.exitInfo ?? null)}`}) log ${this.logFile}\n${this.tail.slice(-lines).join('\n')}`;
  }

  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((r) => log.end(r));
  }

  private record(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
    this.log?.write(line + '\n');
  }
}

/** The body of a 200 answer, or undefined on any error, other status or timeout. */
export function httpGet(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}
