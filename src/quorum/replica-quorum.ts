// The quorum of one replica set (src/placement/replica-scope.ts): a write to an agent's memory is
// acknowledged once a strict majority of that agent's replica set stored it durably, counting the
// writer itself only when it is one of the replicas. The cluster-level rule (a node that cannot
// reach a majority of the voters is read-only) is checked before this and is unchanged.
// Replica sets have an odd size whenever they are enforced (an odd factor below the voter count),
// so there is no exact half and no tiebreaker here. Pure: names in, plans and errors out.
import { QuorumError } from '../errors.js';
import { majority, type AckPlan } from './rules.js';

/**
 * What a write to a document on `replicas` needs: acks of the other replicas making a strict
 * majority. `stale` replicas (a voter entry another incarnation now runs under: a wiped data
 * directory, src/quorum/voter-identity.ts) count in the total, never as acks.
 */
export function replicaAckPlan(self: string, replicas: readonly string[], stale?: ReadonlySet<string>): AckPlan {
  const total = replicas.length;
  const selfIn = replicas.includes(self) && !stale?.has(self);
  const voters = new Set(replicas.filter((r) => r !== self && !stale?.has(r)));
  return {
    voters,
    needed: Math.max(0, majority(total) - (selfIn ? 1 : 0)),
    complete: (acks) => {
      let n = selfIn ? 1 : 0;
      for (const a of acks) if (voters.has(a)) n++;
      return 2 * n > total;
    },
  };
}

/** How many of `replicas` this node counts as reachable (`reachable`: reachable voters on its configuration, itself included). */
export function replicaReach(replicas: readonly string[], reachable: ReadonlySet<string>): { reachable: number; total: number } {
  let n = 0;
  for (const r of replicas) if (reachable.has(r)) n++;
  return { reachable: n, total: replicas.length };
}

/**
 * Which replicas a read here must merge from before it sees every acknowledged write: a strict
 * majority of the current replica set `current` and, while the document may be moving (a
 * `previous` set of an unfinished move differs), a strict majority of each such set that can
 * still be reached (a write acknowledged on a previous configuration sits on a majority of it,
 * or, once a holder dropped it, on a majority of the current set). This node counts for each set
 * it is in: its own copy holds every write it acknowledged there. undefined: nothing to pull (a
 * replica on a set that did not move, at consistency `local`). `force` (consistency `majority`):
 * a replica merges from a majority of its set too.
 */
export function replicaReadPlan(
  self: string,
  current: readonly string[],
  previous: ReadonlyArray<readonly string[]> | readonly string[] | undefined,
  alive: ReadonlySet<string>,
  force = false,
): { targets: string[]; complete: (answered: ReadonlySet<string>) => boolean } | undefined {
  const list: ReadonlyArray<readonly string[]> = previous === undefined ? [] : typeof previous[0] === 'string' ? [previous as readonly string[]] : (previous as ReadonlyArray<readonly string[]>);
  const moved = list.filter((p) => p.length !== current.length || p.some((n) => !current.includes(n)));
  if (!force && current.includes(self) && moved.every((p) => p.includes(self))) return undefined;
  const sets = [current];
  for (const p of moved) {
    const reach = p.filter((n) => n === self || alive.has(n)).length;
    if (2 * reach > p.length) sets.push(p); // else: lost a majority of it; the current set is all there is
  }
  const targets = [...new Set(sets.flat())].filter((n) => n !== self && alive.has(n));
  const complete = (answered: ReadonlySet<string>): boolean => sets.every((set) => hasMajority(self, set, answered));
  return { targets, complete };
}

/** Write consistency levels: `majority` (a strict majority of the replica set, the default) or `all` (every replica). */
export const WRITE_LEVELS = ['majority', 'all'] as const;
export type WriteConsistency = (typeof WRITE_LEVELS)[number];
/** Read consistency levels: `local` (what this node holds, the default) or `majority` (merge from a majority of the replica set first). */
export const READ_LEVELS = ['local', 'majority'] as const;
export type ReadConsistency = (typeof READ_LEVELS)[number];

/** A replica set a write must reach, and which one it is (the current set, or one it is moving from). */
export interface QuorumSet {
  replicas: readonly string[];
  /** The configuration the set is of; `previous`: a set the document is moving from (its move not yet complete). */
  epoch: number;
  role: 'current' | 'previous';
}

/** Strict majority of `set`, counting `self` when it is in the set. */
function hasMajority(self: string, set: readonly string[], acks: ReadonlySet<string>): boolean {
  let n = 0;
  for (const r of set) if (r === self || acks.has(r)) n++;
  return 2 * n > set.length;
}

/**
 * A joint plan: `base` (the current set's plan: a replica majority, every replica, or the voters')
 * and a strict majority of each previous set the document is still moving from. The write
 * completes only when every part does; any acker of any part is a voter of the plan.
 * `completed`: the move completed meanwhile (a majority of the current set acknowledged the whole
 * document, this write included, after merging the previous sets' majorities): the base suffices.
 */
export function jointAckPlan(self: string, base: AckPlan, previous: readonly QuorumSet[], completed?: () => boolean): AckPlan {
  if (previous.length === 0) return base;
  const voters = new Set(base.voters);
  let needed = base.needed;
  for (const p of previous) {
    for (const r of p.replicas) if (r !== self) voters.add(r);
    needed = Math.max(needed, majority(p.replicas.length) - (p.replicas.includes(self) ? 1 : 0));
  }
  return { voters, needed, complete: (acks) => base.complete(acks) && (completed?.() === true || previous.every((p) => hasMajority(self, p.replicas, acks))) };
}

/** What a write at consistency `all` needs of `replicas`: an ack from every replica but the writer. */
export function allAckPlan(self: string, replicas: readonly string[]): AckPlan {
  const voters = new Set(replicas.filter((r) => r !== self));
  return { voters, needed: voters.size, complete: (acks) => [...voters].every((v) => acks.has(v)) };
}

/**
 * QuorumError, before anything is applied, naming the first set a write cannot reach: the current
 * replica set without a reachable majority (or, at `all`, with any replica unreachable), or a
 * previous set it is still moving from without a reachable majority (joint quorum during a move).
 */
export function assertSetsReachable(agent: string, sets: readonly QuorumSet[], reachable: ReadonlySet<string>, level: WriteConsistency = 'majority'): void {
  for (const s of sets) {
    const r = replicaReach(s.replicas, reachable);
    const all = level === 'all' && s.role === 'current';
    if (all ? r.reachable === r.total : 2 * r.reachable > r.total) continue;
    const names = s.replicas.join(', ');
    const what =
      s.role === 'previous'
        ? `agent ${agent} is moving from its previous replica set (${names}, configuration ${s.epoch}), which has no reachable majority: while a move is incomplete a write needs a majority of the old set and of the new one`
        : all
          ? `the replica set of agent ${agent} (${names}) is not all reachable, and consistency 'all' needs every replica`
          : `the replica set of agent ${agent} (${names}) has no reachable majority`;
    const needs = all ? '' : ', and a write needs more than half of them';
    throw new QuorumError(
      `${what}: this node reaches ${r.reachable} of its ${r.total} replicas${needs}; nothing was written. Writes to this agent resume when its replicas are reachable again or the voter set changes. ${QuorumError.replicaSet(s.replicas)} ${QuorumError.counts(r.reachable, r.total)}`,
      { reachable: r.reachable, voters: r.total, replicas: [...s.replicas] },
    );
  }
}

/** QuorumError, before anything is applied, when no majority of `replicas` (the current set) is reachable. */
export function assertReplicaMajority(agent: string, replicas: readonly string[], reachable: ReadonlySet<string>): void {
  assertSetsReachable(agent, [{ replicas, epoch: 0, role: 'current' }], reachable);
}
