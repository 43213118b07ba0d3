// The search phase of a fuzz: runs 0..runs-1, each from its own seed (runner.ts runSeed), until the
// first failure. In this thread, or spread over worker threads (worker.ts) where the order of
// completion varies but the result does not: every run below the lowest failing index is carried
// out, nothing above it is kept, and outcomes come back in index order.
import { Worker } from 'node:worker_threads';
import type { PlantedBug } from './planted-bugs.js';
import type { InvariantName } from './invariants.js';
import { runScenario, type RunStats, type ScenarioConfig } from './scenario.js';
import { sampleRun } from './seeds.js';

export interface RunOutcome {
  digest: string;
  stats: RunStats;
  violation?: { invariant: string; message: string; when: string };
}

export interface SearchOptions {
  seed: number;
  runs: number;
  nodes: number;
  maxSteps: number;
  config: ScenarioConfig;
  onDone?: (done: number, failed: boolean) => void;
}

/** Outcomes of runs 0..k in order, k the first failing run (or the last run). */
export async function searchInProcess(o: SearchOptions): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (let k = 0; k < o.runs; k++) {
    const r = await runOne(o.seed, k, o.nodes, o.maxSteps, o.config);
    out.push(r);
    o.onDone?.(out.length, r.violation !== undefined);
    if (r.violation) break;
  }
  return out;
}

export async function runOne(seed: number, index: number, nodes: number, maxSteps: number, config: ScenarioConfig): Promise<RunOutcome> {
  const r = await runScenario(sampleRun(seed, index, nodes, maxSteps), config);
  const v = r.violation;
  return { digest: r.digest, stats: r.stats, ...(v ? { violation: { invariant: v.invariant, message: v.message, when: v.when } } : {}) };
}

/** What a worker needs to build the same scenario config as this thread. */
export interface WorkerSetup {
  seed: number;
  nodes: number;
  maxSteps: number;
  durationMs: number;
  workloadModule?: string;
  plantedBug?: PlantedBug;
  replicationFactor?: number;
  skipInvariants?: InvariantName[];
  wipedRestarts?: boolean;
}

export async function searchInWorkers(o: SearchOptions & WorkerSetup & { workers: number }): Promise<RunOutcome[]> {
  const setup: WorkerSetup = { seed: o.seed, nodes: o.nodes, maxSteps: o.maxSteps, durationMs: o.durationMs, workloadModule: o.workloadModule, plantedBug: o.plantedBug, replicationFactor: o.replicationFactor, skipInvariants: o.skipInvariants, wipedRestarts: o.wipedRestarts };
  const results = new Map<number, RunOutcome>();
  let next = 0;
  let stopAt = o.runs; // one past the last index worth running
  let done = 0;
  const pool = Array.from({ length: Math.min(o.workers, o.runs) }, () => new Worker(new URL('./worker.js', import.meta.url), { workerData: setup }));
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const dispatch = () => {
              if (next >= stopAt) return resolve();
              w.postMessage(next++);
            };
            w.on('message', (m: { index: number; outcome: RunOutcome }) => {
              results.set(m.index, m.outcome);
              done++;
              if (m.outcome.violation && m.index < stopAt) stopAt = m.index + 1;
              o.onDone?.(done, m.outcome.violation !== undefined);
              dispatch();
            });
            w.on('error', reject);
            w.on('exit', (code) => reject(new Error(`fuzz worker exited with code ${code} before finishing`)));
            dispatch();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  const out: RunOutcome[] = [];
  for (let k = 0; k < stopAt; k++) {
    const r = results.get(k);
    if (!r) throw new Error(`fuzz worker lost run ${k}`);
    out.push(r);
    if (r.violation) break;
  }
  return out;
}
