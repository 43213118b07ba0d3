// The words and counts of a gate verdict (split out of quorum-gate.ts): why a node that does not
// vote is read-only, the QuorumError a read-only node refuses a write with, and how many of a set
// of names a configuration lists. Pure.
import { QuorumError } from '../errors.js';
import type { WritableVerdict } from './rules.js';

/** Why this node does not vote on configuration `epoch` (its verdict's reason while read-only). */
export function notVotingReason(o: { listed: boolean; fenced: boolean; epoch: number; removed: boolean; nodeId: string | undefined }): string {
  const { epoch } = o;
  if (o.listed) {
    return o.fenced
      ? `lost its saved voter record, so it does not vote under its entry of configuration ${epoch} until it is removed and admitted again`
      : `restarted with another data directory (node id ${o.nodeId}) than its entry of configuration ${epoch} lists, and waits to be admitted in its place`;
  }
  if (epoch === 0) return 'holds no voter configuration yet (it has not joined a cluster)';
  return o.removed
    ? `was removed from the voter set (configuration ${epoch}) and waits for a writable side to admit it again`
    : `is not a voter yet (waiting for admission to configuration ${epoch + 1}); it replicates data meanwhile`;
}

/** The refusal of a write on a read-only node (nothing applied). */
export function readOnlyError(v: WritableVerdict): QuorumError {
  return new QuorumError(
    `this node is read-only: it ${v.reason}. Writes resume when the partition heals or failed members are removed; reads still work. ${QuorumError.counts(v.reachable, v.total)}`,
    { reachable: v.reachable, voters: v.total },
  );
}

/** How many of `names` are keys of `listed` (the voters of a configuration). */
export function countListed(names: ReadonlySet<string>, listed: ReadonlyMap<string, unknown>): number {
  let count = 0;
  if (names.size <= listed.size) {
    for (const n of names) if (listed.has(n)) count++;
  } else {
    for (const n of listed.keys()) if (names.has(n)) count++;
  }
  return count;
}
