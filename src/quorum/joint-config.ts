// Joint quorums while a voter-set change is being agreed: a member that accepted a proposed
// configuration does not know yet whether it will be chosen, so instead of refusing writes until
// it learns the outcome it keeps accepting them when it reaches (and, for each write, gets the
// acks of) a writable set of the committed voters AND of the proposed ones. Either outcome then
// holds the write on a quorum of the configuration that wins (the committed one, or the
// proposed one that the committed voters' quorum chose), so the writable side of a partition
// keeps writing through every change. Pure: names and counts in, verdicts and plans out.
import { countedVerdict, type AckPlan, type WritableVerdict } from './rules.js';
import { configTiebreaker, type VoterConfig } from './voter-config.js';

/** The verdict on the proposed configuration `proposed`: `reachable` names the members this node counts as reachable on its configuration. */
export function proposedVerdict(proposed: VoterConfig, reachable: (name: string) => boolean): WritableVerdict {
  let n = 0;
  for (const v of proposed.voters) if (reachable(v.name)) n++;
  const tb = configTiebreaker(proposed);
  return countedVerdict(proposed.voters.length, n, tb, tb !== undefined && reachable(tb));
}

/**
 * A write's plan while `proposed` is pending: `base` (the committed voters' plan) and a writable
 * set of the proposed voters (a strict majority, or exactly half with its tiebreaker). The
 * writer counts where it is a voter of the proposed configuration.
 */
export function jointConfigPlan(self: string, base: AckPlan, proposed: VoterConfig): AckPlan {
  const names = new Set(proposed.voters.map((v) => v.name));
  const total = names.size;
  const tb = configTiebreaker(proposed);
  const selfIn = names.has(self);
  const voters = new Set(base.voters);
  for (const n of names) if (n !== self) voters.add(n);
  const complete = (acks: ReadonlySet<string>): boolean => {
    if (!base.complete(acks)) return false;
    let n = selfIn ? 1 : 0;
    for (const a of acks) if (a !== self && names.has(a)) n++;
    return 2 * n > total || (2 * n === total && tb !== undefined && (tb === self || acks.has(tb)));
  };
  return { voters, needed: Math.max(base.needed, Math.ceil((total + 1) / 2) - (selfIn ? 1 : 0)), complete };
}
