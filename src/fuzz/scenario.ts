// One fuzz run: a SimCluster of whole nodes (gossip, memory, quorum, tasks), a schedule of faults
// and workload (schedule.ts) over `durationMs` of virtual time, then a last heal and the final
// checks (invariants.ts). Everything comes from `run.simSeed` and the schedule; nothing reads a
// real clock or Math.random, so the same run replays the same trace and the same summary.
import { SimCluster } from '../sim/cluster-sim.js';
import { taskParts, tasksOf } from '../tasks/task-schema.js';
import { deriveState } from '../tasks/task-state.js';
import type { TaskTable } from '../tasks/task-table.js';
import { checkFinal, COUNTER, settleForget, SplitBrainChecker, Violation, type InvariantName, type Ledger } from './invariants.js';
import { DurabilityChecker } from './durability-check.js';
import { MoveCompletionChecker, QuietJoinChecker } from './move-check.js';
import { MoveRunner } from './move-ops.js';
import { PlacementAgreementChecker } from './placement-check.js';
import { ReadAfterWriteChecker } from './read-check.js';
import { replicaDivergence } from './replica-check.js';
import { AGENTS, MAX_JOINS, sidesToGroups, type Run, type Step } from './schedule.js';
import { BASE_LINK, CALM_LINK, DEFAULT_SCENARIO, FUZZ_NODE_OPTIONS, runDigest, type RunResult, type RunStats, type ScenarioConfig } from './scenario-config.js';

export { DEFAULT_SCENARIO, type RunResult, type RunStats, type ScenarioConfig } from './scenario-config.js';

/** Carries out `run` and checks the invariants; never throws for a violation (it is returned). */
export async function runScenario(run: Run, config: ScenarioConfig = DEFAULT_SCENARIO): Promise<RunResult> {
  const n = config.nodes;
  // Every node runs with a tiny memory budget (agent documents unloaded as soon as they are idle)
  // and a short task retention, so eviction and trimming happen all along the schedule.
  const c = new SimCluster({ seed: run.simSeed, nodes: n, profile: config.profile, link: BASE_LINK, nodeOptions: FUZZ_NODE_OPTIONS });
  const workload = config.workload;
  const defineAgents = (i: number) => {
    if (config.replicationFactor !== undefined) c.node(i).gate.setFoundingReplicationFactor(config.replicationFactor);
    for (const [type, handler] of workload.agents) c.node(i).defineAgent(type, handler);
    watchTrims(c, i, ledger);
  };
  const ledger: Ledger = { writes: [], counters: new Map(), tasks: [], forgotten: new Set(), forgetAttempted: new Set(), trimmed: new Set(), trimmedUnfinished: [] };
  const skip = new Set(config.skipInvariants ?? []);
  /** A violation seen inside node code or a callback (thrown by the next check). */
  let seen: Violation | undefined;
  const report = (v: Violation) => {
    if (!skip.has(v.invariant)) seen ??= v;
  };
  const durability = new DurabilityChecker(c);
  const reads = new ReadAfterWriteChecker(c, (agent, id) => ledger.forgetAttempted.has(`${agent}/${id}`));
  const moveCheck = new MoveCompletionChecker(c);
  const quietJoin = new QuietJoinChecker(c);
  const started = (i: number) => {
    defineAgents(i);
    durability.watchDrops(i, report);
    reads.restarted(i);
  };
  for (let i = 0; i < n; i++) started(i);
  const stats: RunStats = { steps: 0, writesAcked: 0, incrementsAcked: 0, forgetsAcked: 0, tasksTrimmed: 0, tasksAcked: 0, tasksDone: 0, crashes: 0, joins: 0, pauses: 0, partitions: 0, convergedAfterMs: null, leaves: 0, wipes: 0, readsChecked: 0, quietJoins: 0, longestMoveMs: 0, virtualMs: 0, events: 0 };
  const paused = new Set<number>();
  const touchedPairs: Array<[number, number]> = [];
  /** Members added by join steps (index -> the node they joined via, whose side they share). */
  const joinedVia = new Map<number, number>();
  const checker = new SplitBrainChecker(c);
  const running = () => c.live().filter((i) => !paused.has(i));
  const placement = new PlacementAgreementChecker((i) => c.node(i).gate.voterConfig(), () => c.now());
  const guard = (name: InvariantName, fn: () => void) => {
    if (!skip.has(name)) fn();
  };
  const check = (afterStep = false) => {
    const r = running();
    guard('split-brain', () => checker.check(r));
    guard('placement-agreement', () => placement.check(r));
    guard('ack-majority', () => durability.check(afterStep));
    if (seen) throw seen;
  };
  const moves = new MoveRunner(run.moves ?? [], {
    c,
    wipes: config.wipedRestarts !== false,
    up: (i) => !c.isDown(i) && !paused.has(i),
    mayTakeDown,
    join: (via) => join(via),
    crash: (i) => crash(i),
    restart: (i) => restart(i),
    partition: (sides) => partition(sides),
    heal: () => c.heal(),
    read: (i, agent) => {
      stats.readsChecked++;
      reads.read(i, `agent-${agent}`, report);
    },
    wiped: (i) => {
      stats.wipes++;
      durability.wiped(i);
      reads.wiped();
    },
    left: (i, exited) => {
      stats.leaves++;
      durability.leavingUntil(i, exited);
    },
  });
  /** Runs `ms` of virtual time, checking the continuous invariants every checkEveryMs. */
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += config.checkEveryMs) {
      if (t0 !== undefined) moves.due(c.now() - t0);
      await c.runFor(Math.min(config.checkEveryMs, ms - t));
      check();
    }
  };
  const counterIds: string[] = [];
  let violation: Violation | undefined;
  let writes = 0;
  let t0: number | undefined;
  let healedAt: number | undefined;
  try {
    await c.start();
    const formed = () => c.allSee((ms) => ms.length === n && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE'));
    if (!(await c.runUntil(formed, 60_000, 50))) throw new Violation('cluster-formed', `${n} nodes did not all see each other ACTIVE within 60 s of starting`, c.now());
    // One counter episode per agent, acknowledged before the schedule starts; `incr` steps add to it.
    for (let a = 0; a < AGENTS; a++) {
      const agent = `agent-${a}`;
      const id = await c.settle(c.node(0).memory(agent).addEpisode({ task: 'counter', outcome: 'ok' }), 30_000);
      counterIds.push(id);
      ledger.counters.set(`${agent}/${id}`, { agent, id, acked: 0, attempted: 0 });
      ledger.writes.push({ agent, id, via: 0 });
    }
    await c.runUntil(() => c.live().every((i) => counterIds.every((id, a) => c.node(i).memory(`agent-${a}`).get(id))), 10_000, 50);
    t0 = c.now();
    for (const step of run.steps) {
      const elapsed = c.now() - t0!;
      if (elapsed >= config.durationMs) break;
      stats.steps++;
      apply(step);
      check(true);
      await advance(Math.min(step.waitMs, config.durationMs - elapsed));
    }
    if (c.now() - t0 < config.durationMs) await advance(t0 + config.durationMs - c.now());

    // The last heal: links calm, partitions gone, paused nodes resumed, crashed nodes restarted.
    c.heal();
    c.setDefaultLink(CALM_LINK);
    for (const [a, b] of touchedPairs) c.setLink(a, b, CALM_LINK);
    for (const i of [...paused]) resume(i);
    moves.finish();
    const restartDown = () => {
      for (let i = 0; i < c.size; i++) if (c.isDown(i) && moves.restartable(i)) restart(i);
    };
    restartDown();
    healedAt = c.now();
    // Everyone, members added by join steps included, ACTIVE (so admitted: a learner is DEGRADED).
    const converged = () =>
      c.live().length === c.size && c.allSee((ms) => ms.length === c.size && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE')) && replicaDivergence(c) === undefined;
    const deadline = healedAt + config.convergeMs;
    while (!converged() && c.now() < deadline) {
      await advance(Math.min(500, deadline - c.now()));
      restartDown(); // a leave still draining at the heal restarts once it has left
      guard('move-incomplete', () => moveCheck.check());
    }
    check();
    if (!converged()) {
      const views = c.nodes.map(
        (node, i) =>
          `n${i}: ${c.isDown(i) ? 'down' : `${node.state} ${node.members().map((m) => `${m.name}=${m.state}/${m.swimState}`).join(' ')} digest=${node.memoryService.digest().digest.slice(0, 8)}`}`,
      );
      throw new Violation('convergence', `replicas did not converge within ${config.convergeMs / 1000} s of the last heal (${replicaDivergence(c) ?? 'membership'}):\n    ${views.join('\n    ')}`, c.now());
    }
    stats.convergedAfterMs = Math.round(c.now() - healedAt);
    checkFinal(c, ledger);
    if (run.endJoin && joinedVia.size < MAX_JOINS) await quietJoinAtEnd();
  } catch (err) {
    if (!(err instanceof Violation)) throw err;
    violation = err;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    err.when = healedAt !== undefined ? `${s(err.atMs - healedAt)} after the last heal` : t0 !== undefined ? `t=${s(err.atMs - t0)} into the schedule` : `${s(err.atMs)} after the start`;
  } finally {
    stats.virtualMs = Math.round(c.now());
    stats.events = c.world.eventsRun;
    stats.writesAcked = ledger.writes.length;
    stats.tasksAcked = ledger.tasks.length;
    for (const k of ledger.counters.values()) stats.incrementsAcked += k.acked;
    stats.forgetsAcked = ledger.forgotten.size;
    stats.tasksTrimmed = ledger.trimmed.size;
    stats.quietJoins = quietJoin.watched;
    stats.longestMoveMs = Math.round(moveCheck.longestMs);
    if (!violation) stats.tasksDone = c.node(0).tasks.list().filter((t) => t.status === 'done').length;
    await c.destroy();
  }
  return { violation, stats, digest: runDigest(run, stats, violation, ledger) };

  function apply(step: Step): void {
    const op = step.op;
    const up = (i: number) => !c.isDown(i) && !paused.has(i);
    switch (op.kind) {
      case 'partition':
        partition(op.sides);
        break;
      case 'heal':
        c.heal();
        break;
      case 'crash':
        if (!c.isDown(op.node) && mayTakeDown()) crash(op.node);
        break;
      case 'restart':
        if (c.isDown(op.node) && moves.restartable(op.node)) restart(op.node); // a leave still draining is not down yet
        break;
      case 'join':
        join(op.via);
        break;
      case 'pause':
        if (up(op.node)) {
          stats.pauses++;
          paused.add(op.node);
          c.pause(op.node);
          const node = c.node(op.node);
          c.world.schedule(op.ms, () => {
            if (c.node(op.node) === node) resume(op.node);
          });
        }
        break;
      case 'link':
        if (op.pair) {
          c.setLink(op.pair[0], op.pair[1], op.link);
          touchedPairs.push(op.pair);
        } else c.setDefaultLink(op.link);
        break;
      case 'write': {
        if (!up(op.node)) break;
        const agent = `agent-${op.agent}`;
        const id = writes++;
        // Every fifth write step forgets the agent's oldest acknowledged episode instead (the
        // schedule's shape stays as it was, so existing seeds keep their schedules).
        if (id % 5 === 4) {
          const target = ledger.writes.find((w) => w.agent === agent && w.id !== counterIds[op.agent] && !ledger.forgetAttempted.has(`${agent}/${w.id}`));
          if (target) {
            const key = `${agent}/${target.id}`;
            ledger.forgetAttempted.add(key);
            c.node(op.node)
              .memory(agent)
              .forget(target.id)
              .then(
                (forgot) => settleForget(ledger, key, forgot),
                () => undefined, // refused (nothing applied) or not acknowledged in time (may converge): no longer counted either way
              );
            break;
          }
        }
        const via = op.node;
        durability
          .track(via, agent, () => c.node(via).memory(agent).addEpisode({ task: `w${id}`, outcome: 'ok', note: `via n${via}` }))
          .then(
            (epId) => {
              ledger.writes.push({ agent, id: epId, via });
              reads.acknowledged(agent, epId, via);
            },
            (err: unknown) => {
              if (err instanceof Violation) report(err); // the write's own check, when it resolved
              // otherwise QuorumError / WriteTimeoutError / stopped: not acknowledged
            },
          );
        break;
      }
      case 'incr': {
        const agent = `agent-${op.agent}`;
        const id = counterIds[op.agent]!;
        const k = ledger.counters.get(`${agent}/${id}`)!;
        for (const i of op.nodes) {
          if (!up(i)) continue;
          const mem = c.node(i).memory(agent);
          if (!mem.get(id)) continue; // this replica has not seen the episode yet: nothing to add to
          k.attempted++;
          mem.increment(id, COUNTER, 1).then(
            () => k.acked++,
            () => undefined,
          );
        }
        break;
      }
      case 'task': {
        if (!up(op.node)) break;
        const via = op.node;
        c.node(via)
          .submit(workload.task(op.pick))
          .then(
            (t) => ledger.tasks.push({ id: t.id, via, agent: t.agent }),
            () => undefined,
          );
        break;
      }
    }
  }

  /** At most a minority down at once, so a majority can always come back. */
  function mayTakeDown(): boolean {
    return c.live().length > c.size - Math.floor((c.size - 1) / 2);
  }

  function crash(i: number): void {
    paused.delete(i);
    c.crash(i);
    stats.crashes++;
  }

  function join(via: number): number | undefined {
    if (joinedVia.size >= MAX_JOINS || c.isDown(via) || paused.has(via)) return undefined;
    const k = c.addNode(via);
    joinedVia.set(k, via);
    started(k);
    stats.joins++;
    return k;
  }

  function partition(sides: number[]): void {
    stats.partitions++;
    // Added members stay on the side of the node they joined via.
    c.partition(...sidesToGroups([...sides.slice(0, n), ...[...joinedVia.values()].map((via) => sides[via] ?? 0)]));
  }

  /** The quiet join (run.endJoin): a new member joins the converged cluster; only it may receive agent documents. */
  async function quietJoinAtEnd(): Promise<void> {
    const quietBy = c.now() + config.convergeMs; // moves of earlier changes finish first (a join into a quiet cluster)
    while (!quietJoin.isQuiet() && c.now() < quietBy) await advance(Math.min(500, quietBy - c.now()));
    quietJoin.begin(c.size); // taps the nodes there now; the joiner is the next index
    const k = join(0)!;
    const admitted = () => c.live().every((i) => c.node(i).gate.isVoter(c.node(k).name)) && replicaDivergence(c) === undefined;
    const until = c.now() + config.convergeMs;
    while (!admitted() && c.now() < until) {
      await advance(Math.min(500, until - c.now()));
      guard('move-incomplete', () => moveCheck.check());
    }
    guard('quiet-join', () => quietJoin.end());
    if (!admitted()) throw new Violation('convergence', `n${k} joined the quiet cluster and it did not converge within ${config.convergeMs / 1000} s (${replicaDivergence(c) ?? 'not admitted'})`, c.now());
  }

  function resume(i: number): void {
    if (!paused.delete(i)) return;
    c.resume(i);
  }

  function restart(i: number): void {
    paused.delete(i);
    void c.restart(i).catch(() => undefined);
    started(i);
  }
}

/**
 * Records every task that leaves one of node i's task tables (only retention deletes tasks) and
 * checks that it was finished on that replica when it went. Every table: the cluster-wide one and
 * each task shard (retention trims a shard on its scheduler), including shards opened later.
 */
function watchTrims(c: SimCluster, i: number, ledger: Ledger): void {
  c.node(i).tasks.shards.onTable((table) => watchTableTrims(c, i, table.doc, ledger));
}

function watchTableTrims(c: SimCluster, i: number, doc: TaskTable['doc'], ledger: Ledger): void {
  tasksOf(doc).observe((e) => {
    for (const [id, change] of e.changes.keys) {
      if (change.action !== 'delete' || id.startsWith('~')) continue;
      ledger.trimmed.add(id);
      const parts = taskParts(change.oldValue);
      // Recorded, not thrown: this runs inside a Yjs transaction (checkFinal reports it).
      if (parts && !deriveState(parts).winner) ledger.trimmedUnfinished.push(`task ${id} left n${i}'s table at ${c.now()} ms while it was ${deriveState(parts).status} there`);
    }
  });
}
