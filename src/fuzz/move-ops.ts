// Carries out the replica-set steps of a fuzz run (schedule.ts MoveOp) on the scenario's cluster:
// leaves, wiped restarts, a second change before a move finished, a crash of a minority of one
// replica set mid-move, a partition through a replica set, reads. The scenario owns the cluster
// and its bookkeeping; this file gets what it needs through MoveContext.
import { placementOf } from '../placement/index.js';
import type { SimCluster } from '../sim/cluster-sim.js';
import { AGENTS, type MoveOp, type TimedMove } from './schedule.js';
import { wipeKeepsQuorum, wipeKeepsReplicaData } from './wipe-guard.js';

export interface MoveContext {
  c: SimCluster;
  /** Running (not down, not paused). */
  up(i: number): boolean;
  /** Whether one more node may go down (at most a minority down at once). */
  mayTakeDown(): boolean;
  /** Adds a member via `via` (undefined when the run's joins are spent or `via` is not up). */
  join(via: number): number | undefined;
  crash(i: number): void;
  restart(i: number): void;
  /** Partitions by node index (members added by joins follow the node they joined via). */
  partition(sides: number[]): void;
  heal(): void;
  read(i: number, agent: number): void;
  /** Node i's data directory is about to be wiped. */
  wiped(i: number): void;
  /** Whether wipe steps wipe (else a plain crash and restart; ScenarioConfig.wipedRestarts, default true). */
  wipes: boolean;
  /** Counts a leave; `exited` settles when node i has left (it runs and drains until then). */
  left(i: number, exited: Promise<void>): void;
}

/** The agents the workload writes to (their replica sets count for the wipe guard before any node holds them). */
const AGENT_KEYS = Array.from({ length: AGENTS }, (_, a) => `agent-${a}`);

export class MoveRunner {
  private readonly pending: TimedMove[];
  /** Nodes leaving gracefully: true once the leave settled (the node may restart). */
  private readonly leaving = new Map<number, boolean>();
  /** Set at the last heal: timers of earlier steps then do nothing. */
  private done = false;
  /** Names of the nodes whose data directory this run wiped. */
  private readonly wipedNames = new Set<string>();

  constructor(
    moves: readonly TimedMove[],
    private readonly x: MoveContext,
  ) {
    this.pending = [...moves].sort((a, b) => a.atMs - b.atMs);
  }

  /** Carries out the moves due at `elapsedMs` (virtual ms since the cluster formed). */
  due(elapsedMs: number): void {
    while (!this.done && this.pending.length > 0 && this.pending[0]!.atMs <= elapsedMs) this.apply(this.pending.shift()!.op);
  }

  /** The last heal: no more moves; true for nodes that may be restarted now. */
  finish(): void {
    this.done = true;
  }

  /** Whether down node i may be restarted (a leave still draining may not). */
  restartable(i: number): boolean {
    return this.leaving.get(i) ?? true;
  }

  private apply(op: MoveOp): void {
    const { c, x } = { c: this.x.c, x: this.x };
    switch (op.kind) {
      case 'leave':
        this.leave(op.node);
        break;
      case 'wipe': {
        if (!x.up(op.node) || !x.mayTakeDown()) break;
        // A wipe that would leave no writable set of surviving voters, or a replica set with a
        // majority of its members wiped, is a plain crash (wipe-guard.ts).
        const wipe = x.wipes && wipeKeepsQuorum(c, op.node) && wipeKeepsReplicaData(c, op.node, this.wipedNames, AGENT_KEYS);
        x.crash(op.node);
        if (wipe) {
          this.wipedNames.add(c.node(op.node).name);
          x.wiped(op.node);
          c.wipe(op.node);
        }
        this.later(op.ms, () => {
          if (c.isDown(op.node) && this.restartable(op.node)) x.restart(op.node);
        });
        break;
      }
      case 'churn':
        x.join(op.via);
        this.later(op.gapMs, () => this.leave(op.node));
        break;
      case 'move-crash':
        x.join(op.via);
        this.later(op.delayMs, () => {
          const set = this.replicaSet(op.agent);
          // A minority of the set: at most (|set| - 1) / 2 of its members, within the cluster's limit.
          let budget = Math.floor((set.length - 1) / 2);
          for (const i of set) {
            if (budget <= 0 || !x.mayTakeDown()) break;
            if (!x.up(i)) continue;
            x.crash(i);
            budget--;
          }
        });
        break;
      case 'split-set': {
        const set = this.replicaSet(op.agent);
        if (set.length < 2) break;
        const sides = Array.from({ length: c.size }, (_, i) => op.sides[i] ?? 0);
        // Members of the set on both sides: the first member on the side its peers are not.
        if (set.every((i) => sides[i] === sides[set[0]!])) sides[set[0]!] = 1 - sides[set[0]!]!;
        x.partition(sides);
        this.later(op.ms, () => x.heal());
        break;
      }
      case 'read':
        if (x.up(op.node)) x.read(op.node, op.agent);
        break;
    }
  }

  private leave(i: number): void {
    const { c, x } = { c: this.x.c, x: this.x };
    if (i >= c.size || !x.up(i) || !x.mayTakeDown()) return;
    this.leaving.set(i, false);
    const exited = c.leave(i);
    x.left(i, exited);
    exited.then(
      () => this.leaving.set(i, true),
      () => this.leaving.set(i, true),
    );
  }

  /** Agent `agent`'s replica set (node indices) on the configuration of the first running node. */
  private replicaSet(agent: number): number[] {
    const c = this.x.c;
    const first = c.live().find((i) => this.x.up(i));
    if (first === undefined) return [];
    const names = placementOf(c.node(first).gate.voterConfig()).replicas(`agent-${agent}`);
    return names.map((n) => c.nodes.findIndex((node) => node.name === n)).filter((i) => i >= 0);
  }

  private later(ms: number, fn: () => void): void {
    this.x.c.world.schedule(ms, () => {
      if (!this.done) fn();
    });
  }
}
