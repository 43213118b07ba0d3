// `tri fuzz [--seed S] [--runs N] [--nodes N] [--json] [--agents MODULE] [--replay PATH]`: runs
// the whole node stack in the deterministic simulator under seeded faults and checks the
// invariants after each run (src/fuzz/). Exit 0 when every run held them; exit 1 on a failure,
// which prints the seed, the shrunk schedule and the command that replays it. The same seed gives
// the same result document, wall-clock timings aside.
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Option, type Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';
import { DEFAULT_SKIPPED, isPlantedBug, loadWorkload, PLANTED_BUGS, runFuzz, type FuzzReport, type InvariantName, type PlantedBug } from '../../fuzz/index.js';
import { parseIntIn, parseReplicationFactor } from '../parse.js';
import { DEFAULT_REPLICATION_FACTOR } from '../../placement/replication-factor.js';

interface Flags {
  seed?: number;
  runs: number;
  nodes: number;
  json?: boolean;
  agents?: string;
  replay?: string;
  plantedBug?: string;
  quiet?: boolean;
  workers: number;
  replicationFactor?: number;
  skipInvariant: string[];
  checkInvariant: string[];
  wipedRestarts?: boolean;
}

const MAX_SEED = 2 ** 31 - 1;

/** Invariants `--skip-invariant` accepts (the final lost-write and task checks are always on). */
const SKIPPABLE = ['split-brain', 'placement-agreement', 'ack-majority', 'early-drop', 'move-incomplete', 'quiet-join', 'read-after-write'] as const satisfies readonly InvariantName[];

export function registerFuzz(program: Command): void {
  program
    .command('fuzz')
    .description('fuzz the whole node stack (gossip, memory, quorum, tasks) in the deterministic simulator with seeded faults, checking convergence, no lost acknowledged write, no split brain and one result per task')
    .option('--seed <n>', `seed of the whole search, 0 to ${MAX_SEED} (default: a random one, printed)`, parseIntIn(0, MAX_SEED))
    .option('--runs <n>', 'how many seeded runs (each: a fresh cluster, 60 virtual seconds of faults and workload)', parseIntIn(1, 10_000_000), 100)
    .option('--nodes <n>', 'nodes per simulated cluster (3-32)', parseIntIn(3, 32), 7)
    .option('--agents <module>', 'JavaScript module exporting agent handlers and optionally `workload` (tasks to submit); agents must be deterministic')
    .option('--replay <path>', 'replay one failing case: the counterexample path a failure printed (with the same --seed, --nodes, --agents)')
    .option('--json', 'print one JSON document {seed, runs, nodes, failures, digest, ...} on stdout')
    .option('--workers <n>', 'worker threads for the search (default: one per CPU); the result does not depend on it', parseIntIn(1, 256), Math.min(availableParallelism(), 16))
    .option('--replication-factor <n>', 'replication factor each simulated cluster is founded with (odd; default 3); nodes on one configuration must place every agent alike', parseReplicationFactor)
    .option('--skip-invariant <name>', `do not check this invariant, to search past a known open bug (repeatable; one of ${SKIPPABLE.join(', ')})`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--check-invariant <name>', `check an invariant skipped by default as a known open bug (repeatable; default skipped: ${DEFAULT_SKIPPED.join(', ') || 'none'})`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--wiped-restarts', 'wipe steps really wipe a node\'s data directory before it restarts under its name, with a new node id (the default)')
    .option('--no-wiped-restarts', 'wipe steps are plain crash-restarts (the data directory kept)')
    .option('--quiet', 'no progress on stderr')
    .addOption(new Option('--planted-bug <name>', 'test only: plant a known bug the fuzzer must find').hideHelp())
    .action(async (f: Flags) => {
      let plantedBug: PlantedBug | undefined;
      if (f.plantedBug !== undefined) {
        if (!isPlantedBug(f.plantedBug)) throw new UsageError(`unknown planted bug "${f.plantedBug}"; known: ${Object.keys(PLANTED_BUGS).join(', ')}`);
        plantedBug = f.plantedBug;
      }
      const unknown = [...f.skipInvariant, ...f.checkInvariant].find((name) => !(SKIPPABLE as readonly string[]).includes(name));
      if (unknown !== undefined) throw new UsageError(`"${unknown}" is not an invariant --skip-invariant or --check-invariant takes; known: ${SKIPPABLE.join(', ')}`);
      const skipInvariants = [...new Set([...DEFAULT_SKIPPED, ...f.skipInvariant])].filter((name) => !f.checkInvariant.includes(name)) as InvariantName[];
      if (f.replay !== undefined && !/^\d+(:\d+)*$/.test(f.replay)) {
        throw new UsageError(`--replay "${f.replay}" is not a counterexample path; copy the one a failure printed, for example --replay 12:0:3`);
      }
      if (f.replay !== undefined && f.seed === undefined) throw new UsageError('--replay needs the --seed the failure printed');
      const seed = f.seed ?? randomInt(0, MAX_SEED);
      const workload = f.agents !== undefined ? await loadWorkload(f.agents) : undefined;
      const progress = f.quiet ? undefined : (s: string) => void process.stderr.write(s);
      let lastShown = 0;
      const report = await runFuzz({
        seed,
        runs: f.runs,
        nodes: f.nodes,
        workload,
        workloadModule: f.agents !== undefined ? resolve(f.agents) : undefined,
        workers: f.workers,
        plantedBug,
        replicationFactor: f.replicationFactor,
        skipInvariants,
        wipedRestarts: f.wipedRestarts !== false,
        replayPath: f.replay,
        wallClock: () => performance.now(),
        onRun: progress
          ? ({ done, shrinking, failed }) => {
              if (shrinking) progress('s');
              else if (failed) progress(`\na run FAILED; finishing the runs before it, then shrinking `);
              else if (done - lastShown >= 10 || done === f.runs) {
                lastShown = done;
                progress(`\r${done}/${f.runs} runs`);
              }
            }
          : undefined,
      });
      progress?.('\n');
      if (f.json) process.stdout.write(JSON.stringify(report) + '\n');
      else printHuman(report);
      const failure = report.failures[0];
      if (failure) {
        throw new TriError(`fuzz run ${failure.run} (seed ${report.seed}) broke ${failure.invariant}; replay it with: ${failure.replay}`);
      }
    });
}

function printHuman(r: FuzzReport): void {
  const out = (s: string) => process.stdout.write(s + '\n');
  const t = r.timings;
  const took = t ? ` in ${(t.wallMs / 1000).toFixed(1)} s (${t.runsPerMinute} runs/min on ${t.workers} thread(s))` : '';
  const rf = `, replication factor ${r.replicationFactor ?? DEFAULT_REPLICATION_FACTOR}`;
  if (r.runsExecuted === 0) out(`seed ${r.seed}: replayed one run of ${r.nodes} nodes x ${r.virtualSecondsPerRun} virtual s${rf}${took}`);
  else out(`seed ${r.seed}: ${r.runsExecuted} run(s) of ${r.nodes} nodes x ${r.virtualSecondsPerRun} virtual s${rf}${took}`);
  if (r.runsExecuted > 0) {
    out(
      `  acknowledged: ${r.totals.writesAcked} writes, ${r.totals.incrementsAcked} increments, ${r.totals.tasksAcked} tasks, ${r.totals.forgetsAcked} forgets; ${r.totals.tasksTrimmed} finished tasks trimmed; faults: ${r.totals.partitions} partitions, ${r.totals.crashes} crashes, ${r.totals.joins} new members, ${r.totals.pauses} pauses; slowest convergence ${(r.totals.maxConvergedAfterMs / 1000).toFixed(1)} s`,
    );
    out(
      `  replica sets: ${r.totals.leaves} leaves, ${r.totals.wipes} wiped restarts, ${r.totals.readsChecked} reads checked, ${r.totals.quietJoins} quiet joins watched; longest move after the last change ${(r.totals.longestMoveMs / 1000).toFixed(1)} s`,
    );
    if (r.skipInvariants.length > 0) out(`  NOT CHECKED: ${r.skipInvariants.join(', ')}${r.skipInvariants.some((n) => DEFAULT_SKIPPED.includes(n)) ? ` (${DEFAULT_SKIPPED.join(', ')}: known open, skipped by default; --check-invariant to check)` : ''}`
    );
  }
  const failure = r.failures[0];
  if (!failure) {
    out(`  no invariant broken; digest ${r.digest}`);
    return;
  }
  out(`FAILED in run ${failure.run}: ${failure.invariant}`);
  out(`  seed:   ${r.seed}`);
  out(`  when:   ${failure.when}`);
  out(`  error:  ${failure.message.replace(/\n/g, '\n  ')}`);
  out(`  shrunk schedule (${failure.shrinks} shrinks, ${failure.counterexample.steps.length} steps):`);
  for (const line of failure.schedule) out(`    ${line}`);
  out(`  replay: ${failure.replay}`);
}
