// Where each run of a search comes from: run k has its own fast-check seed, so runs are
// independent of each other and of the order (or thread) they are carried out in.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { runArb, type Run } from './schedule.js';
import { DEFAULT_SCENARIO, type ScenarioConfig } from './scenario.js';
import { DEFAULT_WORKLOAD, type Workload } from './workload.js';
import type { InvariantName } from './invariants.js';

/**
 * Invariants not checked unless asked for (`tri fuzz --check-invariant NAME`): known open bugs, so
 * a search is not stopped by them at every run. None today: quiet-join was until handoff learned to
 * confirm continuing replicas by snapshot instead of pushing them the whole document.
 */
export const DEFAULT_SKIPPED: readonly InvariantName[] = [];

/** The fast-check seed of run `index` of a search seeded with `seed`. */
export function runSeed(seed: number, index: number): number {
  return createHash('sha256').update(`tri-fuzz/${seed}/${index}`).digest().readInt32LE(0);
}

/** Run `index` of the search, as fast-check generates it (the same value fc.check starts from). */
export function sampleRun(seed: number, index: number, nodes: number, maxSteps = 40): Run {
  return fc.sample(runArb(nodes, maxSteps), { seed: runSeed(seed, index), numRuns: 1 })[0]!;
}

export function scenarioConfig(o: { nodes: number; durationMs?: number; workload?: Workload; replicationFactor?: number; skipInvariants?: readonly InvariantName[]; wipedRestarts?: boolean }): ScenarioConfig {
  return {
    ...DEFAULT_SCENARIO,
    nodes: o.nodes,
    durationMs: o.durationMs ?? DEFAULT_SCENARIO.durationMs,
    workload: o.workload ?? DEFAULT_WORKLOAD,
    ...(o.replicationFactor !== undefined ? { replicationFactor: o.replicationFactor } : {}),
    skipInvariants: o.skipInvariants ?? DEFAULT_SKIPPED,
    ...(o.wipedRestarts === false ? { wipedRestarts: false } : {}),
  };
}

