// Control-plane RPCs (client tools, status) carry JSON: small, readable in captures, and easy to
// version. Data-plane messages (gossip, sync) use compact binary codecs instead.
import { DecodeError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function toJsonPayload(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? null));
}

export function fromJsonPayload<T = unknown>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (err) {
    throw new DecodeError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
