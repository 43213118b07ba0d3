// Packing one UDP packet: the message we must send (a ping, an ack, ...) plus as many queued
// broadcasts as fit. Piggybacking is what makes SWIM's dissemination free: membership news rides
// on probe traffic that flows anyway. The size is computed exactly, so a packet never exceeds the
// limit the encryption layer and the MTU leave us.

import type { BroadcastQueue } from './broadcast-queue.js';
import { MAX_COMPOUND_PARTS, encodeCompound } from './messages.js';
import { varUintSize } from './wire.js';

/** What one message adds to a compound packet: its length prefix and its bytes. */
export function compoundPartCost(part: Uint8Array): number {
  return varUintSize(part.length) + part.length;
}

/** Fixed compound overhead: the type byte and the part count (at most MAX_COMPOUND_PARTS). */
const COMPOUND_HEADER = 1 + varUintSize(MAX_COMPOUND_PARTS);

/**
 * Builds a packet of `primary` messages topped up with queued broadcasts. Returns undefined when
 * there is nothing to send (no primary and an empty queue). A lone message is sent bare, without
 * the compound wrapper.
 */
export function packPacket(primary: Uint8Array[], queue: BroadcastQueue, maxBytes: number, transmitLimit: number): Uint8Array | undefined {
  let used = COMPOUND_HEADER;
  for (const part of primary) used += compoundPartCost(part);
  if (used > maxBytes) throw new RangeError(`primary messages need ${used} bytes, over the ${maxBytes}-byte packet limit`);
  const piggyback = queue.take(maxBytes - used, transmitLimit, compoundPartCost, MAX_COMPOUND_PARTS - primary.length);
  const parts = [...primary, ...piggyback];
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return encodeCompound(parts);
}
