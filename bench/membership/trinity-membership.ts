// Our side of the membership benchmark: a cluster of real `tri node start --profile lan`
// processes, timed through SIGKILL-and-replace rounds (detection, join), with idle gossip bytes
// and what the survivors' logs and counters say about each round.
import { mean } from '../lib/stats.js';
import { allInState, allInSwimState, bytesSentBetween, fetchStatus, nodeTcpBytesSent, ProcCluster, timeUntilEach, type MemberLogEvent, type NodeStatus, type ProcNode } from '../lib/proc-cluster.js';
import { SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';
import { falseAccusations, idleRates, round1, type IdleRates, type Plan } from './figures.js';

export const TIMEOUT_MS = 60_000;
const POLL_MS = 50;
/** Nodes spawned at once while a cluster starts (2 cores: more only queues). */
const START_BATCH = 4;

export interface OurMembershipRun {
  nodes: number;
  startupConvergedMs: number;
  samples: { detectionMs: number[][]; joinMs: number[][]; joinFromReadyMs: number[][] };
  /** Per join round: from spawning the joiner until its /status answered (process start-up, before it joins). */
  joinerReadyMs: number[];
  /** Per detection round: what the survivors' logs and counters say happened. */
  diagnostics: RoundDiagnostics[];
  /** Per round: from spawning the joiner until the last survivor logged "member join" for it (NaN if one never did). */
  joinAllFromLogsMs: number[];
  /** Log events accusing a live member, over the whole run (startup included). */
  falseAccusations: MemberLogEvent[];
  /** Polls that showed a live member suspect/dead. */
  falseStates: { observer: string; member: string; swimState: string }[];
  /** Sum of the `refutations` counters of the nodes alive at the end. */
  refutations: number;
  idle?: IdleRates & { tcpBytesPerS: number; windowMs: number };
  notes: string[];
}

export async function runOurMembership(n: number, plan: Plan, log: (m: string) => void, triPath?: string): Promise<OurMembershipRun> {
  if (n < 3) throw new Error('need at least 3 nodes: a seed, a victim and another observer');
  const cluster = new ProcCluster({ profile: 'lan', ...(triPath ? { triPath } : {}) });
  const notes: string[] = [];
  const killed = new Set<string>();
  const falseStates: OurMembershipRun['falseStates'] = [];
  const inspect = (o: ProcNode, s: NodeStatus): void => {
    for (const m of s.members) {
      if ((m.swimState === 'suspect' || m.swimState === 'dead') && !killed.has(m.name)) falseStates.push({ observer: o.name, member: m.name, swimState: m.swimState });
    }
  };
  try {
    log(`starting ${n} nodes`);
    const t0 = performance.now();
    await cluster.startNode();
    while (cluster.nodes.length < n) {
      const batch = Math.min(START_BATCH, n - cluster.nodes.length);
      await Promise.all(Array.from({ length: batch }, () => cluster.startNode()));
    }
    const names = cluster.nodes.map((x) => x.name);
    const converge = await timeUntilEach(cluster.nodes, t0, allInState(names, 'ACTIVE'), { timeoutMs: TIMEOUT_MS, pollMs: 250, inspect });
    if (converge.missing.length) throw new Error(`nodes ${converge.missing.join(', ')} never saw all ${n} ACTIVE`);
    const startupConvergedMs = round1(Math.max(...converge.times));
    log(`all ${n} see all ACTIVE after ${startupConvergedMs} ms`);

    let idle: OurMembershipRun['idle'];
    if (plan.idleWindowMs > 0) {
      await sleep(3_000); // let join-time gossip drain, as serf's runner does
      log(`counting idle gossip for ${plan.idleWindowMs} ms`);
      const [before, tcpBefore] = await Promise.all([gossipCounters(cluster.nodes), nodeTcpBytesSent()]);
      const start = performance.now();
      await sleep(plan.idleWindowMs);
      const [after, tcpAfter] = await Promise.all([gossipCounters(cluster.nodes), nodeTcpBytesSent()]);
      const seconds = (performance.now() - start) / 1000;
      const udp = idleRates(before, after, seconds, SEAL_OVERHEAD);
      const tcpBytesPerS = tcpBefore && tcpAfter ? round1(bytesSentBetween(tcpBefore, tcpAfter) / n / seconds) : NaN;
      idle = { ...udp, tcpBytesPerS, windowMs: Math.round(seconds * 1000) };
      notes.push(
        `idle bytes: UDP from /status gossip bytesOut (SWIM payload) plus packetsOut x ${SEAL_OVERHEAD} B seal overhead (nonce, tag, label); ` +
          'TCP from `ss` bytes_sent on node-to-node stream sockets (ports 9999/10000: push-pull and memory anti-entropy, TLS records included); no IP/UDP/TCP headers',
      );
    } else await sleep(2_000);

    const detectionMs: number[][] = [];
    const diagnostics: RoundDiagnostics[] = [];
    const joinMs: number[][] = [];
    const joinFromReadyMs: number[][] = [];
    const joinerReadyMs: number[] = [];
    const joinAllFromLogsMs: number[] = [];
    let alive = [...cluster.nodes];
    for (let r = 0; r < plan.rounds; r++) {
      const gone = alive.filter((x) => !cluster.isRunning(x));
      if (gone.length) {
        const why = gone.map((x) => `${x.name} (exit ${String(x.process.exitCode ?? x.process.signalCode)}: ${x.logTail.slice(-1).join('')})`);
        throw new Error(`nodes this benchmark did not kill have exited, so the run is void: ${why.join('; ')}`);
      }
      const victim = alive[alive.length - 1]!;
      const survivors = alive.slice(0, -1);
      const countersBefore = await gossipCounters(survivors);
      log(`round ${r + 1}: SIGKILL ${victim.name}`);
      killed.add(victim.name);
      const killedAt = performance.now();
      const killedWall = Date.now();
      cluster.kill(victim);
      const detect = await timeUntilEach(survivors, killedAt, allInState([victim.name], 'FAILED'), { timeoutMs: TIMEOUT_MS, pollMs: POLL_MS, inspect });
      if (detect.missing.length) {
        const dead = survivors.filter((x) => !cluster.isRunning(x)).map((x) => `${x.name} exited ${String(x.process.exitCode ?? x.process.signalCode)}: ${x.logTail.slice(-3).join(' | ')}`);
        notes.push(`round ${r + 1}: never reported ${victim.name} FAILED: ${detect.missing.join(', ')}${dead.length ? `; ${dead.join('; ')}` : ''}`);
        log(notes[notes.length - 1]!);
      }
      detectionMs.push(detect.times);
      await sleep(300); // let the last "member dead" log lines arrive
      const diag = roundDiagnostics(survivors, victim, killedWall, killedAt, countersBefore, await gossipCounters(survivors));
      diagnostics.push(diag);
      log(
        `round ${r + 1}: first ${fmt(Math.min(...detect.times))} ms, all ${fmt(Math.max(...detect.times))} ms ` +
          `(logs: first suspect ${fmt(diag.firstSuspectMs)} ms, first dead ${fmt(diag.firstDeadMs)} ms, last dead ${fmt(diag.lastDeadMs)} ms; ` +
          `victim up ${fmt(diag.victimUpMs)} ms; health at kill mean ${diag.healthAtKill.mean} max ${diag.healthAtKill.max}; confirmations ${diag.counters.confirmations ?? 0})`,
      );

      const joinStart = performance.now();
      const joinStartWall = Date.now();
      const joiner = await cluster.startNode();
      alive = [...survivors, joiner];
      const join = await timeUntilEach(alive, joinStart, allInSwimState([joiner.name], 'alive'), { timeoutMs: TIMEOUT_MS, pollMs: POLL_MS, inspect });
      if (join.missing.length) notes.push(`round ${r + 1}: never saw ${joiner.name} alive: ${join.missing.join(', ')}`);
      joinMs.push(join.times);
      await sleep(300); // let the last "member join" log lines arrive
      const joinLogged = survivors.flatMap((x) => x.events).filter((e) => e.member === joiner.name && e.event === 'join' && e.at >= joinStartWall - 5);
      joinAllFromLogsMs.push(joinLogged.length === survivors.length ? Math.max(...joinLogged.map((e) => e.at - joinStartWall)) : NaN);
      const readyAfter = joiner.readyAt - joinStart;
      joinFromReadyMs.push(join.times.map((t) => Math.max(0, t - readyAfter)));
      joinerReadyMs.push(round1(readyAfter));
      log(`round ${r + 1}: ${joiner.name} up after ${fmt(readyAfter)} ms, seen by all after ${fmt(Math.max(...join.times))} ms`);
      // Spread the kills over the probe cycle instead of locking them to its phase (as serf's runner).
      await sleep(500 + 317 * r);
    }
    let refutations = 0;
    for (const s of (await gossipCounters(cluster.nodes.filter((x) => cluster.isRunning(x)))).values()) refutations += s.refutations ?? 0;
    const events = cluster.nodes.flatMap((x) => x.events);
    notes.push(
      `${plan.rounds} rounds of: SIGKILL the newest node, time until every survivor's /status lists it FAILED (polled every ${POLL_MS} ms); ` +
        'start a replacement, time until all see it alive (from spawning it: process start and its join included; _from_ready: from its /status first answering).',
    );
    return {
      nodes: n,
      startupConvergedMs,
      samples: { detectionMs, joinMs, joinFromReadyMs },
      joinerReadyMs,
      diagnostics,
      joinAllFromLogsMs,
      falseAccusations: falseAccusations(events, killed),
      falseStates: dedupeStates(falseStates),
      refutations,
      ...(idle ? { idle } : {}),
      notes,
    };
  } finally {
    await cluster.stopAll();
  }
}

/** One detection round as the survivors' logs and gossip counters tell it. */
export interface RoundDiagnostics {
  victim: string;
  /** How long the victim had been up (its /status answering) when it was killed. */
  victimUpMs: number;
  /** From the kill to the first survivor logging "member suspect" / "member dead" about it, and to the last "member dead". */
  firstSuspectMs: number;
  firstDeadMs: number;
  lastDeadMs: number;
  /** Survivors that logged it dead. */
  deadLogged: number;
  /** Lifeguard local health scores of the survivors at the kill (0 = healthy; >0 stretches their probe period). */
  healthAtKill: { mean: number; max: number };
  /** Sum over survivors of the growth of these gossip counters during the round. */
  counters: Record<string, number>;
}

const DIAG_COUNTERS = ['suspicions', 'confirmations', 'probeFailures', 'indirectProbes', 'nacks', 'refutations', 'deaths'];

function roundDiagnostics(
  survivors: readonly ProcNode[],
  victim: ProcNode,
  killedWall: number,
  killedAt: number,
  before: ReadonlyMap<string, Record<string, number>>,
  after: ReadonlyMap<string, Record<string, number>>,
): RoundDiagnostics {
  const evs = survivors.flatMap((s) => s.events).filter((e) => e.member === victim.name && e.at >= killedWall - 5);
  const at = (kind: string): number[] => evs.filter((e) => e.event === kind).map((e) => e.at - killedWall);
  const suspects = at('suspect');
  const deads = at('dead');
  const health = [...before.values()].map((c) => c.localHealth ?? 0);
  const counters: Record<string, number> = {};
  for (const k of DIAG_COUNTERS) {
    counters[k] = 0;
    for (const [name, a] of after) counters[k] += (a[k] ?? 0) - (before.get(name)?.[k] ?? 0);
  }
  return {
    victim: victim.name,
    victimUpMs: Math.round(killedAt - victim.readyAt),
    firstSuspectMs: suspects.length ? Math.min(...suspects) : NaN,
    firstDeadMs: deads.length ? Math.min(...deads) : NaN,
    lastDeadMs: deads.length ? Math.max(...deads) : NaN,
    deadLogged: new Set(evs.filter((e) => e.event === 'dead').map((e) => e.observer)).size,
    healthAtKill: { mean: round1(mean(health)), max: health.length ? Math.max(...health) : NaN },
    counters,
  };
}

async function gossipCounters(nodes: readonly ProcNode[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  await Promise.all(
    nodes.map(async (x) => {
      const s = await fetchStatus(x.address, 2_000);
      if (s) out.set(x.name, s.gossip);
    }),
  );
  return out;
}

function dedupeStates(xs: OurMembershipRun['falseStates']): OurMembershipRun['falseStates'] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = `${x.observer}/${x.member}/${x.swimState}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : String(v));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
