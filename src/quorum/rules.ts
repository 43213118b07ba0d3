// The quorum rules of DESIGN.md "Quorum and split brain", as pure functions so both halves of a
// partition provably compute the same answer from the same voter set, and so they table-test.
// Which members are voters is decided by the numbered voter configuration (voter-config.ts): the
// gate counts its list with countedVerdict(). isVoter()/voters()/writableVerdict() state the rule
// over a member table (who may vote at all: never JOINING, SYNCING, LEAVING or removed members),
// which admission follows: only caught-up (ACTIVE or DEGRADED) learners are admitted.
import type { LifecycleState } from '../node/lifecycle.js';
import type { Role } from '../node/meta.js';

export interface MemberForQuorum {
  name: string;
  role: Role;
  /** Lifecycle as this node sees the member (self-reported, or FAILED/LEFT as concluded). */
  state: LifecycleState;
  /** Removed from the voter set by the writable side after staying FAILED for stable-after. */
  removed?: boolean;
}

/**
 * Members that joined and have not left or been removed. JOINING, DISCOVERING and LEAVING do not
 * vote, and neither does SYNCING: a node still catching up does not vote until it is ACTIVE
 * (issue 5, which narrows DESIGN.md's list), so its acknowledgement never stands for data it lacks.
 */
export function isVoter(m: MemberForQuorum): boolean {
  if (m.removed) return false;
  return m.state === 'ACTIVE' || m.state === 'DEGRADED' || m.state === 'FAILED';
}

/** Sorted voter names: the one order every node uses, so tie-breaking agrees everywhere. */
export function voters(members: MemberForQuorum[]): MemberForQuorum[] {
  return members.filter(isVoter).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The tiebreaker for an exact half: the coordinator-role voter with the lowest name, or the lowest
 * name of all voters when there is no coordinator. A function of the voter set alone (never of
 * reachability), so both halves name the same member.
 */
export function tiebreaker(voterSet: MemberForQuorum[]): string | undefined {
  const sorted = voters(voterSet);
  return (sorted.find((v) => v.role === 'coordinator') ?? sorted[0])?.name;
}

/** Acknowledgements (the writer's own included) a write needs: a strict majority of voters. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
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
 * Whether this node may accept writes: it reaches more than half of the voters, or exactly half
 * and its side holds the tiebreaker. `reachable` names the voters this node can reach (itself included).
 */
export function writableVerdict(voterSet: MemberForQuorum[], reachable: ReadonlySet<string>): WritableVerdict {
  // One pass instead of voters() and tiebreaker() (two filters and two sorts): every quorum check
  // of every node runs this, over the whole member table while a large cluster forms. The
  // tiebreaker is the first coordinator, else the first voter, in voters()' name order: the
  // lowest such name.
  let total = 0;
  let count = 0;
  let lowest: string | undefined;
  let lowestCoordinator: string | undefined;
  for (const v of voterSet) {
    if (!isVoter(v)) continue;
    total++;
    if (reachable.has(v.name)) count++;
    if (lowest === undefined || v.name < lowest) lowest = v.name;
    if (v.role === 'coordinator' && (lowestCoordinator === undefined || v.name < lowestCoordinator)) lowestCoordinator = v.name;
  }
  const tb = lowestCoordinator ?? lowest;
  return countedVerdict(total, count, tb, tb !== undefined && reachable.has(tb));
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
