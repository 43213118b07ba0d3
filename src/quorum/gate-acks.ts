// Which acknowledgements complete a write at the cluster level, and which count at all: pure
// rules the quorum gate applies to its configuration (split out of quorum-gate.ts).
import { jointConfigPlan } from './joint-config.js';
import { majority, type AckPlan, type WritableVerdict } from './rules.js';
import { configWord, type VoterConfig } from './voter-config.js';

/**
 * The voters' plan: how many acknowledgements besides our own a write needs, and when a set of
 * them completes it. A write needs the same kind of quorum that makes a side writable: a majority
 * of voters, or, while this side is writable only as exactly half holding the tiebreaker, that
 * half (two such quorums always intersect; without this a 2+2 split left the tiebreaker's side
 * writable but unable to acknowledge anything until downing shrank the voter set). `stale`
 * entries (another incarnation runs under the name) count in the total, never as acks. While
 * `proposed` is pending, a writable set of its voters too (joint-config.ts).
 */
export function voterAckPlan(self: string, listed: Iterable<string>, stale: ReadonlySet<string>, v: WritableVerdict, proposed: VoterConfig | undefined): AckPlan {
  const names = new Set(listed);
  const total = names.size;
  for (const n of stale) names.delete(n);
  const selfVotes = names.has(self);
  const byTiebreaker = v.writable && 2 * v.reachable === v.total && v.tiebreaker !== undefined;
  const quorumSize = byTiebreaker ? total / 2 : majority(total);
  const complete = (acks: ReadonlySet<string>): boolean => {
    let n = selfVotes ? 1 : 0;
    for (const a of acks) if (a !== self && names.has(a)) n++;
    return 2 * n > total || (byTiebreaker && 2 * n === total && (acks.has(v.tiebreaker!) || v.tiebreaker === self));
  };
  const plan = { voters: names, needed: Math.max(0, quorumSize - (selfVotes ? 1 : 0)), complete };
  return proposed ? jointConfigPlan(self, plan, proposed) : plan;
}

/**
 * Whether an ack carrying `word` counts for a node on `epoch` (holding a proposal when `joint`):
 * only from members on that configuration, or pending on the one before (which can only end on
 * ours), and while we hold a proposal, members pending on it like us (joint plans).
 */
export function acksCount(epoch: number, joint: boolean, word: number): boolean {
  const own = configWord(epoch, false);
  return word === own || (epoch > 0 && word === own - 1) || (joint && word === own + 1);
}

/** What ackWordOf reads of the gate. */
export interface AckWordSource {
  word(): number;
  /** Whether `name` votes on our configuration (ourselves: under our own node id, not fenced). */
  isVoter(name: string): boolean;
  voterConfig(): VoterConfig;
}

/**
 * The word this node's write acknowledgements carry. Its configuration word, except while it is
 * listed under an entry it may not vote as (its data directory was wiped or restored: the entry
 * names another node id; or its voter record is unreadable and it is fenced): then 0, which counts
 * on no configuration past the first, so a writer that has not yet seen this incarnation's node id
 * in gossip still cannot count the reborn node's ack as the old entry's (the old one held data
 * this one does not). An unlisted member (a learner catching up) is in no ack plan anyway.
 */
export function ackWordOf(gate: AckWordSource, self: string): number {
  if (gate.isVoter(self)) return gate.word();
  return gate.voterConfig().voters.some((v) => v.name === self) ? 0 : gate.word();
}
