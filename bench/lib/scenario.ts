// What every benchmark scenario takes and returns; bench/run.ts registers them by name.
import type { BenchResult } from './result.js';

export interface ScenarioOptions {
  out: string;
  quick: boolean;
  log?: (msg: string) => void;
}

export type Scenario = (opts: ScenarioOptions) => Promise<BenchResult>;
