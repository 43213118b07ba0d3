// Member metadata carried in every SWIM alive message (opaque bytes to the gossip layer, <= 512
// bytes as in memberlist). It is how other nodes learn a member's role, capacity, ports and the
// lifecycle state it reports about itself (ACTIVE/SYNCING/DEGRADED/LEAVING).
import * as encoding from 'lib0/encoding';
import { isInterned } from '../../gossip/intern.js';
import { decodeWith, readBoundedString, readBoundedUint } from '../codec.js';
import { DecodeError } from '../errors.js';
import { LIFECYCLE_STATES, ROLES, type LifecycleState, type Role } from '../vocabulary.js';

export { ROLES, type Role } from '../vocabulary.js';

export const PROTOCOL_VERSION = 1;
const META_FORMAT = 1;

export interface NodeMeta {
  role: Role;
  slots: number;
  freeSlots: number;
  rpcPort: number;
  httpPort: number;
  protocol: number;
  lifecycle: LifecycleState;
  /** Stable node id from the data directory; survives restarts and renames of the address. */
  nodeId: string;
  /**
   * The voter configuration this node is on (src/quorum/voter-config.ts configWord): members
   * count each other towards a quorum only on the same word. Optional on the wire (last field,
   * read as 0 when absent) and omitted while 0, so a fresh cluster's metadata is unchanged.
   */
  configWord?: number;
}

export function encodeMeta(m: NodeMeta): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, META_FORMAT);
  encoding.writeVarUint(e, ROLES.indexOf(m.role));
  encoding.writeVarUint(e, m.slots);
  encoding.writeVarUint(e, m.freeSlots);
  encoding.writeVarUint(e, m.rpcPort);
  encoding.writeVarUint(e, m.httpPort);
  encoding.writeVarUint(e, m.protocol);
  encoding.writeVarUint(e, LIFECYCLE_STATES.indexOf(m.lifecycle));
  encoding.writeVarString(e, m.nodeId);
  if (m.configWord) encoding.writeVarUint(e, m.configWord);
  return encoding.toUint8Array(e);
}

export function decodeMeta(bytes: Uint8Array): NodeMeta {
  return decodeWith(bytes, 'member metadata', (d) => {
    const format = readBoundedUint(d, 255, 'meta format');
    if (format !== META_FORMAT) throw new DecodeError(`unknown member metadata format ${format}`);
    const role = ROLES[readBoundedUint(d, ROLES.length - 1, 'role')]!;
    const slots = readBoundedUint(d, 1 << 16, 'slots');
    const freeSlots = readBoundedUint(d, 1 << 16, 'free slots');
    const rpcPort = readBoundedUint(d, 65535, 'rpc port');
    const httpPort = readBoundedUint(d, 65535, 'http port');
    const protocol = readBoundedUint(d, 1 << 16, 'protocol version');
    const lifecycle = LIFECYCLE_STATES[readBoundedUint(d, LIFECYCLE_STATES.length - 1, 'lifecycle')]!;
    const nodeId = readBoundedString(d, 64, 'node id');
    const configWord = d.pos < d.arr.length ? readBoundedUint(d, 2 ** 41, 'voter config word') : 0;
    return { role, slots, freeSlots, rpcPort, httpPort, protocol, lifecycle, nodeId, configWord };
  });
}

const sharedDecodes = new WeakMap<Uint8Array, NodeMeta | null>();

/**
 * decodeMeta, once per distinct metadata in the process when `bytes` is gossip's interned copy
 * (gossip/intern.ts: shared, never written): each of 1,000 simulated nodes decoded every member's
 * metadata for itself. The result is frozen (shared too); undefined when the bytes do not decode.
 */
export function decodeMetaShared(bytes: Uint8Array): NodeMeta | undefined {
  const interned = isInterned(bytes);
  if (interned) {
    const known = sharedDecodes.get(bytes);
    if (known !== undefined) return known ?? undefined;
  }
  let meta: NodeMeta | null;
  try {
    meta = Object.freeze(decodeMeta(bytes));
  } catch {
    meta = null;
  }
  if (interned) sharedDecodes.set(bytes, meta);
  return meta ?? undefined;
}

/** The node id in member metadata, or undefined when it does not decode (the gossip core's identity). */
export function nodeIdOf(bytes: Uint8Array): string | undefined {
  try {
    return decodeMeta(bytes).nodeId;
  } catch {
    return undefined;
  }
}
