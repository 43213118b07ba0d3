// Consistency levels of memory calls, per call: writes `majority` (default: a strict majority of
// the agent's replica set stored it durably) or `all` (every replica of the set: each one must be
// reachable when the write starts, else QuorumError at once with nothing applied, and must
// acknowledge within the write timeout, else WriteTimeoutError with the write applied where it
// reached); reads `local` (default: what this node holds) or `majority` (merge from a majority of
// the replica set first, also on a replica, so the read sees every acknowledged write from any
// node). During a move both levels also need a majority of each previous set (replica-moves.ts).
// A read-only node (no majority of the voters) refuses every write, whatever the level.
import { ConfigError } from '../errors.js';
import { READ_LEVELS, WRITE_LEVELS, type ReadConsistency, type WriteConsistency } from '../quorum/replica-quorum.js';

export { READ_LEVELS, WRITE_LEVELS, type ReadConsistency, type WriteConsistency };

/** The levels an AgentMemory (`node.memory(agent, {write, read})`) uses for its calls. */
export interface MemoryConsistency {
  write?: WriteConsistency;
  read?: ReadConsistency;
}

/** A write level from input (undefined: the default); ConfigError naming the levels otherwise. */
export function parseWriteConsistency(v: unknown): WriteConsistency | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (WRITE_LEVELS as readonly string[]).includes(v)) return v as WriteConsistency;
  throw new ConfigError(`write consistency must be one of ${WRITE_LEVELS.join(', ')} (got ${JSON.stringify(v)?.slice(0, 40)})`);
}

/** A read level from input (undefined: the default); ConfigError naming the levels otherwise. */
export function parseReadConsistency(v: unknown): ReadConsistency | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (READ_LEVELS as readonly string[]).includes(v)) return v as ReadConsistency;
  throw new ConfigError(`read consistency must be one of ${READ_LEVELS.join(', ')} (got ${JSON.stringify(v)?.slice(0, 40)})`);
}

/** Checks a library caller's levels; ConfigError on an unknown one. */
export function checkConsistency(c: MemoryConsistency | undefined): MemoryConsistency | undefined {
  if (c === undefined) return undefined;
  if (typeof c !== 'object' || c === null) throw new ConfigError('consistency must be an object {write?, read?}');
  return { write: parseWriteConsistency(c.write), read: parseReadConsistency(c.read) };
}
