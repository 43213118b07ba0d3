// Runs one agent invocation and turns every way it can go wrong into a failed outcome with a
// reason: unknown type, input that is not JSON, a handler that throws (synchronously or not),
// output that is not JSON, an abort. The node records that outcome in the task table; nothing
// an agent does can crash the node. durationMs is measured on the injected clock (the node's
// runtime clock: virtual in the simulator, so a seed replays the same durations).
import { isJson } from '../../crdt/json.js';
import type { Clock } from '../runtime/types.js';
import { REAL_AGENT_TIME } from './agent-clock.js';
import type { AgentRegistry } from './registry.js';
import type { AgentContext, AgentHandler, AgentOutcome, Json } from './types.js';

export async function runAgent(registry: AgentRegistry, type: string, input: unknown, ctx: AgentContext, clock: Clock = REAL_AGENT_TIME.clock): Promise<AgentOutcome> {
  const started = clock.now();
  const done = (o: { ok: true; result: Json } | { ok: false; error: string }): AgentOutcome => ({ ...o, durationMs: clock.now() - started });
  let handler: AgentHandler;
  try {
    handler = registry.get(type);
  } catch (err) {
    return done({ ok: false, error: describe(err) });
  }
  if (!isJson(input)) {
    return done({ ok: false, error: `the input of this ${type} task is not JSON; submit plain JSON (objects, arrays, strings, finite numbers, booleans, null)` });
  }
  if (ctx.signal.aborted) return done({ ok: false, error: `aborted before it started: ${describe(ctx.signal.reason)}` });
  try {
    // structuredClone: the handler may mutate its input without touching the replicated copy.
    const output = await handler(structuredClone(input), ctx);
    const result = output === undefined ? null : output; // a handler that returns nothing succeeded with null
    if (!isJson(result)) return done({ ok: false, error: `agent "${type}" returned a value that is not JSON; return plain JSON` });
    return done({ ok: true, result });
  } catch (err) {
    return done({ ok: false, error: `agent "${type}" failed: ${describe(err)}` });
  }
}

/** A one-line reason from whatever was thrown (Errors, strings, anything else). */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
