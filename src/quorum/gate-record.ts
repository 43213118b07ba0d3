// The quorum gate's persisted record: the committed voter configuration and the Paxos acceptor
// state (the highest ballot promised, the value accepted). Reads this version's record and
// migrates the previous version's (implicit voters) to an explicit configuration.
import type { Role } from '../vocabulary.js';
import { parseBallot, parseVoterConfig, type Ballot, type Voter, type VoterConfig } from './voter-config.js';

/** The persisted record: this version's, and the fields of the previous one (migrated on load). */
interface Persisted {
  config?: unknown;
  promised?: Ballot;
  accepted?: { ballot: Ballot; config: unknown };
  /** The record was lost once: this node does not vote under its entry (QuorumGate.fenced). */
  fenced?: boolean;
  /** Previous version: voters seen (implicit voters), by name, with roles; never ourselves. */
  known?: Record<string, Role>;
  /** Previous version: names removed from the voter set, and the configuration's epoch and id. */
  removed?: string[];
  epoch?: number;
  id?: string;
}

/** What the gate keeps on disk. */
export interface GateState {
  config: VoterConfig | undefined;
  promised: Ballot | undefined;
  accepted: { ballot: Ballot; config: VoterConfig } | undefined;
  fenced?: boolean;
  /** Set when the record was the previous version's: the gate logs it and saves the new form. */
  migrated?: { epoch: number; voters: number };
}

/**
 * Reads a saved record (`json` as saved; undefined or 'null' when none) into `out`, field by field.
 * Throws on an unreadable part, leaving what was read before it in `out`: the caller keeps that
 * and relearns the rest from the cluster.
 */
export function readGateRecord(json: string | undefined, self: string, selfRole: Role, out: GateState): void {
  const saved = JSON.parse(json ?? 'null') as Persisted | null;
  if (saved?.config !== undefined) {
    out.config = parseVoterConfig(saved.config, 'saved voter config');
    if (saved.accepted) out.accepted = { ballot: parseBallot(saved.accepted.ballot, 'saved ballot'), config: parseVoterConfig(saved.accepted.config, 'saved accepted config') };
  } else if (saved) {
    migrate(saved, self, selfRole, out);
  }
  if (saved?.promised) out.promised = parseBallot(saved.promised, 'saved ballot');
  if (saved?.fenced === true) out.fenced = true;
}

/** The record to save for `state`. */
export function gateRecordJson(state: { config: VoterConfig; promised: Ballot | undefined; accepted: { ballot: Ballot; config: VoterConfig } | undefined; fenced?: boolean }): string {
  const rec: Persisted = { config: state.config, ...(state.promised ? { promised: state.promised } : {}), ...(state.accepted ? { accepted: state.accepted } : {}), ...(state.fenced ? { fenced: true } : {}) };
  return JSON.stringify(rec);
}

/**
 * A record of the previous version, where members became voters implicitly: its known voters
 * (which it kept with their roles, removed ones included) less the removed ones, plus ourselves
 * unless removed, become an explicit list, one epoch up (every node of a cluster migrates alike,
 * so equal old epochs stay equal). A value it had accepted for the next epoch stays pending, as
 * the same change of that list; a ballot it promised stays promised.
 */
function migrate(saved: Persisted, self: string, selfRole: Role, out: GateState): void {
  const known = new Map<string, Role>(Object.entries(saved.known ?? {}).filter(([n]) => n !== self));
  const old = parseVoterConfig({ epoch: 1, id: '', voters: [{ name: self, role: selfRole }], removed: saved.removed ?? [] }, 'saved voter config');
  const listFor = (removed: readonly string[]): Voter[] => {
    const list = new Map<string, Role>([...known, [self, selfRole]]);
    for (const n of removed) list.delete(n);
    return [...list].map(([name, role]) => ({ name, role }));
  };
  const epoch = (typeof saved.epoch === 'number' && Number.isSafeInteger(saved.epoch) && saved.epoch >= 0 ? saved.epoch : 0) + 1;
  const voters = listFor(old.removed);
  if (voters.length === 0) return;
  out.config = parseVoterConfig({ epoch, id: `${epoch}/migrated${saved.id ? `/${saved.id}` : ''}`.slice(0, 200), voters, removed: old.removed }, 'migrated voter config');
  const acc = saved.accepted?.config as { removed?: unknown; id?: unknown } | undefined;
  if (saved.accepted && acc && Array.isArray(acc.removed)) {
    const removed = acc.removed.filter((n): n is string => typeof n === 'string');
    const next = listFor(removed);
    if (next.length > 0) {
      const config = parseVoterConfig({ epoch: epoch + 1, id: `${epoch + 1}/migrated`, voters: next, removed }, 'migrated accepted config');
      out.accepted = { ballot: parseBallot(saved.accepted.ballot, 'saved ballot'), config };
    }
  }
  out.migrated = { epoch, voters: voters.length };
}
