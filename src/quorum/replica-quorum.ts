// The quorum of one replica set (src/placement/replica-scope.ts): a write to an agent's memory is
// acknowledged once a strict majority of that agent's replica set stored it durably, counting the
// writer itself only when it is one of the replicas. The cluster-level rule (a node that cannot
// reach a majority of the voters is read-only) is checked before this and is unchanged.
// Replica sets have an odd size whenever they are enforced (an odd factor below the voter count),
// so there is no exact half and no tiebreaker here. Pure: names in, plans and errors out.
import { QuorumError } from '../errors.js';
import { majority, type AckPlan } from './rules.js';

/** What a write to a document on `replicas` needs: acks of the other replicas making a strict majority. */
export function replicaAckPlan(self: string, replicas: readonly string[]): AckPlan {
  const total = replicas.length;
  const selfIn = replicas.includes(self);
  const voters = new Set(replicas.filter((r) => r !== self));
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
 * Throws QuorumError, before anything is applied, when no majority of `replicas` is reachable:
 * the write could not be acknowledged, so it fails at once rather than after the write timeout.
 */
export function assertReplicaMajority(agent: string, replicas: readonly string[], reachable: ReadonlySet<string>): void {
  const r = replicaReach(replicas, reachable);
  if (2 * r.reachable > r.total) return;
  throw new QuorumError(
    `the replica set of agent ${agent} (${replicas.join(', ')}) has no reachable majority: this node reaches ${r.reachable} of its ${r.total} replicas, and a write needs more than half of them; nothing was written. Writes to this agent resume when its replicas are reachable again or the voter set changes. ${QuorumError.replicaSet(replicas)} ${QuorumError.counts(r.reachable, r.total)}`,
    { reachable: r.reachable, voters: r.total, replicas: [...replicas] },
  );
}

/**
 * Which replicas a read here must merge from before it sees every acknowledged write: a strict
 * majority of the current replica set `current` and, while the document may be moving (the set
 * of the previous configuration `previous` differs), a strict majority of that one too, when it
 * can still be reached (a write acknowledged on the previous configuration sits on a majority of
 * it, or, once a holder dropped it, on a majority of the current set). This node counts for each
 * set it is in: its own copy holds every write it acknowledged there (a stray that already
 * dropped the document counts for nothing, but its content is then on a majority of the current
 * set). undefined: nothing to pull (a replica on a set that did not move).
 */
export function replicaReadPlan(
  self: string,
  current: readonly string[],
  previous: readonly string[] | undefined,
  alive: ReadonlySet<string>,
): { targets: string[]; complete: (answered: ReadonlySet<string>) => boolean } | undefined {
  const moved = previous !== undefined && (previous.length !== current.length || previous.some((n) => !current.includes(n)));
  const wasReplica = moved ? previous.includes(self) : current.includes(self);
  if (current.includes(self) && wasReplica) return undefined;
  const sets = [current];
  if (moved) {
    const reach = previous.filter((n) => n === self || alive.has(n)).length;
    if (2 * reach > previous.length) sets.push(previous); // else: lost a majority of it; the current set is all there is
  }
  const targets = [...new Set(sets.flat())].filter((n) => n !== self && alive.has(n));
  const complete = (answered: ReadonlySet<string>): boolean =>
    sets.every((set) => {
      let n = set.includes(self) ? 1 : 0;
      for (const r of set) if (r !== self && answered.has(r)) n++;
      return 2 * n > set.length;
    });
  return { targets, complete };
}
