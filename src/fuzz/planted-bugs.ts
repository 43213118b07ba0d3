// Bugs planted on purpose so the fuzzer can be tested (it must find them): `tri fuzz
// --planted-bug NAME` (hidden from help) and test/unit/fuzz-*.test.ts. Each switch is off unless
// a fuzz run turns it on, and the runner turns it off again when it ends.
import { plantLwwCounterBugForTesting } from '../../crdt/counter-slots.js';
import { plantDropReplicationFactorBugForTesting } from '../quorum/voter-config.js';
import { plantShortAckBugForTesting } from '../memory/ack-tracker.js';
import { plantStallBugForTesting, plantUnackedDropBugForTesting } from '../memory/handoff.js';
import { plantOneReplicaReadBugForTesting } from '../memory/replica-read.js';

export const PLANTED_BUGS = {
  /** Counters merged by last-write-wins (one shared slot per name): concurrent +1s give +1. */
  'lww-counter': plantLwwCounterBugForTesting,
  /** Configurations decoded from the wire lose their replication factor (read as the default). */
  'drop-replication-factor': plantDropReplicationFactorBugForTesting,
  /** A write resolves one acknowledgement short of its quorum (ack-majority must see it). */
  'short-ack': plantShortAckBugForTesting,
  /** Handoff drops a document as soon as it pushed it, before any replica acknowledged (early-drop). */
  'handoff-drops-unacked': plantUnackedDropBugForTesting,
  /** Handoff never pushes: moves never complete (move-incomplete). */
  'handoff-stalls': plantStallBugForTesting,
  /** A read on a non-replica merges from the first replica that answers only (read-after-write). */
  'read-one-replica': plantOneReplicaReadBugForTesting,
} as const;

export type PlantedBug = keyof typeof PLANTED_BUGS;

export function isPlantedBug(name: string): name is PlantedBug {
  return Object.hasOwn(PLANTED_BUGS, name);
}

/** Runs `fn` with `bug` planted (none: as is), and always removes it afterwards. */
export async function withPlantedBug<T>(bug: PlantedBug | undefined, fn: () => Promise<T>): Promise<T> {
  if (!bug) return fn();
  PLANTED_BUGS[bug](true);
  try {
    return await fn();
  } finally {
    PLANTED_BUGS[bug](false);
  }
}
