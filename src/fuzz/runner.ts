// `tri fuzz` and the property tests share this: fast-check generates `runs` schedules from
// `seed`, scenario.ts carries each out on a fresh SimCluster and checks the invariants, and the
// first failure is shrunk to a smaller schedule that still fails. The result document is a
// function of the options alone (wall-clock timings are kept apart under `timings`).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { runArb, describeSchedule, type Run } from './schedule.js';
import { DEFAULT_SCENARIO, runScenario, type RunStats, type ScenarioConfig } from './scenario.js';
import { withPlantedBug, type PlantedBug } from './planted-bugs.js';
import { DEFAULT_WORKLOAD, type Workload } from './workload.js';

export interface FuzzOptions {
  seed: number;
  runs: number;
  nodes: number;
  /** Virtual ms of faults and workload per run (default 60 s). */
  durationMs?: number;
  /** Most steps a schedule has (default 40). */
  maxSteps?: number;
  workload?: Workload;
  plantedBug?: PlantedBug;
  /** fast-check counterexample path: replays (and reports) that one case. */
  replayPath?: string;
  /** Most runs spent shrinking a failure (default 200). */
  maxShrinkRuns?: number;
  /** Called after every run (progress on stderr). */
  onRun?: (info: { index: number; shrinking: boolean; failed: boolean }) => void;
  /** Wall clock for `timings` only (the CLI passes performance.now); never read by the runs. */
  wallClock?: () => number;
}

export interface FuzzFailure {
  /** Which generated run failed first (1-based), before shrinking. */
  run: number;
  invariant: string;
  message: string;
  /** When the shrunk case broke it, e.g. "t=0.1 s into the schedule" or "2.0 s after the last heal". */
  when: string;
  /** The message of the first failing run, before shrinking. */
  firstMessage: string;
  simSeed: number;
  /** The shrunk schedule, one line per step. */
  schedule: string[];
  /** The shrunk run as data (what fast-check replays). */
  counterexample: Run;
  shrinks: number;
  /** fast-check's path to the counterexample, for --replay. */
  path: string;
  replay: string;
}

export interface FuzzReport {
  seed: number;
  runs: number;
  nodes: number;
  failures: FuzzFailure[];
  /** Hash of every run's digest, in order: equal options, equal digest. */
  digest: string;
  /** Runs carried out in the search (before shrinking). */
  runsExecuted: number;
  virtualSecondsPerRun: number;
  totals: Omit<RunStats, 'convergedAfterMs' | 'virtualMs'> & { maxConvergedAfterMs: number };
  plantedBug?: PlantedBug;
  agents?: string;
  /** Wall-clock figures: the only part that differs between two runs of the same options. */
  timings?: { wallMs: number; runsPerMinute: number; shrinkRuns: number };
}

export function replayCommand(o: FuzzOptions, path: string): string {
  const parts = ['tri fuzz', `--seed ${o.seed}`, `--runs ${o.runs}`, `--nodes ${o.nodes}`];
  if (o.workload?.source) parts.push(`--agents ${quote(o.workload.source)}`);
  if (o.plantedBug) parts.push(`--planted-bug ${o.plantedBug}`);
  parts.push(`--replay ${quote(path)}`);
  return parts.join(' ');
}

function quote(s: string): string {
  return /^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const wall = o.wallClock;
  const started = wall?.() ?? 0;
  const config: ScenarioConfig = {
    ...DEFAULT_SCENARIO,
    nodes: o.nodes,
    durationMs: o.durationMs ?? DEFAULT_SCENARIO.durationMs,
    workload: o.workload ?? DEFAULT_WORKLOAD,
  };
  const maxShrinkRuns = o.maxShrinkRuns ?? 200;
  const totals = { steps: 0, writesAcked: 0, incrementsAcked: 0, tasksAcked: 0, tasksDone: 0, crashes: 0, pauses: 0, partitions: 0, events: 0, maxConvergedAfterMs: 0 };
  const digest = createHash('sha256');
  let executed = 0;
  let shrinkRuns = 0;
  let first: { index: number; message: string } | undefined;

  const property = fc.asyncProperty(runArb(o.nodes, o.maxSteps ?? 40), async (run) => {
    const shrinking = first !== undefined;
    if (shrinking && shrinkRuns >= maxShrinkRuns) return; // shrink budget spent: keep what we have
    if (shrinking) shrinkRuns++;
    else executed++;
    const r = await runScenario(run, config);
    digest.update(r.digest);
    if (!shrinking) {
      for (const k of ['steps', 'writesAcked', 'incrementsAcked', 'tasksAcked', 'tasksDone', 'crashes', 'pauses', 'partitions', 'events'] as const) totals[k] += r.stats[k];
      totals.maxConvergedAfterMs = Math.max(totals.maxConvergedAfterMs, r.stats.convergedAfterMs ?? 0);
    }
    o.onRun?.({ index: executed, shrinking, failed: r.violation !== undefined });
    if (r.violation) {
      if (!first) first = { index: executed, message: r.violation.message };
      throw r.violation;
    }
  });

  const details = await withPlantedBug(o.plantedBug, () =>
    fc.check(property, {
      seed: o.seed,
      numRuns: o.runs,
      path: o.replayPath,
      endOnFailure: o.replayPath !== undefined,
      // A run is a whole simulated cluster: no time limit, and no fast-check bias towards tiny values
      // beyond its default.
    }),
  );

  const failures: FuzzFailure[] = [];
  if (details.failed && details.counterexample && details.counterexamplePath !== null) {
    const [run] = details.counterexample;
    const err = details.errorInstance as { invariant?: string; message?: string; when?: string } | null;
    failures.push({
      run: first?.index ?? details.numRuns,
      invariant: err?.invariant ?? 'error',
      message: err?.message ?? String(details.errorInstance),
      when: err?.when ?? '',
      firstMessage: first?.message ?? String(err?.message),
      simSeed: run.simSeed,
      schedule: describeSchedule(run),
      counterexample: run,
      shrinks: details.numShrinks,
      path: details.counterexamplePath,
      replay: replayCommand(o, details.counterexamplePath),
    });
  } else if (details.failed) {
    throw new Error(`fuzzing stopped without a counterexample (${details.interrupted ? 'interrupted' : 'too many skips'})`);
  }
  const report: FuzzReport = {
    seed: o.seed,
    runs: o.runs,
    nodes: o.nodes,
    failures,
    digest: digest.digest('hex'),
    runsExecuted: executed,
    virtualSecondsPerRun: config.durationMs / 1000,
    totals,
    ...(o.plantedBug ? { plantedBug: o.plantedBug } : {}),
    ...(o.workload?.source ? { agents: o.workload.source } : {}),
  };
  if (wall) {
    const wallMs = Math.round(wall() - started);
    // Shrink runs are whole runs too, so they count towards the rate.
    report.timings = { wallMs, runsPerMinute: Math.round(((executed + shrinkRuns) / Math.max(1, wallMs)) * 60_000), shrinkRuns };
  }
  return report;
}
