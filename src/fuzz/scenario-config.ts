// What a fuzz run is configured with (ScenarioConfig, the links and node options every run uses)
// and what it reports (RunStats, RunResult and its replay digest); scenario.ts carries a run out.
import { createHash } from 'node:crypto';
import type { ProfileName } from '../../gossip/config.js';
import type { Ledger, Violation, InvariantName } from './invariants.js';
import type { LinkPatch, Run } from './schedule.js';
import { DEFAULT_WORKLOAD, type Workload } from './workload.js';

export interface ScenarioConfig {
  nodes: number;
  /** Virtual ms of faults and workload after the cluster formed (the schedule is cut there). */
  durationMs: number;
  /** Virtual ms allowed for convergence after the last heal. */
  convergeMs: number;
  /** How often (virtual ms) the split-brain invariant is checked. */
  checkEveryMs: number;
  profile: ProfileName;
  workload: Workload;
  /** The replication factor the cluster is founded with (default: DEFAULT_REPLICATION_FACTOR). */
  replicationFactor?: number;
  /** Invariants not checked (`tri fuzz --skip-invariant`): to search past a known, open bug. */
  skipInvariants?: readonly InvariantName[];
  /**
   * Whether `wipe` steps really wipe the data directory (default: yes). A wiped voter restarted
   * under its old name has a new node id and votes only once admitted in place of its old entry
   * (src/quorum/voter-identity.ts). `tri fuzz --no-wiped-restarts` (false) makes a wipe step a
   * plain crash and restart; schedules and seeds stay the same either way.
   */
  wipedRestarts?: boolean;
}

export const DEFAULT_SCENARIO: ScenarioConfig = {
  nodes: 7,
  durationMs: 60_000,
  convergeMs: 120_000,
  checkEveryMs: 100,
  profile: 'local',
  workload: DEFAULT_WORKLOAD,
};

/** The links a run starts with and returns to at the last heal: LAN-like, slightly lossy. */
export const BASE_LINK: LinkPatch = { latencyMs: 1, jitterMs: 2, loss: 0.01, duplicate: 0 };
export const CALM_LINK: LinkPatch = { latencyMs: 1, jitterMs: 2, loss: 0, duplicate: 0 };

export interface RunStats {
  /** Steps carried out (the schedule is cut at durationMs). */
  steps: number;
  writesAcked: number;
  incrementsAcked: number;
  /** Forgets acknowledged, and tasks retention trimmed (seen on any replica). */
  forgetsAcked: number;
  tasksTrimmed: number;
  tasksAcked: number;
  tasksDone: number;
  crashes: number;
  /** New members that joined during the run. */
  joins: number;
  pauses: number;
  partitions: number;
  /** Virtual ms from the last heal until every replica held one digest. */
  convergedAfterMs: number | null;
  /** Replica-set steps: leaves, wiped restarts, reads checked, quiet joins watched. */
  leaves: number;
  wipes: number;
  readsChecked: number;
  quietJoins: number;
  /** Longest a move took to complete after the last configuration change (virtual ms). */
  longestMoveMs: number;
  virtualMs: number;
  events: number;
}

export interface RunResult {
  violation: Violation | undefined;
  stats: RunStats;
  /**
   * Hex digest of what the run did (schedule, counts, acknowledged ids, verdict): equal runs, equal
   * digests. Not the memory digest: task episodes record a real-time duration (run-agent.ts).
   */
  digest: string;
}

/** The replay digest of a run (RunResult.digest). */
export function runDigest(run: Run, stats: RunStats, violation: Violation | undefined, ledger: Ledger): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(run));
  h.update(JSON.stringify({ ...stats }));
  h.update(violation ? violation.message : 'ok');
  h.update(JSON.stringify(ledger.writes.map((w) => w.id).sort()));
  h.update(JSON.stringify([...ledger.counters.values()].map((k) => [k.id, k.acked, k.attempted])));
  h.update(JSON.stringify(ledger.tasks.map((t) => t.id).sort()));
  return h.digest('hex').slice(0, 16);
}

/** Node options of every fuzzed node: a 1-byte memory budget and a 3 s task retention. */
export const FUZZ_NODE_OPTIONS = { memoryBudgetBytes: 1, memoryIdleMs: 0, retention: { taskRetentionMs: 3000 } };
