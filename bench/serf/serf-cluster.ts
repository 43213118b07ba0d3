// Starts and stops serf agents on loopback. Agent i binds 127.0.213.i (gossip 7946, RPC 7373),
// a /24 of 127/8 that the project's own nodes do not use, and joins agent 1. Every process is
// tracked and SIGKILLed by stopAll(), and also if this process exits without calling it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerfRpcClient } from './serf-rpc.js';

export const SERF_ADDRESS_PREFIX = '127.0.213.';
const GOSSIP_PORT = 7946;
const RPC_PORT = 7373;
const MAX_AGENTS = 200;
/** Lines of an agent's output kept for error messages. */
const LOG_TAIL_LINES = 20;

export interface SerfAgent {
  readonly index: number;
  readonly name: string;
  readonly address: string;
  readonly process: ChildProcess;
  /** Wall time (performance.now()) at spawn. */
  readonly startedAt: number;
  rpc?: SerfRpcClient;
  readonly logTail: string[];
}

export interface SerfClusterOptions {
  /** Where each agent sends go-metrics statsd counters (host:port on loopback), if anywhere. */
  statsdAddr?: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLeftoversOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; SIGKILL is, and cannot be ignored by serf.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export class SerfCluster {
  readonly agents: SerfAgent[] = [];
  private readonly configDir = mkdtempSync(join(tmpdir(), 'tri-serf-'));

  constructor(
    private readonly serfPath: string,
    private readonly opts: SerfClusterOptions = {},
  ) {
    killLeftoversOnExit();
  }

  /** Spawns agent n+1 (joining agent 1) and resolves once its RPC answers. */
  async startAgent(readyTimeoutMs = 10_000): Promise<SerfAgent> {
    const index = this.agents.length + 1;
    if (index > MAX_AGENTS) throw new Error(`at most ${MAX_AGENTS} serf agents`);
    const address = `${SERF_ADDRESS_PREFIX}${index}`;
    const name = `n${index}`;
    const args = ['agent', `-bind=${address}:${GOSSIP_PORT}`, `-rpc-addr=${address}:${RPC_PORT}`, '-profile=lan', `-node=${name}`, '-log-level=warn'];
    if (index > 1) args.push(`-join=${SERF_ADDRESS_PREFIX}1:${GOSSIP_PORT}`);
    if (this.opts.statsdAddr) {
      const file = join(this.configDir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ statsd_addr: this.opts.statsdAddr }));
      args.push(`-config-file=${file}`);
    }
    const child = spawn(this.serfPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const agent: SerfAgent = { index, name, address, process: child, startedAt: performance.now(), logTail: [] };
    const keep = (d: Buffer): void => {
      agent.logTail.push(...d.toString().split('\n').filter(Boolean));
      agent.logTail.splice(0, Math.max(0, agent.logTail.length - LOG_TAIL_LINES));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.agents.push(agent);
    agent.rpc = await this.connectRpc(agent, readyTimeoutMs);
    return agent;
  }

  /** Crash-stops an agent (SIGKILL: no leave message, the others must detect it). */
  kill(agent: SerfAgent): void {
    agent.rpc?.close();
    agent.rpc = undefined;
    agent.process.kill('SIGKILL');
  }

  /** SIGKILLs every agent, waits (bounded) for them to exit, removes config files. */
  async stopAll(waitMs = 5_000): Promise<void> {
    const running = this.agents.filter((a) => a.process.exitCode === null && a.process.signalCode === null);
    const exited = running.map((a) => new Promise<void>((r) => a.process.once('exit', () => r())));
    for (const agent of this.agents) this.kill(agent);
    await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, waitMs))]);
    rmSync(this.configDir, { recursive: true, force: true });
  }

  private async connectRpc(agent: SerfAgent, timeoutMs: number): Promise<SerfRpcClient> {
    const deadline = performance.now() + timeoutMs;
    let lastError = '';
    while (performance.now() < deadline) {
      if (agent.process.exitCode !== null) break;
      try {
        return await SerfRpcClient.open(agent.address, RPC_PORT, 1_000);
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(
      `serf agent ${agent.name} did not answer RPC on ${agent.address}:${RPC_PORT} within ${timeoutMs} ms ` +
        `(exit code ${String(agent.process.exitCode)}; last error: ${lastError}); its log: ${agent.logTail.join(' | ')}`,
    );
  }
}
