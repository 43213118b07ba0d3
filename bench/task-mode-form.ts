// Forming and settling the task-throughput cluster (task-mode.ts) so that a 32-process run forms
// on a loaded 2-core machine and fails with a clear message when it does not:
//   - nodes start a batch at a time, each batch joining through the nodes already ACTIVE (seeds
//     spread over the formed part, not all on n1), the next batch only once n1 lists this one ACTIVE;
//   - each batch has its own bound, so a stuck batch fails early, and the failure names the
//     nodes n1 does not list ACTIVE, with the state n1 sees them in and the load average;
//   - once all are ACTIVE, every node must be on one voter configuration with nothing pending and
//     no documents moving (placement settled) before anything is measured.
// Gossip profile by size (TRI_TP_PROFILE overrides): `local` up to 8 nodes (as before), `lan`
// (the node's default) up to 16, `wan` beyond. `local`'s 200 ms probe timeout and single relay
// condemn healthy processes that a run queue of 30+ on two cores froze for a few hundred
// milliseconds (7 Dec 2026, load 41: 247 "member dead" events among the first 21 nodes, none of
// them crashed); with `lan` 32 processes still did not form at load 69-76 (n1-n21 flapping
// DEGRADED); with `wan` (5 s probes, 3 s timeout) they formed in 341 s at load 44-54, and an idle
// node cost 7.5 ms/s against 11-16 with `lan`. Failure detection speed is not what this run measures.
import { performance } from 'node:perf_hooks';
import { fetchStatus } from './lib/proc-cluster.js';
import { load1m } from './quorum/load.js';
import { sleep, type TaskProcCluster } from './task-failover.js';

export type GossipProfile = 'lan' | 'local' | 'wan';

/** Nodes started at once. */
export const FORM_BATCH = 4;

/** The gossip profile of an n-node run (TRI_TP_PROFILE overrides). */
export function runProfile(nodes: number, env: string | undefined = process.env.TRI_TP_PROFILE): GossipProfile {
  if (env !== undefined && env !== '') {
    if (env !== 'lan' && env !== 'local' && env !== 'wan') throw new Error(`TRI_TP_PROFILE is lan, local or wan, got "${env}"`);
    return env;
  }
  return nodes > 16 ? 'wan' : nodes > 8 ? 'lan' : 'local';
}

/** How long one batch may take to become ACTIVE: 60 s, more when the machine is loaded (2 s per unit of load beyond the cores). */
export function batchBoundMs(load: number, cores: number): number {
  return 60_000 + 2_000 * Math.max(0, Math.min(60, load - cores));
}

/** Seeds for node i: up to three ACTIVE nodes before it, spread over the formed part (n1 always among them). */
export function seedsFor(i: number): number[] {
  if (i === 0) return [];
  const upTo = i - ((i - 1) % FORM_BATCH); // nodes of earlier batches (n1 alone before the first)
  const out = new Set<number>([0, i % upTo, (i * 7) % upTo]);
  return [...out].sort((a, b) => a - b);
}

interface MemberRow {
  name: string;
  state: string;
  swimState: string;
}

/** Why `want` nodes are not all ACTIVE as n1 sees them: "n7 SYNCING/alive, n9 missing". */
export function describeMissing(want: readonly string[], rows: readonly MemberRow[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const parts: string[] = [];
  for (const name of want) {
    const r = byName.get(name);
    if (!r) parts.push(`${name} not listed`);
    else if (r.state !== 'ACTIVE') parts.push(`${name} ${r.state}/${r.swimState}`);
  }
  return parts.join(', ');
}

/**
 * Starts `count` nodes FORM_BATCH at a time and waits until n1 lists every one ACTIVE. Throws,
 * naming what did not form, when a batch overruns its bound or a node exits.
 */
export async function formCluster(cluster: TaskProcCluster, count: number, cores: number, log: (m: string) => void): Promise<void> {
  const t0 = performance.now();
  for (let first = 0; first < count; first = first === 0 ? 1 : first + FORM_BATCH) {
    const last = first === 0 ? 1 : Math.min(count, first + FORM_BATCH);
    for (let j = first; j < last; j++) cluster.spawnNode(j, seedsFor(j));
    const bound = batchBoundMs(load1m(), cores);
    const want = cluster.nodes.slice(0, last).map((n) => n.name);
    const deadline = performance.now() + bound;
    let why = 'n1 did not answer';
    for (;;) {
      const dead = cluster.nodes.slice(0, last).find((n) => !cluster.running(n));
      if (dead) throw new Error(`the ${count}-node cluster did not form: node ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}): ${dead.tail.join(' | ')}`);
      try {
        const c = await cluster.client(cluster.nodes[0]!);
        const rows = await c.members();
        why = describeMissing(want, rows);
        if (why === '') break;
      } catch (err) {
        why = `n1 did not answer: ${(err as Error).message}`;
        cluster.forgetClient(cluster.nodes[0]!);
      }
      if (performance.now() > deadline) {
        throw new Error(`the ${count}-node cluster did not form: nodes n${first + 1}-n${last} were not all ACTIVE on n1 within ${(bound / 1000).toFixed(0)} s (${why}); load ${load1m()} on ${cores} cores, ${((performance.now() - t0) / 1000).toFixed(0)} s after the first start`);
      }
      await sleep(250);
    }
    if (last > 1 && (last - 1) % (FORM_BATCH * 2) === 0) log(`task-throughput: ${last}/${count} ACTIVE after ${((performance.now() - t0) / 1000).toFixed(1)} s, load ${load1m()}`);
  }
}

/**
 * Until every node answers /status on one voter configuration with all `count` voters, nothing
 * pending and no documents moving: placement settled, so the run measures tasks, not handoff.
 */
export async function waitSettled(cluster: TaskProcCluster, count: number, boundMs: number): Promise<number> {
  const t0 = performance.now();
  let why = '';
  while (performance.now() - t0 < boundMs) {
    const all = await Promise.all(cluster.nodes.map((n) => fetchStatus(n.address, 5_000)));
    why = settledReason(
      cluster.nodes.map((n) => n.name),
      all as Array<SettleStatus | undefined>,
      count,
    );
    if (why === '') return performance.now() - t0;
    await sleep(500);
  }
  throw new Error(`the ${count}-node cluster formed but did not settle within ${(boundMs / 1000).toFixed(0)} s: ${why}; load ${load1m()}`);
}

/** What waitSettled reads of /status. */
export interface SettleStatus {
  quorum?: { configuration?: number; pendingConfiguration?: unknown; voters?: number };
  memory?: { documentsMoving?: number };
}

/** '' when settled, else what is not (for the failure message). */
export function settledReason(names: readonly string[], all: ReadonlyArray<SettleStatus | undefined>, count: number): string {
  const silent = names.filter((_, i) => !all[i]);
  if (silent.length) return `no /status from ${silent.join(', ')}`;
  const epochs = new Set(all.map((s) => s!.quorum?.configuration));
  if (epochs.size !== 1) return `nodes on configurations ${[...epochs].sort().join(', ')}`;
  const short = names.filter((_, i) => all[i]!.quorum?.voters !== count);
  if (short.length) return `${short.join(', ')} count${short.length === 1 ? 's' : ''} ${all[names.indexOf(short[0]!)]!.quorum?.voters} voters, not ${count}`;
  const pending = names.filter((_, i) => all[i]!.quorum?.pendingConfiguration != null);
  if (pending.length) return `${pending.join(', ')} await a proposed configuration`;
  const moving = names.filter((_, i) => (all[i]!.memory?.documentsMoving ?? 0) > 0);
  if (moving.length) return `documents still moving on ${moving.join(', ')}`;
  return '';
}
