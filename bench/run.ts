// Benchmark runner: runs the named scenarios, each writing <out>/<scenario>.json, then prints the
// summary table. `tri cluster-bench` calls runBench(); run directly after compiling:
//   node dist/bench/run.js --out DIR [--quick] [--only membership-detection,membership-dissemination]
//   node dist/bench/run.js --micro [--only SUITE] [--compare OLD.json]
import { parseArgs } from 'node:util';
import { UsageError } from '../src/errors.js';
import { pathToFileURL } from 'node:url';
import { printTable } from './lib/print-table.js';
import type { BenchResult } from './lib/result.js';
import { runMembershipDetection, runMembershipDissemination } from './membership.js';
import { runQuorumWrites } from './quorum-writes.js';
import { runHealConvergence } from './heal-convergence.js';
import { runHealDowned } from './heal-downed.js';

import type { Scenario, ScenarioOptions } from './lib/scenario.js';

export type { Scenario, ScenarioOptions } from './lib/scenario.js';

/** Scenarios by name (DESIGN.md "Benchmarks"); further ones register here as they land. */
export const SCENARIOS: Record<string, Scenario> = {
  'membership-detection': runMembershipDetection,
  'membership-dissemination': runMembershipDissemination,
  'quorum-writes': runQuorumWrites,
  'heal-convergence': runHealConvergence,
  'heal-downed': runHealDowned,
  'move-writes': (o) => import('./move-writes.js').then((m) => m.runMoveWrites(o)),
  'task-failover': (o) => import('./task-failover.js').then((m) => m.runTaskFailover(o)),
  'task-throughput': (o) => import('./task-throughput.js').then((m) => m.runTaskThroughput(o)),
  'sync-bandwidth': (o) => import('./sync-bandwidth.js').then((m) => m.runSyncBandwidth(o)),
  'anti-entropy-idle': (o) => import('./anti-entropy-idle.js').then((m) => m.runAntiEntropyIdle(o)),
  'sim-scale': (o) => import('./sim-scale.js').then((m) => m.runSimScale(o)),
  'fuzz-speed': (o) => import('./fuzz-speed.js').then((m) => m.runFuzzSpeed(o)),
  recall: (o) => import('./recall.js').then((m) => m.runRecallBench(o)),
  'crypto-operator': (o) => import('./crypto-operator.js').then((m) => m.runCryptoOperator(o)),
  'yjs-clients': (o) => import('./yjs-clients.js').then((m) => m.runYjsClients(o)),
  soak: (o) => import('./soak.js').then((m) => m.runSoak(o)),
  placement: (o) => import('./placement.js').then((m) => m.runPlacement(o)),
  'replica-balance': (o) => import('./replica-balance.js').then((m) => m.runReplicaBalance(o)),
  'replica-join': (o) => import('./replica-join.js').then((m) => m.runReplicaJoin(o)),
};

export interface RunBenchOptions extends ScenarioOptions {
  /** Scenario names; default all. */
  only?: string[];
  /** Where the table goes; default stdout. */
  print?: (s: string) => void;
}

export interface RunBenchOutcome {
  results: BenchResult[];
  /** Scenarios that threw, with the message. */
  failed: { scenario: string; error: string }[];
}

export async function runBench(opts: RunBenchOptions): Promise<RunBenchOutcome> {
  const names = opts.only?.length ? opts.only : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length) throw new UsageError(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const results: BenchResult[] = [];
  const failed: RunBenchOutcome['failed'] = [];
  for (const name of names) {
    try {
      results.push(await SCENARIOS[name]!({ out: opts.out, quick: opts.quick, log: opts.log }));
    } catch (err) {
      failed.push({ scenario: name, error: (err as Error).stack ?? String(err) });
    }
  }
  if (results.length) printTable(results, opts.print);
  return { results, failed };
}

/** The benchmark program (`tri cluster-bench` runs it): 0 all ran, 1 a scenario failed, 2 bad arguments. */
async function main(): Promise<number> {
  let values: { out?: string; quick?: boolean; only?: string; micro?: boolean; compare?: string };
  try {
    values = parseArgs({
      options: { out: { type: 'string', default: 'bench/out' }, quick: { type: 'boolean', default: false }, only: { type: 'string' }, micro: { type: 'boolean', default: false }, compare: { type: 'string' } },
    }).values;
  } catch (err) {
    console.error(`tri cluster-bench: ${(err as Error).message}`);
    return 2;
  }
  // A signal must still run the process 'exit' hooks that SIGKILL every node and agent started.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  let failed: RunBenchOutcome['failed'];
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    if (values.micro) {
      const { runMicro } = await import('./micro/run.js');
      const { result } = await runMicro({ out: values.out ?? 'bench/out', timing: values.quick ? 'quick' : 'full', only, compare: values.compare });
      for (const f of result.failed) console.error(`micro-benchmark suite ${f.suite} failed`);
      return result.failed.length ? 1 : 0;
    }
    if (values.compare !== undefined) throw new UsageError('--compare compares micro-benchmark runs: add --micro');
    ({ failed } = await runBench({
      out: values.out ?? 'bench/out',
      quick: values.quick ?? false,
      only,
      log: (m) => process.stderr.write(`${m}\n`),
    }));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tri cluster-bench: ${err.message}`);
    return 2;
  }
  for (const f of failed) console.error(`scenario ${f.scenario} failed: ${f.error}`);
  return failed.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
