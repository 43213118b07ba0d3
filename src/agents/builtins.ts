// Built-in agents that do real work offline, so a fresh cluster can run tasks end to end:
// echo (identity), wordcount (text statistics), sha256 (iterated hashing: CPU work) and sleep
// (a task that takes time and can be cancelled). Inputs are validated with messages that say
// what to send; every limit is capped so one task cannot hold a slot forever.
import { createHash } from 'node:crypto';
import { setTimeout as delay, setImmediate as yieldToLoop } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import type { AgentRegistry } from './registry.js';
import type { AgentContext, AgentHandler, Json } from './types.js';
import { wordcountAgent } from './wordcount.js';

/** About a second of hashing on a laptop core: real work, but bounded. */
export const MAX_SHA256_ROUNDS = 1_000_000;
/** Hashing yields to the event loop this often, so RPC, gossip and aborts are not starved. */
const ROUNDS_PER_SLICE = 10_000;
export const MAX_SLEEP_MS = 10 * 60_000;

function field(input: Json, name: string): Json | undefined {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? input[name] : undefined;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error(`aborted: ${reasonText(signal.reason)}`);
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the task was cancelled';
}

export const echoAgent: AgentHandler = (input) => structuredClone(input);

/** {data, rounds}: digest_1 = sha256(utf8(data)), digest_k = sha256(digest_{k-1}); returns hex of the last. */
export const sha256Agent: AgentHandler = async (input: Json, ctx: AgentContext) => {
  const data = field(input, 'data');
  const rounds = field(input, 'rounds') ?? 1;
  if (typeof data !== 'string') throw new UsageError('sha256 needs input {"data": "...", "rounds": N} with a string data');
  if (typeof rounds !== 'number' || !Number.isInteger(rounds) || rounds < 1 || rounds > MAX_SHA256_ROUNDS) {
    throw new UsageError(`sha256 rounds must be an integer from 1 to ${MAX_SHA256_ROUNDS}, got ${JSON.stringify(rounds)}`);
  }
  let digest = createHash('sha256').update(data, 'utf8').digest();
  for (let done = 1; done < rounds; ) {
    const end = Math.min(rounds, done + ROUNDS_PER_SLICE);
    for (; done < end; done++) digest = createHash('sha256').update(digest).digest();
    if (done < rounds) {
      await yieldToLoop();
      throwIfAborted(ctx.signal);
    }
  }
  return { digest: digest.toString('hex'), rounds };
};

/** {ms}: resolves after ms milliseconds, or rejects at once when the task is aborted. */
export const sleepAgent: AgentHandler = async (input: Json, ctx: AgentContext) => {
  const ms = field(input, 'ms');
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
    throw new UsageError(`sleep needs input {"ms": N} with N from 0 to ${MAX_SLEEP_MS}`);
  }
  throwIfAborted(ctx.signal);
  try {
    // ctx.sleep waits on the node's clock (virtual in the simulator); a direct call has none.
    await (ctx.sleep ? ctx.sleep(ms) : delay(ms, undefined, { signal: ctx.signal }));
  } catch (err) {
    if (ctx.signal.aborted) throw new Error(`aborted after less than ${ms} ms: ${reasonText(ctx.signal.reason)}`, { cause: err });
    throw err;
  }
  return { sleptMs: ms };
};

export const BUILTIN_AGENTS: Readonly<Record<string, AgentHandler>> = {
  echo: echoAgent,
  wordcount: wordcountAgent,
  sha256: sha256Agent,
  sleep: sleepAgent,
};

export function registerBuiltins(registry: AgentRegistry): void {
  for (const [type, handler] of Object.entries(BUILTIN_AGENTS)) registry.defineAgent(type, handler);
}
