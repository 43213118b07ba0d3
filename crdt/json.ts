// JSON values as the memory schema stores them. Field values and conflict siblings travel
// through Yjs's ContentAny encoding, which also accepts undefined, NaN, Uint8Array and
// class instances; those would not survive a JSON round trip (CLI --json, HTTP), so writes
// validate up front instead of letting replicas hold values the API cannot show.

import { UsageError } from '../errors/index.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Deep nesting is refused so a hostile value cannot blow the stack of every reader. */
const MAX_DEPTH = 64;

export function isJson(value: unknown, depth = 0): value is Json {
  if (depth > MAX_DEPTH) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value as Record<string, unknown>).every((v) => isJson(v, depth + 1));
  }
  return false;
}

export function assertJson(value: unknown, what: string): asserts value is Json {
  if (!isJson(value)) {
    throw new UsageError(
      `${what} is not a JSON value (finite numbers, strings, booleans, null, arrays and plain objects only); ` +
        'convert it to plain JSON before storing it',
    );
  }
}

/**
 * JSON text with object keys sorted, so two equal values give the same string whatever
 * order their keys were written in (used to collapse identical conflict siblings).
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
}

/** A copy the caller may mutate without touching the value held inside the Yjs document. */
export function cloneJson<T extends Json>(value: T): T {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}
