// One round of the heal benchmarks (heal-convergence, heal-downed), shared: 5 real `tri node
// start` processes, a 3+2 cut with iptables on loopback (LoopbackPartition; root only), a wait
// until the cut had the effect under test, episodes acknowledged on the majority meanwhile (what
// diverges), then the heal, watched through /status every 20 ms and through the nodes' own log
// lines (info level), so each round's result says where the time went: heal detected, admission
// proposed and chosen, catch-up per re-admitted node, digests equal. The rules are always removed
// (finally, and on exit).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoopbackPartition } from '../../src/demo/isolate.js';
import { QuorumCluster, type QuorumClusterOptions, type QStatus } from '../quorum/cluster.js';
import { load1m, runLoad } from '../quorum/load.js';

export const MAJORITY = ['q1', 'q2', 'q3'];
export const MINORITY = ['q4', 'q5'];

export interface HealRoundSpec {
  /** Scenario name, for messages. */
  name: string;
  cluster: QuorumClusterOptions;
  /** What every node's /status shows once the cut had its effect; then the writes start. */
  settled: (s: QStatus) => boolean;
  settledWhat: string;
  settleTimeoutMs: number;
  settlePollMs: number;
  load: { episodes: number; concurrency: number; agents: number; agentPrefix: string };
  healTimeoutMs: number;
}

export interface HealRound {
  settledMs: number;
  writeMs: number;
  atHeal: string;
  heal: HealTimes;
  loadAvg1m: number;
}

/** ms after the heal (NaN: did not happen within the timeout). */
export interface HealTimes {
  /** Every node's /status shows one memory digest. */
  digestsMs: number;
  /** Every node sees every member alive (SWIM). */
  aliveMs: number;
  /** Every node has all five voters and nobody removed. */
  votersMs: number;
  /** Each node's digest first equal to q1's (a node's catch-up end, as /status shows it). */
  nodeEqualMs: Record<string, number>;
  /** Phases from the nodes' log lines (see PHASES). */
  phases: Record<string, number>;
  /** Each change of the compact view (state, voters, writable, documents, doc-delta messages received per node; ? = /status did not answer). */
  timeline: string[];
}

/**
 * Log lines (msg, and a test of the line's fields) whose first occurrence after the heal is a
 * phase: `${phase}` the first node, `${phase}@${node}` each node.
 */
const PHASES: Array<{ phase: string; msg: string; when?: (l: LogLine) => boolean }> = [
  // A majority node sees a minority member again (SWIM): the heal is detected.
  { phase: 'detected', msg: 'member alive', when: (l) => MAJORITY.includes(l.node) && MINORITY.includes(String(l.member)) },
  { phase: 'detected', msg: 'member join', when: (l) => MAJORITY.includes(l.node) && MINORITY.includes(String(l.member)) },
  // A removed member learns the configuration that removed it (it is a learner now).
  { phase: 'learnt-removal', msg: 'voter set changed', when: (l) => MINORITY.includes(l.node) && (l.removed as string[] | undefined)?.includes(l.node) === true },
  { phase: 'admission-proposed', msg: 'proposing a voter-set change', when: (l) => ((l.admit as string[] | undefined) ?? []).some((n) => MINORITY.includes(n)) },
  { phase: 'admitted', msg: 'voter set changed', when: (l) => ((l.admitted as string[] | undefined) ?? []).some((n) => MINORITY.includes(n)) },
  { phase: 'catch-up-start', msg: 'removed from the voter set while away: pulling a full snapshot' },
  { phase: 'catch-up-start', msg: 'rejoin catch-up started' },
  { phase: 'catch-up-done', msg: 'rejoin catch-up done' },
];

interface LogLine {
  node: string;
  msg: string;
  atMs: number;
  [k: string]: unknown;
}

/** Collects the phase lines of every node; `since` is the heal's wall-clock time. */
export class PhaseLog {
  private readonly lines: LogLine[] = [];

  readonly onLine = (node: string, line: string): void => {
    if (!line.startsWith('{') || !PHASES.some((p) => line.includes(p.msg))) return;
    try {
      const j = JSON.parse(line) as { msg?: string; time?: string } & Record<string, unknown>;
      if (typeof j.msg !== 'string' || typeof j.time !== 'string') return;
      this.lines.push({ ...j, node, msg: j.msg, atMs: Date.parse(j.time) });
    } catch {
      // A line split across two reads: not a phase we can time.
    }
  };

  phasesSince(sinceWallMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.lines) {
      if (l.atMs < sinceWallMs) continue;
      for (const p of PHASES) {
        if (p.msg !== l.msg || (p.when && !p.when(l))) continue;
        const ms = l.atMs - sinceWallMs;
        out[p.phase] = Math.min(out[p.phase] ?? Infinity, ms);
        out[`${p.phase}@${l.node}`] = Math.min(out[`${p.phase}@${l.node}`] ?? Infinity, ms);
        if (typeof l.durationMs === 'number') out[`${p.phase}@${l.node}:took`] = l.durationMs;
        if (typeof l.documents === 'number') out[`${p.phase}@${l.node}:documents`] = l.documents;
      }
    }
    return out;
  }
}

/** Runs one round on a fresh cluster (a round's partition leaves marks: removed voters, incarnations). */
export async function runHealRound(spec: HealRoundSpec): Promise<HealRound> {
  const avail = LoopbackPartition.available();
  if (!avail.ok) throw new Error(`${spec.name} needs iptables on loopback: ${avail.reason}; run as root on Linux`);
  const phases = new PhaseLog();
  // TRI_HEAL_LOG_DIR=DIR keeps every node's log lines (DIR/<round>-<node>.log) for diagnosis; TRI_HEAL_LOG_LEVEL=debug for more.
  const keep = keepLines(process.env.TRI_HEAL_LOG_DIR);
  const logLevel = process.env.TRI_HEAL_LOG_LEVEL === 'debug' ? 'debug' : 'info';
  const onLine = (node: string, line: string): void => {
    phases.onLine(node, line);
    keep?.(node, line);
  };
  const cluster = new QuorumCluster({ logLevel, ...spec.cluster, onLine });
  const partition = new LoopbackPartition();
  const healOnExit = (): void => partition.heal();
  process.once('exit', healOnExit);
  try {
    await cluster.start(5);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await cluster.client(i));
    partition.cut([3, 4].map((i) => cluster.address(i)), [0, 1, 2].map((i) => cluster.address(i)));
    const cutAt = performance.now();
    if (!(await cluster.waitAll(spec.settled, spec.settleTimeoutMs, spec.settlePollMs))) {
      throw new Error(`${spec.name}: ${spec.settledWhat} within ${spec.settleTimeoutMs} ms: ${await describe(cluster)}`);
    }
    const settledMs = performance.now() - cutAt;
    const l = spec.load;
    const w = await runLoad({ clients, concurrency: l.concurrency, maxWrites: l.episodes, maxMs: 60_000, agents: l.agents, agentPrefix: l.agentPrefix });
    if (w.acked !== l.episodes) throw new Error(`only ${w.acked} of ${l.episodes} episodes were acknowledged on the majority side: ${JSON.stringify(w.errors)}`);
    const before = await Promise.all([0, 3].map((i) => cluster.status(i)));
    if (before[0]?.memory?.digest === before[1]?.memory?.digest) throw new Error('minority already has the majority digest: the partition did not hold');
    const atHeal = await describe(cluster);
    const healedAt = performance.now();
    const healedWall = Date.now();
    keep?.('bench', JSON.stringify({ msg: 'heal', time: new Date(healedWall).toISOString() }));
    partition.heal();
    const heal = await watchHeal(cluster, healedAt, spec.healTimeoutMs);
    // Log lines of the last moments may still be in the pipes.
    await new Promise((r) => setTimeout(r, 200));
    heal.phases = phases.phasesSince(healedWall);
    return { settledMs, writeMs: w.elapsedMs, atHeal, heal, loadAvg1m: load1m() };
  } finally {
    partition.heal();
    process.removeListener('exit', healOnExit);
    await cluster.stop();
  }
}

let keptRounds = 0;
/** Appends each node's lines to DIR/<round>-<node>.log (undefined: keep nothing). */
function keepLines(dir: string | undefined): ((node: string, line: string) => void) | undefined {
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const round = ++keptRounds;
  return (node, line) => appendFileSync(join(dir, `${round}-${node}.log`), `${line}\n`);
}

/** One line per node: lifecycle state, quorum view and what it thinks of the others. */
export async function describe(cluster: QuorumCluster): Promise<string> {
  const all = await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)));
  return all
    .map((s, i) => {
      if (!s) return `${cluster.nodes[i]!.name}: no answer`;
      const q = s.quorum;
      const others = s.members.filter((m) => m.name !== s.name).map((m) => `${m.name}=${m.state}/${m.swimState}`).join(',');
      return `${s.name} ${s.state} w=${String(q?.writable)} ${q?.reachable}/${q?.voters} rm=[${(q?.removed ?? []).join(',')}] {${others}}`;
    })
    .join('; ');
}

/** Polls every node's /status every 20 ms from `since` until digests are equal, all are alive and all are voters (or the timeout). */
async function watchHeal(cluster: QuorumCluster, since: number, timeoutMs: number): Promise<HealTimes> {
  const deadline = since + timeoutMs;
  const t: HealTimes = { digestsMs: NaN, aliveMs: NaN, votersMs: NaN, nodeEqualMs: {}, phases: {}, timeline: [] };
  let last = '';
  const pending = (): boolean => [t.digestsMs, t.aliveMs, t.votersMs].some(Number.isNaN);
  while (performance.now() < deadline && pending()) {
    const all = await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)));
    const now = performance.now() - since;
    const view = all.map((s) => (s ? `${s.name}:${s.state[0]}${s.quorum?.voters}${s.quorum?.writable ? 'w' : 'r'}/${s.memory?.documents}d${deltasIn(s)}` : '?')).join(',');
    if (view !== last) t.timeline.push(`${now.toFixed(0)}ms=${view}`);
    last = view;
    if (Number.isNaN(t.aliveMs) && all.every((s) => s !== undefined && s.members.every((m) => m.swimState === 'alive'))) t.aliveMs = now;
    if (Number.isNaN(t.votersMs) && all.every((s) => s?.quorum !== undefined && s.quorum.voters === 5 && (s.quorum.removed ?? []).length === 0)) t.votersMs = now;
    const ref = all[0]?.memory?.digest;
    for (const s of all) if (s?.memory && ref !== undefined && s.memory.digest === ref && t.nodeEqualMs[s.name] === undefined) t.nodeEqualMs[s.name] = Math.round(now);
    const ds = new Set(all.map((s) => s?.memory?.digest ?? 'none'));
    if (Number.isNaN(t.digestsMs) && ds.size === 1 && !ds.has('none')) t.digestsMs = now;
    await new Promise((r) => setTimeout(r, 20));
  }
  return t;
}

/** Sync frames carrying document deltas this node received so far (where its catch-up stands). */
function deltasIn(s: QStatus): number {
  return (s.memory as { sync?: { received?: Record<string, { messages?: number }> } } | undefined)?.sync?.received?.['doc-deltas']?.messages ?? 0;
}

/** A compact one-line account of a round's phases, for the log. */
export function phaseLine(t: HealTimes): string {
  const keys = Object.keys(t.phases).filter((k) => !k.includes(':')).sort((a, b) => t.phases[a]! - t.phases[b]!);
  const ph = keys.filter((k) => !k.includes('@') || k.startsWith('catch-up')).map((k) => `${k} ${t.phases[k]!.toFixed(0)}`);
  const eq = Object.entries(t.nodeEqualMs).filter(([n]) => MINORITY.includes(n)).map(([n, ms]) => `${n}-equal ${ms}`);
  return [...ph, ...eq, `digests ${t.digestsMs.toFixed(0)}`].join(', ');
}
