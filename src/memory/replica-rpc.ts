// The member-only RPCs of replica sets (replica-peers.ts answers them): `memory.hold-check` and
// `memory.move-done` (with `doc`: one document's move completed), JSON payloads, and the calls
// that ask them. Thin: parsing and transport only.
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { intField, jsonObject, stringField, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import { DecodeError, TransportError } from '../errors.js';
import { MAX_HOLD_SNAPSHOT_BYTES, type HoldAnswer } from './hold-check.js';
import type { MoveDoneAnswer } from './move-completion.js';
import type { ReplicaPeers } from './replica-peers.js';

/** A question between replicas is one round trip; a member that does not answer in this long is asked again later. */
const ASK_TIMEOUT_MS = 2_000;
const MAX_EPOCH = 2 ** 32;
/** Longest state vector an answer may carry (base64); a longer one is ignored (the whole document is sent). */
const MAX_SV_BASE64 = 64 * 1024;

export interface ReplicaAsk {
  /** Compares `peer`'s copy of `doc` with `snapshot` (rejects when refused or unreachable). */
  holdCheck(peer: string, doc: string, epoch: number, snapshot: Uint8Array): Promise<HoldAnswer>;
  /**
   * Whether `peer` is done moving onto configuration `epoch`; `released` tells it every voter is;
   * `doc` tells it that document's move is complete on `epoch` (rejects when refused or unreachable).
   */
  moveDone(peer: string, epoch: number, released: boolean, doc?: string): Promise<MoveDoneAnswer>;
}

/**
 * Registers the handlers on `rpc` and returns the asking side. `durable` resolves once everything
 * applied here so far is on disk: a "holds" answer counts like an ack, so it waits for it.
 */
export function replicaRpc(self: string, rpc: RpcEndpoint, addressOf: (name: string) => string | undefined, peers: ReplicaPeers, durable: () => Promise<void>): ReplicaAsk {
  rpc.handle(METHODS.memoryHoldCheck, 'member', async (p, ctx) => {
    const r = jsonObject(p, 'hold-check');
    const from = sender(r, ctx.identity, 'hold-check');
    const snapshot = Buffer.from(stringField(r, 'snapshot', 'hold-check', Math.ceil((MAX_HOLD_SNAPSHOT_BYTES * 4) / 3) + 4), 'base64');
    const answer = peers.holdCheck({ from, epoch: intField(r, 'epoch', 'hold-check', 0, MAX_EPOCH), doc: stringField(r, 'doc', 'hold-check', 256), snapshot: new Uint8Array(snapshot) });
    if (answer.holds) await durable();
    return toJsonPayload({ holds: answer.holds, within: answer.within, ...(answer.sv ? { sv: Buffer.from(answer.sv).toString('base64') } : {}) });
  });
  rpc.handle(METHODS.memoryMoveDone, 'member', (p, ctx) => {
    const r = jsonObject(p, 'move-done');
    const doc = r.doc === undefined ? undefined : stringField(r, 'doc', 'move-done', 256);
    return toJsonPayload(peers.moveDone({ from: sender(r, ctx.identity, 'move-done'), epoch: intField(r, 'epoch', 'move-done', 0, MAX_EPOCH), released: r.released === true, ...(doc === undefined ? {} : { doc }) }));
  });
  const ask = async (peer: string, method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const at = addressOf(peer);
    if (at === undefined) throw new TransportError(`${peer} is not reachable`);
    return jsonObject(await rpc.call(at, method, toJsonPayload({ from: self, ...body }), ASK_TIMEOUT_MS), method);
  };
  return {
    holdCheck: async (peer, doc, epoch, snapshot) => {
      const r = await ask(peer, METHODS.memoryHoldCheck, { doc, epoch, snapshot: Buffer.from(snapshot).toString('base64') });
      const sv = typeof r.sv === 'string' && r.sv.length <= MAX_SV_BASE64 ? new Uint8Array(Buffer.from(r.sv, 'base64')) : undefined;
      return { holds: r.holds === true, within: r.within === true, ...(sv ? { sv } : {}) };
    },
    moveDone: async (peer, epoch, released, doc) => {
      const r = await ask(peer, METHODS.memoryMoveDone, { epoch, released, ...(doc === undefined ? {} : { doc }) });
      return { done: r.done === true, released: r.released === true };
    },
  };
}

/** The asker's name; with authenticated streams it must be the identity the connection proved. */
export function sender(r: Record<string, unknown>, identity: string | undefined, what: string): string {
  const from = stringField(r, 'from', what, 128);
  if (identity !== undefined && identity !== `member:${from}`) throw new DecodeError(`${what}: "from" ${from} is not the caller (${identity})`);
  return from;
}
