// Voter-set configurations with epochs: exactly which members vote, as a numbered chain every
// node agrees on. Each configuration lists its voters (with their roles, so both halves of a split
// compute the same tiebreaker: the coordinator-role voter with the lowest name, else the lowest
// name). Without the numbering each side of a partition kept its own idea of who was removed, and
// a side that had removed two of five voters (leaving three) could be writable with two of those
// three while the two removed members plus one of the three, still on the old five-voter set, were
// writable too (`tri fuzz --seed 77 --nodes 5`, run 17). And while new members became voters
// implicitly (when they turned ACTIVE) and a graceful leave dropped one, members that joined one
// side of a partition counted as voters on that side only: 5 voters split 3+2 with two joiners on
// the 2-side gave that side 4 of 7 while the 3-side held 3 of 5, two writable groups.
//
// The rules (enforced by QuorumGate, run as a protocol by reconfiguration.ts):
//   - every node holds one committed configuration {epoch, voters} and advertises it in its
//     member metadata as a "config word": 2 * epoch, plus 1 while it holds a proposal pending;
//   - the voters are exactly the configuration's list. A member that is not on it (a new member,
//     or one removed while it was away) is a learner: it replicates data, but is never counted,
//     its acknowledgements do not count, and it is not writable itself;
//   - a node counts a voter as reachable only if that voter advertises the same committed word,
//     so nodes on different epochs never add up to a quorum together;
//   - every change of the voter set (admitting learners, downing members FAILED for stable-after,
//     removing members that left) is the next configuration (epoch + 1), chosen by single-decree
//     Paxos among the members on epoch e, where a quorum is a writable set of the epoch-e voters
//     (a majority, or exactly half with the tiebreaker: any two intersect). So concurrent
//     proposers cannot choose two different configurations, a proposer that dies half way cannot
//     block the others, and a side without a writable set of the old voters cannot admit anyone:
//     members joining a minority side stay learners until the partition heals;
//   - a member that accepted a value (Paxos phase 2) is pending from then on: it counts for nobody
//     and is not writable until it learns the outcome. A value is chosen only once a writable set
//     of epoch-e voters accepted it, so from then on fewer than a writable set remains on epoch e:
//     the old and the new configuration can never both have a writable group, whatever their
//     sizes (removing two of five voters at once, or admitting five learners to two voters, is safe);
//   - a node that sees a member advertise a higher committed epoch fetches and adopts it; a
//     pending node re-runs Paxos for its epoch (after a pause) until a value is chosen;
//   - a voter entry is one incarnation: the node id of the data directory it admitted. A node
//     restarted under the name with a wiped directory forgot its promises, so it votes only once
//     admitted in place of the entry (voter-identity.ts).
// Genesis: a node that holds no configuration (epoch 0, no voters) and founds a cluster (it has
// no seed to join) creates configuration 1 with itself as the only voter; a node that joins
// fetches the cluster's configuration while it catches up and starts as a learner. Nodes that all
// joined one another, none starting alone (started together, each finding another), see nobody
// holding a configuration: after a short wait the lowest-named of them founds it (it never does
// while any member it knows, even a dead one, advertises a configuration). Two nodes that each
// founded a cluster (say, started together with --discover and found nobody) were two clusters
// before they met; when they meet, each admits the other (or adopts the other's higher epoch), as
// two clusters merging always did.
import { DecodeError } from '../errors.js';
import { ROLES, type Role } from '../vocabulary.js';
import { checkReplicationFactor, DEFAULT_REPLICATION_FACTOR } from '../placement/replication-factor.js';

export interface Voter {
  name: string;
  role: Role;
  /**
   * The node id of the data directory this entry admitted (created when the directory is first
   * initialised; a wiped directory gets a new one). Only that incarnation votes as this entry: a
   * node restarted under the name with another data directory has none of its Paxos promises
   * (an acceptor with amnesia), so it is a learner until a configuration change replaces the
   * entry (voter-identity.ts). Absent in entries made by a version before it: those match by name.
   */
  nodeId?: string;
}

export interface VoterConfig {
  epoch: number;
  /** The voters, sorted by name, names unique. */
  voters: Voter[];
  /**
   * Members removed by downing and not admitted again, sorted (shown on /status; a removed member
   * that is admitted again is told to pull a full snapshot, as it cannot know it was removed).
   */
  removed: string[];
  /** The proposal that made this configuration ("" for none). */
  id: string;
  /**
   * How many of the voters hold each agent's memory (src/placement/): cluster-wide, so every node
   * on this configuration places alike. Set by the node that founds the cluster and carried from
   * each configuration to the next; changing it is a configuration change. A configuration from a
   * node that does not send the field reads as DEFAULT_REPLICATION_FACTOR.
   */
  replicationFactor: number;
}

/** What a node holds before it founded or joined a cluster: no voters at all. */
export const EMPTY_CONFIG: VoterConfig = { epoch: 0, voters: [], removed: [], id: '', replicationFactor: DEFAULT_REPLICATION_FACTOR };

/** The first configuration of a cluster, made by the node that founds it (its replication factor holds for the cluster). */
export function genesisConfig(self: string, role: Role, replicationFactor = DEFAULT_REPLICATION_FACTOR, nodeId?: string): VoterConfig {
  return { epoch: 1, voters: [{ name: self, role, ...(nodeId ? { nodeId } : {}) }], removed: [], id: `1/${self}/genesis`, replicationFactor };
}

/** The metadata word of a node: its committed epoch, odd while it holds a proposal pending. */
export function configWord(epoch: number, pending: boolean): number {
  return 2 * epoch + (pending ? 1 : 0);
}

/** The committed epoch a metadata word advertises (a pending node advertises its old epoch, odd). */
export function epochOfWord(word: number): number {
  return Math.floor(word / 2);
}

const MAX_VOTERS = 4096;
const MAX_REMOVED = 4096;
const MAX_NAME = 128;
const MAX_ID = 200;
const MAX_EPOCH = 2 ** 40;
/** Node ids are 16 hex digits today; room for other forms, bounded. */
const MAX_NODE_ID = 64;

const byName = (a: Voter, b: Voter): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function parseName(n: unknown, what: string, list: string): string {
  if (typeof n !== 'string' || n.length === 0 || n.length > MAX_NAME) throw new DecodeError(`${what}: bad member name in ${list}`);
  return n;
}

let plantedDropFactor = false;
/**
 * Test only (`tri fuzz --planted-bug drop-replication-factor`): decoding ignores the factor, as a
 * node of an older version would, so nodes on one epoch disagree on placement (the fuzzer must see it).
 */
export function plantDropReplicationFactorBugForTesting(on: boolean): void {
  plantedDropFactor = on;
}

/** Validates a configuration received from the network: anything malformed is a DecodeError. */
export function parseVoterConfig(value: unknown, what: string): VoterConfig {
  if (typeof value !== 'object' || value === null) throw new DecodeError(`${what}: not an object`);
  const v = value as Record<string, unknown>;
  const epoch = v.epoch;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new DecodeError(`${what}: bad epoch`);
  if (typeof v.id !== 'string' || v.id.length > MAX_ID) throw new DecodeError(`${what}: bad id`);
  if (!Array.isArray(v.voters) || v.voters.length > MAX_VOTERS) throw new DecodeError(`${what}: bad voter list`);
  if (!Array.isArray(v.removed) || v.removed.length > MAX_REMOVED) throw new DecodeError(`${what}: bad removed list`);
  const voters = new Map<string, Voter>();
  for (const x of v.voters as unknown[]) {
    if (typeof x !== 'object' || x === null) throw new DecodeError(`${what}: bad voter`);
    const { name, role, nodeId } = x as Record<string, unknown>;
    const n = parseName(name, what, 'voter list');
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new DecodeError(`${what}: bad role of voter ${n}`);
    if (voters.has(n)) throw new DecodeError(`${what}: voter ${n} listed twice`);
    if (nodeId !== undefined && (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > MAX_NODE_ID)) throw new DecodeError(`${what}: bad node id of voter ${n}`);
    voters.set(n, { name: n, role: role as Role, ...(nodeId !== undefined ? { nodeId } : {}) });
  }
  if (epoch > 0 && voters.size === 0) throw new DecodeError(`${what}: configuration ${epoch} has no voters`);
  const removed = new Set<string>();
  for (const n of v.removed as unknown[]) removed.add(parseName(n, what, 'removed list'));
  // Absent: a node of a version before replica sets sent it (wire compatible: the default applies).
  const replicationFactor = v.replicationFactor === undefined || plantedDropFactor ? DEFAULT_REPLICATION_FACTOR : v.replicationFactor;
  const badFactor = checkReplicationFactor(replicationFactor);
  if (badFactor) throw new DecodeError(`${what}: ${badFactor}`);
  return { epoch, id: v.id, voters: [...voters.values()].sort(byName), removed: [...removed].sort(), replicationFactor: replicationFactor as number };
}

/** A change of the voter set (learners admitted, members downed or that left), or of the replication factor. */
export interface VoterChange {
  admit?: readonly Voter[];
  down?: readonly string[];
  leave?: readonly string[];
  /** A new replication factor (checked by the caller: see checkReplicationFactor). */
  replicationFactor?: number;
}

/** The configuration that applies `change` to `current`, proposed by `proposer` for the next epoch. */
export function nextConfig(current: VoterConfig, proposer: string, change: VoterChange): VoterConfig {
  const voters = new Map(current.voters.map((v) => [v.name, v]));
  const removed = new Set(current.removed);
  for (const n of change.down ?? []) {
    if (voters.delete(n)) removed.add(n);
  }
  for (const n of change.leave ?? []) voters.delete(n);
  // Admitting a name that is listed under another node id replaces that entry: the new incarnation
  // of a wiped data directory takes the place of the old one, which can never answer again.
  for (const v of change.admit ?? []) {
    voters.set(v.name, { name: v.name, role: v.role, ...(v.nodeId ? { nodeId: v.nodeId } : {}) });
    removed.delete(v.name);
  }
  // The removed list is informational (status, rejoin snapshots): keep it bounded.
  const removedList = [...removed].sort().slice(0, MAX_REMOVED);
  const epoch = current.epoch + 1;
  const replicationFactor = change.replicationFactor ?? current.replicationFactor;
  return { epoch, voters: [...voters.values()].sort(byName), removed: removedList, id: `${epoch}/${proposer}`, replicationFactor };
}

/** The tiebreaker of a configuration: the coordinator-role voter with the lowest name, else the lowest name. */
export function configTiebreaker(config: VoterConfig): string | undefined {
  return (config.voters.find((v) => v.role === 'coordinator') ?? config.voters[0])?.name;
}

/** A Paxos ballot: higher round wins, the proposer's name breaks ties. */
export interface Ballot {
  round: number;
  name: string;
}

export function compareBallots(a: Ballot | undefined, b: Ballot | undefined): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function parseBallot(value: unknown, what: string): Ballot {
  if (typeof value !== 'object' || value === null) throw new DecodeError(`${what}: not an object`);
  const v = value as Record<string, unknown>;
  if (typeof v.round !== 'number' || !Number.isSafeInteger(v.round) || v.round < 0 || v.round > MAX_EPOCH) throw new DecodeError(`${what}: bad round`);
  if (typeof v.name !== 'string' || v.name.length === 0 || v.name.length > MAX_NAME) throw new DecodeError(`${what}: bad name`);
  return { round: v.round, name: v.name };
}
