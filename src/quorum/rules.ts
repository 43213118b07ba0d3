// The quorum rules (README "Guarantees"), as pure functions so both halves of a partition provably
// compute the same answer from the same voter set, and so they table-test. Which members are
// voters is decided by the numbered voter configuration (voter-config.ts): the gate counts its
// list with countedVerdict(), and voter-config.ts names the tiebreaker (configTiebreaker).

/** Acknowledgements (the writer's own included) a write needs: a strict majority of voters. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** What a write needs of the voters (QuorumGate.ackPlan) or of a replica set (replica-quorum.ts). */
export interface AckPlan {
  voters: Set<string>;
  needed: number;
  /** Whether these acknowledgements (besides our own) make the write's quorum. */
  complete: (acks: ReadonlySet<string>) => boolean;
}

export interface WritableVerdict {
  writable: boolean;
  reachable: number;
  total: number;
  tiebreaker: string | undefined;
  /** Why, in words an operator can act on. */
  reason: string;
}

/**
 * The verdict from counts: `count` of `total` voters reachable, `tiebreaker` the set's tiebreaker
 * and `tiebreakerReached` whether it is among the reachable ones.
 */
export function countedVerdict(total: number, count: number, tiebreaker: string | undefined, tiebreakerReached: boolean): WritableVerdict {
  const tb = tiebreaker;
  if (total === 0) return { writable: false, reachable: 0, total, tiebreaker: tb, reason: 'no voters yet (the node has not joined)' };
  if (2 * count > total) return { writable: true, reachable: count, total, tiebreaker: tb, reason: `reaches ${count} of ${total} voters (a majority)` };
  if (2 * count === total && tb !== undefined && tiebreakerReached) {
    return { writable: true, reachable: count, total, tiebreaker: tb, reason: `reaches exactly half (${count} of ${total}) including the tiebreaker ${tb}` };
  }
  return {
    writable: false,
    reachable: count,
    total,
    tiebreaker: tb,
    reason: `reaches ${count} of ${total} voters; writes need more than half (or exactly half with the tiebreaker ${tb ?? 'none'})`,
  };
}
