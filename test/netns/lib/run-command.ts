// The harness shares the bounded command runner with the benchmarks (bench/lib owns it).
export { runCommand, type CommandResult, type RunOptions } from '../../../bench/lib/run-command.js';
