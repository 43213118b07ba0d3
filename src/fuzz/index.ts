// The fuzz harness (DESIGN.md use 2, "Fuzz convergence"): shared by `tri fuzz` and the tests.
export { runFuzz, replayCommand, type FuzzOptions, type FuzzReport, type FuzzFailure } from './runner.js';
export { runScenario, DEFAULT_SCENARIO, type ScenarioConfig, type RunResult, type RunStats } from './scenario.js';
export { runArb, stepArb, opArb, describeSchedule, describeOp, sidesToGroups, AGENTS, type Op, type Step, type Run, type LinkPatch } from './schedule.js';
export { Violation, SplitBrainChecker, reachableVoters, checkFinal, type InvariantName, type Ledger } from './invariants.js';
export { DEFAULT_WORKLOAD, loadWorkload, type Workload } from './workload.js';
export { PLANTED_BUGS, isPlantedBug, withPlantedBug, type PlantedBug } from './planted-bugs.js';
export { DEFAULT_SKIPPED, runSeed, sampleRun, scenarioConfig } from './seeds.js';
export { searchInProcess, searchInWorkers, type RunOutcome } from './search.js';
