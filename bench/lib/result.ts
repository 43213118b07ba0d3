// The JSON result every benchmark scenario writes (DESIGN.md, "Benchmarks"):
// <out>/<scenario>.json = {scenario, machine, date, metrics: {NAME: {value, unit}}, peers}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo, type MachineInfo } from './machine.js';

export interface Metric {
  value: number;
  unit: string;
}

export type Metrics = Record<string, Metric>;

export interface BenchResult {
  scenario: string;
  machine: MachineInfo;
  date: string;
  metrics: Metrics;
  /** Same work run by a reference implementation (e.g. serf), keyed by peer name. */
  peers: Record<string, unknown>;
}

/** Scenario names become file names, so they are restricted to a safe alphabet. */
const SCENARIO_NAME = /^[a-z0-9][a-z0-9._-]*$/;

export function makeResult(scenario: string, metrics: Metrics, peers: Record<string, unknown> = {}): BenchResult {
  if (!SCENARIO_NAME.test(scenario)) throw new Error(`scenario name "${scenario}" must match ${SCENARIO_NAME}`);
  return { scenario, machine: machineInfo(), date: new Date().toISOString(), metrics, peers };
}

/** Writes <outDir>/<scenario>.json (creating outDir) and returns the result and its path. */
export function writeResult(
  outDir: string,
  scenario: string,
  metrics: Metrics,
  peers: Record<string, unknown> = {},
): { result: BenchResult; path: string } {
  const result = makeResult(scenario, metrics, peers);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${scenario}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return { result, path };
}

/** Shorthand for building metrics: metric(1.5, 'ms'). */
export function metric(value: number, unit: string): Metric {
  return { value, unit };
}
