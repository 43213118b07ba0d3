// The invariants a fuzz run checks (DESIGN.md use 2, "Quorum and split brain"):
//   split-brain     never two writable groups at once: any two running nodes that call themselves
//                   writable see reachable voter groups that intersect (checked all along the run);
//   convergence     after the last heal (everyone restarted and resumed) the holders of each
//                   document are exactly its replica set, with equal content (replica-check.ts);
//   lost-write      every episode whose addEpisode resolved (acknowledged) is on every replica of
//                   its agent (every node without replica sets);
//   lost-increment  every counter holds at least the acknowledged increments and at most all
//                   attempted ones (concurrent +1s give +2: one slot per writer, never LWW);
//   lost-task       every task whose submit resolved is held wherever its table lives: the
//                   cluster-wide table on every node, a task shard on its agent's replica set
//                   (tasks are sharded with more voters than RF); trims from either are recorded;
//   task-results    no task with two results: every node shows the same outcome for every task;
//   resurrected     an episode whose forget was acknowledged is on no node (also after heals);
//   trimmed-unfinished  retention removed only tasks that were finished on the replica removing them;
//   placement-agreement running nodes on one voter configuration place every key alike
//                   (placement-check.ts; checked all along the run, with split-brain).
// Forgotten episodes (forget acknowledged, or attempted and maybe applied) and tasks that retention
// trimmed are not counted as lost.
import { acksCount } from '../quorum/gate-acks.js';
import { proposedVerdict } from '../quorum/joint-config.js';
import type { SimCluster } from '../sim/cluster-sim.js';
import { holdsAgent } from './replica-check.js';

export type InvariantName =
  | 'split-brain'
  | 'convergence'
  | 'lost-write'
  | 'lost-increment'
  | 'lost-task'
  | 'task-results'
  | 'cluster-formed'
  | 'resurrected'
  | 'trimmed-unfinished'
  | 'placement-agreement'
  | 'ack-majority'
  | 'early-drop'
  | 'move-incomplete'
  | 'quiet-join'
  | 'read-after-write';

export class Violation extends Error {
  /** When, in the run's terms ("t=12.3 s into the schedule", "2.0 s after the last heal"); set by the scenario. */
  when = '';
  constructor(
    readonly invariant: InvariantName,
    message: string,
    readonly atMs: number,
  ) {
    super(`${invariant}: ${message}`);
  }
}

/**
 * Instant split-brain check, cheap enough to run every 100 virtual ms: a node's reachable voter
 * group is recomputed only when its quorum verdict object changes (the gate memoises the verdict
 * until the member table changes).
 */
export class SplitBrainChecker {
  constructor(private readonly c: SimCluster) {}

  /** Throws a Violation when two running writable nodes reach disjoint voter groups. */
  check(running: number[]): void {
    const c = this.c;
    const writable: Array<{ i: number; group: Set<string> }> = [];
    for (const i of running) {
      const v = c.node(i).gate.verdict();
      if (!v.writable) continue;
      const group = acknowledgingVoters(c, i);
      // Counted voters that have in truth moved to another configuration would not acknowledge
      // its writes (acknowledgements carry the configuration): writable only in its own view.
      if (!c.node(i).gate.isQuorum(group)) continue;
      // A node holding a proposal completes a write only with a writable set of the proposed
      // voters too (joint-config.ts): without one it is writable in its own view only.
      if (!jointWritable(c, i, group)) continue;
      writable.push({ i, group });
    }
    for (let a = 0; a < writable.length; a++) {
      for (let b = a + 1; b < writable.length; b++) {
        const ga = writable[a]!;
        const gb = writable[b]!;
        if (ga.group === gb.group) continue;
        let meet = false;
        for (const n of ga.group) if (gb.group.has(n)) meet = true;
        if (meet) continue;
        const view = (i: number) => {
          const removed = new Set(c.node(i).gate.removedMembers());
          return c.node(i).members().map((m) => `${m.name}=${m.state}/${m.swimState}${removed.has(m.name) ? '/removed' : ''}`).join(' ');
        };
        throw new Violation(
          'split-brain',
          `n${ga.i} is writable reaching voters {${[...ga.group].join(',')}} and n${gb.i} is writable reaching voters {${[...gb.group].join(',')}}` +
            `\n    n${ga.i} (${c.node(ga.i).gate.verdict().reason}) sees ${view(ga.i)}\n    n${gb.i} (${c.node(gb.i).gate.verdict().reason}) sees ${view(gb.i)}`,
          c.now(),
        );
      }
    }
  }
}

/**
 * The voters node i counts that would acknowledge its writes now: those really on its voter
 * configuration (or pending on the one before, which can only end on it; while i holds a proposal,
 * members pending on the same epoch), as the simulator knows them (gate-acks.ts acksCount). Acknowledgements carry the acker's configuration word and a writer counts only these
 * (MemoryService), so a member counted by stale metadata adds nothing to what i can acknowledge.
 */
export function acknowledgingVoters(c: SimCluster, i: number): Set<string> {
  const self = c.node(i);
  const epoch = self.gate.voterConfig().epoch;
  const pending = self.gate.pending() !== undefined;
  const index = new Map(c.nodes.map((n, k) => [n.name, k]));
  const out = new Set<string>();
  for (const name of reachableVoters(c, i)) {
    const k = index.get(name);
    if (k === undefined || c.isDown(k)) continue;
    const w = c.node(k).gate.word();
    if (k === i || acksCount(epoch, pending, w)) out.add(name);
  }
  return out;
}

/**
 * Whether node i, if it holds a proposal, has a writable set of the proposed voters among
 * `group` plus the proposed voters outside its configuration that it sees alive and that would
 * acknowledge it (gate-acks.ts acksCount). True when nothing is pending.
 */
function jointWritable(c: SimCluster, i: number, group: ReadonlySet<string>): boolean {
  const gate = c.node(i).gate;
  const proposed = gate.pending();
  if (!proposed) return true;
  const epoch = gate.voterConfig().epoch;
  const index = new Map(c.nodes.map((n, k) => [n.name, k]));
  const alive = new Set(c.node(i).members().filter((m) => m.swimState === 'alive').map((m) => m.name));
  const acks = (name: string): boolean => {
    if (group.has(name)) return true;
    const k = index.get(name);
    return k !== undefined && !c.isDown(k) && alive.has(name) && acksCount(epoch, true, c.node(k).gate.word());
  };
  return proposedVerdict(proposed, acks).writable;
}

/** The voters node i can reach as it sees them (itself included), as ClusterNode.quorumMembers does. */
export function reachableVoters(c: SimCluster, i: number): Set<string> {
  // The gate's own view: the voters it counted when it called itself writable.
  return c.node(i).gate.reachableVoters();
}

/** What the workload got acknowledged (and attempted), to hold the final state against. */
export interface Ledger {
  /** Episodes whose addEpisode resolved. */
  writes: Array<{ agent: string; id: string; via: number }>;
  /** Per counter episode (agent/id): increments acknowledged and attempted (applied locally or maybe). */
  counters: Map<string, { agent: string; id: string; acked: number; attempted: number }>;
  /** Tasks whose submit resolved. */
  tasks: Array<{ id: string; via: number; agent: string }>;
  /** Episodes (agent/id) whose forget was acknowledged, and those whose forget was attempted. */
  forgotten: Set<string>;
  forgetAttempted: Set<string>;
  /** Tasks some replica saw leave the table (retention), and any that left it unfinished. */
  trimmed: Set<string>;
  trimmedUnfinished: string[];
}

export const COUNTER = 'uses';

/**
 * Books a forget that resolved. `forget(id)` resolves false when the replica asked holds no such
 * episode (yet): it deleted nothing and wrote nothing, so the episode is neither forgotten nor
 * at risk, and it counts as an acknowledged write again. Only a forget that resolved true was an
 * acknowledged delete. (Counting a false one as acknowledged was the fuzzer's own bug: seed 8008,
 * 7 nodes, run 251 forgot via n0 an episode that only the other side of a partition held.)
 */
export function settleForget(ledger: Ledger, key: string, forgot: boolean): void {
  if (forgot) ledger.forgotten.add(key);
  else ledger.forgetAttempted.delete(key);
}

/** The final checks, on a healed cluster whose replicas converged. Throws the first Violation. */
export function checkFinal(c: SimCluster, ledger: Ledger): void {
  const at = c.now();
  const all = c.live();
  const inClusterTable = new Map(ledger.tasks.map((t) => [t.id, all.some((i) => c.node(i).tasks.table.get(t.id) !== undefined)]));
  if (ledger.trimmedUnfinished.length > 0) throw new Violation('trimmed-unfinished', ledger.trimmedUnfinished[0]!, at);
  for (const i of all) {
    for (const w of ledger.writes) {
      if (ledger.forgetAttempted.has(`${w.agent}/${w.id}`)) continue; // forgotten, or maybe: not a lost write
      if (!holdsAgent(c, i, w.agent)) continue; // not a replica: holds no copy after handoff
      if (!c.node(i).memory(w.agent).get(w.id)) throw new Violation('lost-write', `acknowledged episode ${w.agent}/${w.id} (written via n${w.via}) is missing on n${i}`, at);
    }
    for (const k of ledger.counters.values()) {
      if (!holdsAgent(c, i, k.agent)) continue;
      const ep = c.node(i).memory(k.agent).get(k.id);
      const value = ep?.counters[COUNTER] ?? 0;
      if (value < k.acked || value > k.attempted) {
        throw new Violation(
          'lost-increment',
          `counter "${COUNTER}" of ${k.agent}/${k.id} reads ${value} on n${i}, but ${k.acked} increment(s) of +1 were acknowledged (${k.attempted} attempted): ` +
            (value < k.acked ? 'acknowledged increments were lost (a counter merged by last-write-wins?)' : 'more than was ever added'),
          at,
        );
      }
    }
    for (const key of ledger.forgotten) {
      const [agent, id] = key.split('/') as [string, string];
      if (c.node(i).memory(agent).get(id)) throw new Violation('resurrected', `episode ${key}, whose forget was acknowledged, is back on n${i}`, at);
    }
    for (const t of ledger.tasks) {
      if (ledger.trimmed.has(t.id)) continue; // finished and trimmed by retention (checked when it happened)
      const tasks = c.node(i).tasks;
      // A task in the cluster-wide table (submitted while tasks were not sharded) belongs on every
      // node; one in a shard (more voters than RF) on the replicas of its agent only.
      if (inClusterTable.get(t.id)) {
        if (!tasks.table.get(t.id)) throw new Violation('lost-task', `acknowledged task ${t.id} (submitted via n${t.via}) is missing from n${i}'s cluster-wide task table`, at);
      } else if (!tasks.find(t.id) && tasks.holdsTasksOf(t.agent)) {
        throw new Violation('lost-task', `acknowledged task ${t.id} (submitted via n${t.via}, agent ${t.agent}) is missing from n${i}'s task tables (n${i} holds the tasks of ${t.agent})`, at);
      }
    }
  }
  // No task with two results: every replica derives the same outcome for every task.
  const first = all[0];
  if (first === undefined) return;
  const outcome = (i: number) =>
    new Map(
      c
        .node(i)
        .tasks.list()
        .map((t) => [t.id, JSON.stringify({ status: t.status, node: t.status === 'done' || t.status === 'failed' ? t.node : null, result: t.result, error: t.error })]),
    );
  const ref = outcome(first);
  for (const i of all.slice(1)) {
    const mine = outcome(i);
    for (const [id, o] of ref) {
      const other = mine.get(id);
      if (other !== undefined && other !== o) throw new Violation('task-results', `task ${id} has two results: n${first} shows ${o}, n${i} shows ${other}`, at);
    }
  }
}
