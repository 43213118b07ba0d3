// The voter-configuration messages on the wire (JSON over the RPC layer; docs/protocol.md):
//   quorum.prepare  {epoch, ballot}           -> {ok, epoch, nodeId?, accepted?: {ballot, config}}
//   quorum.accept   {epoch, ballot, config}   -> {ok, epoch, nodeId?}
// (nodeId: the acceptor's data-directory id; an answer counts only for the entry listing it.
// Configurations list each voter as {name, role, nodeId?}: voter-identity.ts.)
//   quorum.commit   {by, epoch, voters, removed, id, replicationFactor, acceptors?}   (one-way notice)
//   quorum.config   (empty)                   -> the sender's committed configuration
// Everything decoded here is validated: anything malformed is a DecodeError.
import { DecodeError } from '../errors.js';
import { fromJsonPayload } from '../rpc/json.js';
import { parseBallot, parseVoterConfig, type Ballot, type VoterConfig } from './voter-config.js';

/** A Paxos acceptor's answer as it travels. */
export interface WireAnswer {
  ok: boolean;
  epoch: number;
  /** The acceptor's node id (voter-identity.ts); absent from a version before it. */
  nodeId?: string;
  accepted?: { ballot: Ballot; config: VoterConfig };
}

/** A prepare or accept request. */
export interface WireRequest {
  epoch: number;
  ballot: Ballot;
  config?: VoterConfig;
}

/** A commit notice: a chosen (or pushed) configuration, `by` and `epoch` first (see commitHeader). */
export interface CommitNotice {
  by: string;
  epoch: number;
  voters: VoterConfig['voters'];
  removed: string[];
  id: string;
  /** Since replica sets (absent from older nodes: the default applies, see parseVoterConfig). */
  replicationFactor: number;
  acceptors?: string[];
}

/** Most acceptor names a commit notice is read for. */
const MAX_ACCEPTORS = 1024;

function record(bytes: Uint8Array, what: string): Record<string, unknown> {
  const v = fromJsonPayload(bytes, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(`${what}: not an object`);
  return v as Record<string, unknown>;
}

export function parseAnswer(bytes: Uint8Array, what: string): WireAnswer {
  const v = record(bytes, what);
  if (typeof v.ok !== 'boolean' || typeof v.epoch !== 'number') throw new DecodeError(`${what}: malformed`);
  if (v.nodeId !== undefined && (typeof v.nodeId !== 'string' || v.nodeId.length === 0 || v.nodeId.length > 64)) throw new DecodeError(`${what}: bad node id`);
  const id = v.nodeId !== undefined ? { nodeId: v.nodeId } : {};
  if (v.accepted === undefined) return { ok: v.ok, epoch: v.epoch, ...id };
  if (typeof v.accepted !== 'object' || v.accepted === null) throw new DecodeError(`${what}: bad accepted value`);
  const acc = v.accepted as Record<string, unknown>;
  return { ok: v.ok, epoch: v.epoch, ...id, accepted: { ballot: parseBallot(acc.ballot, what), config: parseVoterConfig(acc.config, what) } };
}

export function parseRequest(bytes: Uint8Array, what: string): WireRequest {
  const v = record(bytes, what);
  if (typeof v.epoch !== 'number' || !Number.isSafeInteger(v.epoch)) throw new DecodeError(`${what}: malformed`);
  return { epoch: v.epoch, ballot: parseBallot(v.ballot, what), ...(v.config !== undefined ? { config: parseVoterConfig(v.config, what) } : {}) };
}

/** A commit notice's configuration, and its sender and acceptors when they are well formed (they only speed counting up). */
export function parseCommit(bytes: Uint8Array, what: string): { config: VoterConfig; by: string | undefined; acceptors: string[] } {
  const v = record(bytes, what);
  const config = parseVoterConfig(v, what);
  const acceptors = Array.isArray(v.acceptors) ? v.acceptors.slice(0, MAX_ACCEPTORS).filter((n): n is string => typeof n === 'string') : [];
  return { config, by: typeof v.by === 'string' ? v.by : undefined, acceptors };
}

/**
 * The `by` and `epoch` a commit notice starts with, read without parsing the rest (notices this
 * code sends start `{"by":"NAME","epoch":N,`); undefined for anything else, which is parsed whole.
 */
export function commitHeader(payload: Uint8Array): { by: string; epoch: number } | undefined {
  const text = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 300)).toString('latin1');
  const m = /^\{"by":"([A-Za-z0-9._:-]{1,128})","epoch":(\d{1,15}),/.exec(text);
  return m ? { by: m[1]!, epoch: Number(m[2]) } : undefined;
}

/** A commit notice's fields, `by` and `epoch` first (see commitHeader). */
export function commitNotice(by: string, c: VoterConfig, acceptors?: string[]): CommitNotice {
  return { by, epoch: c.epoch, voters: c.voters, removed: c.removed, id: c.id, replicationFactor: c.replicationFactor, ...(acceptors ? { acceptors } : {}) };
}
