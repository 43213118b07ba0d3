// The offline escape hatch for a cluster whose voters are gone for good (Consul's peers.json
// recovery, etcd's --force-new-cluster): rewrite one stopped node's saved voter configuration to
// list only the given voters, one epoch above anything it saved, with no round in progress.
// Restarted, that node is writable with those voters alone, and the others adopt its higher
// configuration when they meet it. What it cannot bring back: writes that only the lost voters
// acknowledged (a majority can be the lost ones); they are gone with them.
import { DecodeError, UsageError } from '../errors.js';
import { parseVoterConfig, type VoterConfig } from './voter-config.js';

export interface ForcedVoters {
  /** The record to save in place of the old one. */
  record: string;
  before: VoterConfig;
  after: VoterConfig;
  /** Voters of `before` that `after` drops. */
  dropped: string[];
}

/** `saved` is the node's persisted quorum record (kv "quorum/voters"); `keep` the names to keep. */
export function forceVoters(saved: string | undefined, keep: readonly string[]): ForcedVoters {
  if (!saved) throw new UsageError('this data directory holds no voter configuration (a node that never joined a cluster); nothing to recover');
  let rec: { config?: unknown; accepted?: { config?: unknown }; promised?: { round?: unknown } };
  let before: VoterConfig;
  try {
    rec = JSON.parse(saved) as typeof rec;
    before = parseVoterConfig(rec.config, 'saved voter configuration');
  } catch (err) {
    throw new UsageError(`the saved voter configuration does not parse (${(err as Error).message}); this tool cannot repair it`, { cause: err instanceof DecodeError ? undefined : err });
  }
  const wanted = [...new Set(keep)];
  if (wanted.length === 0) throw new UsageError('--voters needs at least one name');
  const unknown = wanted.filter((n) => !before.voters.some((v) => v.name === n));
  if (unknown.length) {
    throw new UsageError(`${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a voter of configuration ${before.epoch} (voters: ${before.voters.map((v) => v.name).join(', ')}); only voters can be kept`);
  }
  // Above the saved configuration and any value accepted for a later one, so no old round wins.
  let pendingEpoch = 0;
  try {
    if (rec.accepted?.config !== undefined) pendingEpoch = parseVoterConfig(rec.accepted.config, 'accepted').epoch;
  } catch {
    // an unreadable pending value is dropped below anyway
  }
  const epoch = Math.max(before.epoch, pendingEpoch) + 1;
  const dropped = before.voters.filter((v) => !wanted.includes(v.name)).map((v) => v.name);
  const after: VoterConfig = {
    epoch,
    voters: before.voters.filter((v) => wanted.includes(v.name)),
    removed: [...new Set([...before.removed, ...dropped])].sort(),
    id: `${epoch}/forced`,
    replicationFactor: before.replicationFactor,
  };
  return { record: JSON.stringify({ config: after }), before, after, dropped };
}
