// The push-pull payload: our whole member table, exchanged over a reliable stream on join and
// every pushPullInterval so that anything gossip lost (a partition, a long pause) is repaired.
// A version byte lets a later format be refused cleanly instead of misread.

import { DecodeError } from '../errors/index.js';
import { MAX_ADDRESS_BYTES, MAX_META_BYTES, MAX_NAME_BYTES } from './messages.js';
import type { MemberState } from './types.js';
import { Reader, finish, scratchEncoder, type Encoder, writeBool, writeBytes, writeString, writeU8, writeUint } from './wire.js';

const FORMAT_VERSION = 1;
/** More members than any cluster we plan for; bounds the work a forged count can cause. */
export const MAX_PUSH_PULL_MEMBERS = 100_000;

const STATE_CODES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

export interface PushPullMember {
  name: string;
  address: string;
  meta: Uint8Array;
  incarnation: number;
  state: MemberState;
}

export interface PushPullState {
  /** True when the sender is joining (its first exchange with the cluster). */
  join: boolean;
  members: PushPullMember[];
}

export function encodePushPull(state: PushPullState): Uint8Array {
  const enc = scratchEncoder();
  writeU8(enc, FORMAT_VERSION);
  writeBool(enc, state.join);
  writeUint(enc, state.members.length);
  for (const m of state.members) writeMember(enc, m);
  return finish(enc);
}

/**
 * encodePushPull of `first` and then every other member of `table` (which holds `first`), read
 * in place: a node's push-pull lists its whole table, and copying it into a list of records first
 * was N objects per exchange.
 */
export function encodeTable(join: boolean, first: Readonly<PushPullMember>, table: Iterable<Readonly<PushPullMember>>, size: number): Uint8Array {
  const enc = scratchEncoder();
  writeU8(enc, FORMAT_VERSION);
  writeBool(enc, join);
  writeUint(enc, size);
  writeMember(enc, first);
  for (const m of table) if (m !== first) writeMember(enc, m);
  return finish(enc);
}

function writeMember(enc: Encoder, m: Readonly<PushPullMember>): void {
  writeString(enc, m.name);
  writeString(enc, m.address);
  writeBytes(enc, m.meta);
  writeUint(enc, m.incarnation);
  writeU8(enc, STATE_CODES.indexOf(m.state));
}

/** Throws DecodeError for anything but a complete, well-formed payload. */
export function decodePushPull(bytes: Uint8Array): PushPullState {
  try {
    const r = new Reader(bytes, 'push-pull state');
    const version = r.u8();
    if (version !== FORMAT_VERSION) r.fail(`unsupported version ${version} (this node speaks ${FORMAT_VERSION})`);
    const join = r.bool();
    const count = r.uint(MAX_PUSH_PULL_MEMBERS);
    const members: PushPullMember[] = [];
    for (let i = 0; i < count; i++) {
      const name = r.string(MAX_NAME_BYTES);
      const address = r.string(MAX_ADDRESS_BYTES);
      const meta = r.internedBytes(MAX_META_BYTES);
      const incarnation = r.uint();
      const code = r.u8();
      const state = STATE_CODES[code];
      if (state === undefined) r.fail(`unknown member state ${code}`);
      members.push({ name, address, meta, incarnation, state });
    }
    r.end();
    return { join, members };
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('malformed push-pull state; dropped', { cause: err });
  }
}
