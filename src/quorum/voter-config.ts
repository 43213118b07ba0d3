// Voter-set configurations with epochs: which members are removed from the voter set, as a
// numbered chain every node agrees on. Without it each side of a partition kept its own idea of
// who was removed, and a side that had removed two of five voters (leaving three) could be
// writable with two of those three while the two removed members plus one of the three, still on
// the old five-voter set, were writable too (`tri fuzz --seed 77 --nodes 5`, run 17).
//
// The rules (enforced by QuorumGate, carried over RPC by src/node/voter-config-sync.ts):
//   - every node holds one committed configuration {epoch, removed} and advertises it in its
//     member metadata as a "config word": 2 * epoch, plus 1 while it holds a proposal pending;
//   - a node counts a voter as reachable only if that voter advertises the same committed word,
//     so nodes on different epochs never add up to a quorum together;
//   - the next configuration (epoch + 1: downing or reinstating members) is chosen by
//     single-decree Paxos among the members on epoch e, where a quorum is a writable set of the
//     epoch-e voters (a majority, or exactly half with the tiebreaker: any two intersect). So
//     concurrent proposers (several nodes notice the same failure at once) cannot choose two
//     different configurations, and a proposer that dies half way cannot block the others;
//   - a member that accepted a value (Paxos phase 2) is pending from then on: it counts for nobody
//     and is not writable until it learns the outcome. A value is chosen only once a writable set
//     of epoch-e voters accepted it, so from then on fewer than a writable set remains on epoch e:
//     the old and the new configuration can never both have a writable group, whatever their
//     sizes (removing two of five voters at once is safe);
//   - a node that sees a member advertise a higher committed epoch fetches and adopts it; a
//     pending node re-runs Paxos for its epoch (after a pause) until a value is chosen.
// Membership growth (a new member becoming a voter) and graceful leaves stay implicit, as before.
import { DecodeError } from '../errors.js';

export interface VoterConfig {
  epoch: number;
  /** Names removed from the voter set, sorted. */
  removed: string[];
  /** The proposal that made this configuration ("" for the initial one). */
  id: string;
}

export const INITIAL_CONFIG: VoterConfig = { epoch: 0, removed: [], id: '' };

/** The metadata word of a node: its committed epoch, odd while it holds a proposal pending. */
export function configWord(epoch: number, pending: boolean): number {
  return 2 * epoch + (pending ? 1 : 0);
}

/** The committed epoch a metadata word advertises (a pending node advertises its old epoch, odd). */
export function epochOfWord(word: number): number {
  return Math.floor(word / 2);
}

const MAX_REMOVED = 1024;
const MAX_NAME = 128;
const MAX_ID = 200;
const MAX_EPOCH = 2 ** 40;

/** Validates a configuration received from the network: anything malformed is a DecodeError. */
export function parseVoterConfig(value: unknown, what: string): VoterConfig {
  if (typeof value !== 'object' || value === null) throw new DecodeError(`${what}: not an object`);
  const v = value as Record<string, unknown>;
  const epoch = v.epoch;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new DecodeError(`${what}: bad epoch`);
  if (typeof v.id !== 'string' || v.id.length > MAX_ID) throw new DecodeError(`${what}: bad id`);
  if (!Array.isArray(v.removed) || v.removed.length > MAX_REMOVED) throw new DecodeError(`${what}: bad removed list`);
  const removed: string[] = [];
  for (const n of v.removed) {
    if (typeof n !== 'string' || n.length === 0 || n.length > MAX_NAME) throw new DecodeError(`${what}: bad member name in removed list`);
    removed.push(n);
  }
  return { epoch, id: v.id, removed: [...new Set(removed)].sort() };
}

/** The configuration that removes `down` and reinstates `back`, proposed by `proposer` for the next epoch. */
export function nextConfig(current: VoterConfig, proposer: string, down: readonly string[], back: readonly string[]): VoterConfig {
  const removed = new Set(current.removed);
  for (const n of down) removed.add(n);
  for (const n of back) removed.delete(n);
  const epoch = current.epoch + 1;
  return { epoch, removed: [...removed].sort(), id: `${epoch}/${proposer}` };
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
