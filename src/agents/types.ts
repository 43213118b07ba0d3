// The contract between the node and an agent: a handler takes JSON input and a context, and
// resolves to JSON output. Agents run in slots on the node that holds the task's lease.
import type { Json } from '../../crdt/json.js';

export type { Json };

export interface AgentContext {
  taskId: string;
  /** The agent whose memory this task uses (the task's `agent`, by default its type). */
  agentId: string;
  /** The node running the task. */
  node: string;
  /** Aborted when the task is revoked (fenced off by a newer assignment), times out or the node stops. */
  signal: AbortSignal;
  /**
   * Waits `ms` on the node's clock (virtual time in the simulator) and rejects when `signal` is
   * aborted. The node's executor always sets it; agents that wait should use it rather than
   * setTimeout so simulated runs stay deterministic. Optional only so handlers can be called
   * directly (tests); the `sleep` built-in falls back to a real timer without it.
   */
  sleep?: (ms: number) => Promise<void>;
}

export type AgentHandler = (input: Json, ctx: AgentContext) => Promise<Json> | Json;

/** What running an agent produced. Failures are values: a bad task never crashes the node. */
export type AgentOutcome = { ok: true; result: Json; durationMs: number } | { ok: false; error: string; durationMs: number };
