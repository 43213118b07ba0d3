// What a submitter provides, and its validation. Checked before anything is written, with
// messages that say what to send instead.

import { isJson, type Json } from '../../crdt/json.js';
import { UsageError } from '../errors.js';
import { assertSize, MAX_TASK_INPUT_BYTES } from '../limits.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, type Strategy } from './routing.js';

/** Hand-outs before a task fails: enough to ride out a crash or two, few enough to stop a poison task. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 100;
/** Error texts are kept short: they replicate to every node forever. */
export const MAX_ERROR_CHARS = 2_000;

export interface NewTask {
  /** Leave out to get a fresh random id (the normal case: ids must never be reused). */
  id?: string;
  type: string;
  input: Json;
  /** The agent whose memory this task uses; defaults to the type name. */
  agent?: string;
  strategy?: Strategy;
  maxAttempts?: number;
}

export interface ValidTask {
  type: string;
  agent: string;
  input: Json;
  strategy: Strategy;
  maxAttempts: number;
}

export function validateNewTask(t: NewTask): ValidTask {
  if (typeof t.type !== 'string' || t.type.length === 0) throw new UsageError('a task needs a type (an agent type such as "echo")');
  if (t.id !== undefined && (typeof t.id !== 'string' || t.id.length === 0)) throw new UsageError('a task id must be a non-empty string');
  if (!isJson(t.input)) throw new UsageError(`the input of a ${t.type} task is not JSON; pass plain JSON (e.g. --input '{"text":"hi"}')`);
  // Every replica stores every task's input: the same limit in the CLI, the library and the RPC.
  assertSize(JSON.stringify(t.input), MAX_TASK_INPUT_BYTES, `the input of a ${t.type} task`, 'pass a reference to large data instead');
  const strategy = t.strategy ?? DEFAULT_STRATEGY;
  if (!isStrategy(strategy)) throw new UsageError(`unknown routing strategy "${String(strategy)}"; use one of ${STRATEGIES.join(', ')}`);
  const maxAttempts = t.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new UsageError(`maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`);
  }
  const agent = t.agent ?? t.type;
  if (typeof agent !== 'string' || agent.length === 0) throw new UsageError('the agent id must be a non-empty string');
  return { type: t.type, agent, input: t.input, strategy, maxAttempts };
}

/**
 * A task as a client sent it (decoded JSON): each field of the right type is kept, one of the
 * wrong type becomes a value validateNewTask rejects with its usual advice.
 */
export function newTaskFromJson(o: Record<string, unknown>): NewTask {
  const type = typeof o.type === 'string' ? o.type : '';
  if (!isJson(o.input)) throw new UsageError(`the input of a ${type || 'untyped'} task is not JSON; pass plain JSON (e.g. --input '{"text":"hi"}')`);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const strategy = o.strategy;
  if (strategy !== undefined && !isStrategy(strategy)) throw new UsageError(`unknown routing strategy "${String(strategy)}"; use one of ${STRATEGIES.join(', ')}`);
  return {
    type,
    input: o.input,
    ...(o.id !== undefined ? { id: str(o.id) } : {}),
    ...(o.agent !== undefined ? { agent: str(o.agent) } : {}),
    ...(strategy !== undefined ? { strategy } : {}),
    ...(o.maxAttempts !== undefined ? { maxAttempts: typeof o.maxAttempts === 'number' ? o.maxAttempts : Number.NaN } : {}),
  };
}

/** A non-empty error text of bounded length. */
export function clipError(s: string): string {
  const text = typeof s === 'string' && s.length > 0 ? s : 'failed without a reason';
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
