// Counters as one slot per writer, summed on read (a G/PN-counter). Every slot key carries
// the writing doc's clientID, so exactly one replica ever writes a given key: its
// read-modify-write of its own slot cannot race. A shared "uses" key incremented by two
// replicas would be last-write-wins on the Y.Map key and lose one of two concurrent +1s.

import type * as Y from 'yjs';
import { UsageError } from '../errors/index.js';

function slotKey(clientID: number, name: string): string {
  return `${clientID}:${name}`;
}

/** Splits at the first ':' only: client ids are digits, counter names may contain ':'. */
function parseSlotKey(key: string): { name: string } | undefined {
  const at = key.indexOf(':');
  return at < 0 ? undefined : { name: key.slice(at + 1) };
}

export function assertCounterArgs(name: string, by: number): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new UsageError('counter name must be a non-empty string; pass e.g. "uses"');
  }
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    throw new UsageError(`counter increment for "${name}" must be a finite number, got ${String(by)}`);
  }
}

/**
 * TEST ONLY: the fuzzer's self-test (`tri fuzz --planted-bug lww-counter`, src/fuzz/planted-bugs.ts)
 * plants the classic bug on purpose, one shared slot per counter name, merged last-write-wins, and
 * checks that fuzzing finds it. Nothing else sets this; production always uses per-writer slots.
 */
let plantedLwwCounter = false;
export function plantLwwCounterBugForTesting(on: boolean): void {
  plantedLwwCounter = on;
}

/** Adds `by` to this writer's slot. Returns false (and writes nothing) for by = 0. */
export function incrementSlot(counters: Y.Map<unknown>, clientID: number, name: string, by: number): boolean {
  assertCounterArgs(name, by);
  if (by === 0) return false;
  const key = slotKey(plantedLwwCounter ? 0 : clientID, name);
  const current = counters.get(key);
  counters.set(key, (typeof current === 'number' ? current : 0) + by);
  return true;
}

/**
 * Sums every writer's slot per counter name. Slots are visited in sorted key order so
 * floating-point sums come out bit-identical on every replica.
 */
export function readCounters(counters: Y.Map<unknown>): Record<string, number> {
  const totals = new Map<string, number>();
  for (const key of [...counters.keys()].sort()) {
    const parsed = parseSlotKey(key);
    const value = counters.get(key);
    if (parsed === undefined || typeof value !== 'number') continue;
    totals.set(parsed.name, (totals.get(parsed.name) ?? 0) + value);
  }
  const out: Record<string, number> = {};
  for (const name of [...totals.keys()].sort()) out[name] = totals.get(name) as number;
  return out;
}
