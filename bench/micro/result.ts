// The JSON `tri cluster-bench --micro` writes (<out>/micro.json): the scenario result shape of
// bench/lib/result.ts (scenario, machine, date, metrics, peers) plus every case's figures and
// benny's own summary of each suite. Also reads such a file back, for --compare.
import { readFileSync } from 'node:fs';
import type { Summary } from 'benny/lib/internal/common-types.js';
import { UsageError } from '../../src/errors.js';
import type { MachineInfo } from '../lib/machine.js';
import type { Metrics } from '../lib/result.js';

export const MICRO_SCENARIO = 'micro';

export interface CaseFigure {
  suite: string;
  case: string;
  /** "suite/case": the key --compare matches on. */
  key: string;
  opsPerSec: number;
  /** Mean wall-clock time of one operation (benny), microseconds. */
  usPerOp: number;
  /** CPU time (user + system, whole process) per operation while benny ran the case, microseconds. */
  cpuUsPerOp: number;
  /** Relative margin of error of the mean (95 %), percent. */
  rmePercent: number;
  samples: number;
}

export interface MicroResult {
  scenario: typeof MICRO_SCENARIO;
  machine: MachineInfo & { loadAvg: { start: number[]; end: number[] } };
  date: string;
  /** How long benny ran each case (benchmark.js options, seconds). */
  settings: { minTime: number; maxTime: number; minSamples: number };
  metrics: Metrics;
  peers: Record<string, unknown>;
  cases: CaseFigure[];
  /** Suites that failed to build or run, with why. */
  failed: { suite: string; error: string }[];
  /** benny's summary per suite (sample lists left out). */
  benny: Record<string, Omit<Summary, 'results'> & { results: unknown[] }>;
}

/** Reads a micro.json; a clear error when the file is not one. */
export function readMicroResult(path: string): MicroResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  const r = parsed as Partial<MicroResult> | null;
  if (!r || r.scenario !== MICRO_SCENARIO || !Array.isArray(r.cases)) {
    throw new UsageError(`${path} is not a micro-benchmark result (want the micro.json \`tri cluster-bench --micro\` writes)`);
  }
  for (const c of r.cases) {
    if (typeof c?.key !== 'string' || typeof c.opsPerSec !== 'number') throw new UsageError(`${path}: a case lacks key or opsPerSec`);
  }
  return r as MicroResult;
}
