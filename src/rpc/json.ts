// Control-plane RPCs (client tools, status) carry JSON: small, readable in captures, and easy to
// version. Data-plane messages (gossip, sync) use compact binary codecs instead. What a peer sends
// is `unknown` until a parser has checked it (the helpers below); nothing is cast to a type.
import { DecodeError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function toJsonPayload(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? null));
}

/** Parses JSON bytes; the value is unchecked (DecodeError when the bytes are not JSON). */
export function fromJsonPayload(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch (err) {
    throw new DecodeError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A JSON object's fields (DecodeError for anything else; `null` reads as no fields when `nullIsEmpty`). */
export function jsonObject(bytes: Uint8Array, what: string, nullIsEmpty = false): Record<string, unknown> {
  const v = fromJsonPayload(bytes, what);
  if (v === null && nullIsEmpty) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(`${what}: expected a JSON object`);
  return v as Record<string, unknown>;
}

/** A string field (DecodeError unless a string of 1 to `max` characters). */
export function stringField(o: Record<string, unknown>, key: string, what: string, max = 64 * 1024): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new DecodeError(`${what}: "${key}" must be a string of 1 to ${max} characters`);
  return v;
}

/** A safe-integer field within [min, max]. */
export function intField(o: Record<string, unknown>, key: string, what: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new DecodeError(`${what}: "${key}" must be an integer from ${min} to ${max}`);
  return v;
}
