// What one fuzz run does, as data: fault and workload steps over virtual time (DESIGN.md use 2,
// "Fuzz convergence"). fast-check generates and shrinks these; scenario.ts carries them out.
// A schedule is plain JSON, so a failure prints the shrunk one as it is.
import fc from 'fast-check';

/** Link behaviour a `link` step sets (every link, or one pair of nodes both ways). */
export interface LinkPatch {
  latencyMs: number;
  jitterMs: number;
  loss: number;
  duplicate: number;
}

export type Op =
  /** Nodes on the same side reach each other only; `sides[i]` is node i's side. */
  | { kind: 'partition'; sides: number[] }
  | { kind: 'heal' }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  /**
   * A new member (a machine never seen before) joins via node `via`, plugged in on `via`'s side of
   * any partition now and later. At most MAX_JOINS per run; none while `via` is down or paused.
   */
  | { kind: 'join'; via: number }
  /** Freezes a node (SIGSTOP) for `ms`, then resumes it. */
  | { kind: 'pause'; node: number; ms: number }
  /** Delay, jitter (reordering), loss and duplication, on every link or between two nodes. */
  | { kind: 'link'; pair: [number, number] | null; link: LinkPatch }
  /** A new episode in agent `agent`'s memory, through node `node`. */
  | { kind: 'write'; node: number; agent: number }
  /** Each listed node adds 1 to the same counter of agent `agent`'s counter episode at the same instant. */
  | { kind: 'incr'; nodes: number[]; agent: number }
  /** Submits task number `pick` of the workload through node `node`. */
  | { kind: 'task'; node: number; pick: number };

export interface Step {
  op: Op;
  /** Virtual ms to run after the op. */
  waitMs: number;
}

export interface Run {
  /** Seeds the simulated network and the nodes (node ids, link faults, Yjs client ids). */
  simSeed: number;
  steps: Step[];
  /**
   * Replica-set steps (issue 21) at their own virtual times, interleaved with `steps` (which they
   * do not shift). Generated after `steps`, so runs and replay paths of earlier versions keep
   * their steps; absent in a schedule written by an older version.
   */
  moves?: TimedMove[];
  /** After the final checks: one more member joins the quiet, converged cluster (quiet-join). */
  endJoin?: boolean;
}

/** Replica-set steps (move-ops.ts carries them out). */
export type MoveOp =
  /** Node `node` leaves gracefully (SIGTERM: drains its agents, then exits); restarted at the last heal. */
  | { kind: 'leave'; node: number }
  /** Node `node` crashes, its data directory is wiped, and it restarts after `ms` (a new node id, no data). */
  | { kind: 'wipe'; node: number; ms: number }
  /** A second change before the move of the first finished: a new member joins via `via`, and `gapMs` later `node` leaves. */
  | { kind: 'churn'; via: number; node: number; gapMs: number }
  /** A new member joins via `via`; `delayMs` later a minority of agent `agent`'s replica set crashes (mid-move). */
  | { kind: 'move-crash'; via: number; agent: number; delayMs: number }
  /** A partition through agent `agent`'s replica set (members on both sides; others by `sides`), healed after `ms`. */
  | { kind: 'split-set'; agent: number; sides: number[]; ms: number }
  /** A read of agent `agent` through node `node` (a replica or not): it must see the acknowledged writes. */
  | { kind: 'read'; node: number; agent: number };

export interface TimedMove {
  /** Virtual ms after the cluster formed. */
  atMs: number;
  op: MoveOp;
}

/** New members a run adds at most (join steps beyond that do nothing). */
export const MAX_JOINS = 3;

/** Agents (memory documents) the workload writes to. */
export const AGENTS = 3;

export function opArb(nodes: number): fc.Arbitrary<Op> {
  const node = fc.integer({ min: 0, max: nodes - 1 });
  const agent = fc.integer({ min: 0, max: AGENTS - 1 });
  const link: fc.Arbitrary<LinkPatch> = fc.record({
    latencyMs: fc.integer({ min: 0, max: 30 }),
    jitterMs: fc.integer({ min: 0, max: 30 }),
    loss: fc.constantFrom(0, 0, 0.01, 0.05, 0.2, 0.5),
    duplicate: fc.constantFrom(0, 0, 0.01, 0.05, 0.2),
  });
  const pair = fc.tuple(node, node).filter(([a, b]) => a !== b);
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('partition' as const), sides: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: nodes, maxLength: nodes }) }), weight: 2 },
    { arbitrary: fc.constant({ kind: 'heal' as const }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('crash' as const), node }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('restart' as const), node }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('join' as const), via: node }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('pause' as const), node, ms: fc.integer({ min: 100, max: 8_000 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('link' as const), pair: fc.option(pair, { nil: null }), link }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('write' as const), node, agent }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('incr' as const), nodes: fc.uniqueArray(node, { minLength: 1, maxLength: Math.min(4, nodes) }), agent }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('task' as const), node, pick: fc.nat({ max: 1_000 }) }), weight: 2 },
  );
}

export function stepArb(nodes: number): fc.Arbitrary<Step> {
  return fc.record({ op: opArb(nodes), waitMs: fc.integer({ min: 0, max: 4_000 }) });
}

export function moveArb(nodes: number): fc.Arbitrary<MoveOp> {
  const node = fc.integer({ min: 0, max: nodes - 1 });
  const agent = fc.integer({ min: 0, max: AGENTS - 1 });
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('leave' as const), node }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('wipe' as const), node, ms: fc.integer({ min: 0, max: 6_000 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('churn' as const), via: node, node, gapMs: fc.integer({ min: 0, max: 1_500 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('move-crash' as const), via: node, agent, delayMs: fc.integer({ min: 0, max: 1_500 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('split-set' as const), agent, sides: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: nodes, maxLength: nodes }), ms: fc.integer({ min: 500, max: 12_000 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('read' as const), node, agent }), weight: 4 },
  );
}

/** A whole run: a seed for the simulated world, up to `maxSteps` steps, and replica-set steps. */
export function runArb(nodes: number, maxSteps = 40): fc.Arbitrary<Run> {
  // size 'max': step counts spread over the whole range (fast-check's default favours short arrays).
  // `moves` and `endJoin` come last: fast-check draws record fields in order, so the fields before
  // them (and the replay paths into them) are what they were before replica-set steps existed.
  const moves = fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 60_000 }), op: moveArb(nodes) }), { maxLength: Math.max(1, Math.round(maxSteps / 4)), size: 'max' });
  return fc.record({ simSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }), steps: fc.array(stepArb(nodes), { minLength: 1, maxLength: maxSteps, size: 'max' }), moves, endJoin: fc.boolean() });
}

/** One line per step, with the virtual time it starts at (relative to the formed cluster). */
export function describeSchedule(run: Run): string[] {
  let t = 0;
  const lines = [`simSeed ${run.simSeed}`];
  const moves = [...(run.moves ?? [])].sort((a, b) => a.atMs - b.atMs);
  const movesUntil = (end: number) => {
    while (moves.length > 0 && moves[0]!.atMs < end) {
      const m = moves.shift()!;
      lines.push(`t=${(m.atMs / 1000).toFixed(1)}s ${describeMove(m.op)}`);
    }
  };
  for (const s of run.steps) {
    movesUntil(t);
    lines.push(`t=${(t / 1000).toFixed(1)}s ${describeOp(s.op)}; wait ${s.waitMs} ms`);
    t += s.waitMs;
  }
  movesUntil(Infinity);
  if (run.endJoin) lines.push('after the final checks: a new member joins the quiet cluster');
  return lines;
}

export function describeMove(op: MoveOp): string {
  switch (op.kind) {
    case 'leave':
      return `n${op.node} leaves gracefully`;
    case 'wipe':
      return `n${op.node} crashes, its data directory is wiped, restart after ${op.ms} ms`;
    case 'churn':
      return `a new member joins via n${op.via}, and ${op.gapMs} ms later n${op.node} leaves`;
    case 'move-crash':
      return `a new member joins via n${op.via}, and ${op.delayMs} ms later a minority of agent-${op.agent}'s replica set crashes`;
    case 'split-set':
      return `partition through agent-${op.agent}'s replica set (others by sides ${op.sides.join('')}) for ${op.ms} ms`;
    case 'read':
      return `read agent-${op.agent} via n${op.node}`;
  }
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'partition': {
      const groups = sidesToGroups(op.sides).map((g) => `{${g.map((i) => `n${i}`).join(',')}}`);
      return `partition ${groups.join(' | ')}`;
    }
    case 'heal':
      return 'heal';
    case 'crash':
    case 'restart':
      return `${op.kind} n${op.node}`;
    case 'join':
      return `a new member joins via n${op.via}`;
    case 'pause':
      return `pause n${op.node} for ${op.ms} ms`;
    case 'link':
      return `link ${op.pair ? `n${op.pair[0]}<->n${op.pair[1]}` : 'all'} latency ${op.link.latencyMs} ms jitter ${op.link.jitterMs} ms loss ${op.link.loss} duplicate ${op.link.duplicate}`;
    case 'write':
      return `write agent-${op.agent} via n${op.node}`;
    case 'incr':
      return `increment agent-${op.agent} counter via ${op.nodes.map((n) => `n${n}`).join(',')} at once`;
    case 'task':
      return `submit task #${op.pick} via n${op.node}`;
  }
}

/** Groups of node indices by side, non-empty, in side order. */
export function sidesToGroups(sides: number[]): number[][] {
  const max = Math.max(0, ...sides);
  const groups: number[][] = [];
  for (let s = 0; s <= max; s++) {
    const g = sides.flatMap((side, i) => (side === s ? [i] : []));
    if (g.length > 0) groups.push(g);
  }
  return groups;
}
