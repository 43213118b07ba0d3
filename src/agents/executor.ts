// Runs tasks on this node: takes a slot from the pool, spawns the agent into it, runs it with
// an abort signal, and always gives the slot back. This is what the node's `run` RPC handler
// calls. A revoked task (fenced off by a newer assignment), a timeout and node shutdown all
// abort through the same signal; the outcome then says why. Time (durations, the timeout, agents'
// ctx.sleep) comes from the injected runtime: the node's own, virtual in the simulator.
import { REAL_AGENT_TIME, sleepOn, type AgentTime } from './agent-clock.js';
import type { AgentRegistry } from './registry.js';
import { describe, runAgent } from './run-agent.js';
import { SlotPool } from './slot-pool.js';
import type { AgentOutcome } from './types.js';

export interface ExecuteRequest {
  taskId: string;
  type: string;
  agentId: string;
  input: unknown;
  /** The fencing token this run belongs to (kept to know which run abort() targets). */
  token?: number;
  /** Abort the run after this long; default: no limit beyond the agents' own caps. */
  timeoutMs?: number;
}

export interface ExecutorOptions {
  node: string;
  registry: AgentRegistry;
  /** A pool to share, or a capacity to create one with. */
  pool?: SlotPool;
  slots?: number;
  /** The node's clock and scheduler (its Runtime); default: the real clock and Node timers. */
  runtime?: AgentTime;
}

export const DEFAULT_SLOTS = 16;

interface Running {
  controller: AbortController;
  token: number | undefined;
  outcome: Promise<AgentOutcome>;
}

export class AgentExecutor {
  readonly pool: SlotPool;
  readonly node: string;
  private readonly registry: AgentRegistry;
  private readonly time: AgentTime;
  /** One controller per running task: a task id runs at most once per node at a time. */
  private readonly running = new Map<string, Running>();
  private stopped = false;

  constructor(options: ExecutorOptions) {
    this.node = options.node;
    this.registry = options.registry;
    this.time = options.runtime ?? REAL_AGENT_TIME;
    this.pool = options.pool ?? new SlotPool(options.slots ?? DEFAULT_SLOTS);
  }

  /**
   * Runs the task in a slot (waiting for one if all are busy). Never rejects. The same
   * (task, token) asked twice (a retried RPC) shares one run; a newer token for a task still
   * running here means the old run was fenced off, so that one is aborted first.
   */
  execute(req: ExecuteRequest): Promise<AgentOutcome> {
    if (this.stopped) return Promise.resolve({ ok: false, error: `node ${this.node} is stopping; the task will be reassigned`, durationMs: 0 });
    const previous = this.running.get(req.taskId);
    if (previous && req.token !== undefined && previous.token === req.token) return previous.outcome;
    if (previous) previous.controller.abort(new Error(`superseded by token ${req.token ?? '(none)'}`));
    const controller = new AbortController();
    const entry = { controller, token: req.token } as Running;
    entry.outcome = this.run(req, entry);
    this.running.set(req.taskId, entry);
    return entry.outcome;
  }

  private async run(req: ExecuteRequest, entry: Running): Promise<AgentOutcome> {
    const { signal } = entry.controller;
    const { clock, scheduler } = this.time;
    const cancelTimeout = req.timeoutMs !== undefined ? scheduler.schedule(req.timeoutMs, () => entry.controller.abort(new Error(`timed out after ${req.timeoutMs} ms`))) : undefined;
    try {
      let lease;
      try {
        lease = await this.pool.acquire({ taskId: req.taskId, agentId: req.agentId }, signal);
      } catch {
        return { ok: false, error: `aborted while waiting for a free slot: ${describe(signal.reason)}`, durationMs: 0 };
      }
      try {
        const sleep = (ms: number): Promise<void> => sleepOn(scheduler, ms, signal);
        return await runAgent(this.registry, req.type, req.input, { taskId: req.taskId, agentId: req.agentId, node: this.node, signal, sleep }, clock);
      } finally {
        lease.release();
      }
    } finally {
      cancelTimeout?.();
      if (this.running.get(req.taskId) === entry) this.running.delete(req.taskId);
    }
  }

  /** Aborts a running task (all tokens, or only `token`). Returns whether something was aborted. */
  abort(taskId: string, reason = 'revoked', token?: number): boolean {
    const entry = this.running.get(taskId);
    if (!entry || (token !== undefined && entry.token !== undefined && entry.token !== token)) return false;
    entry.controller.abort(new Error(reason));
    return true;
  }

  /** Task ids running or waiting for a slot here, with their tokens (what to renew leases for). */
  active(): { taskId: string; token: number | undefined }[] {
    return [...this.running.entries()].map(([taskId, e]) => ({ taskId, token: e.token }));
  }

  /** Aborts everything and refuses new work (graceful stop). */
  stop(reason = 'the node is stopping'): void {
    this.stopped = true;
    for (const e of this.running.values()) e.controller.abort(new Error(reason));
  }
}
