// Client writes taken by a node outside the agent's replica set (replica sets smaller than the
// voter set, docs/replica-sets.md "Writes"): the node forwards the call to a live replica (one hop,
// `memory.forward-write`) instead of writing a copy of its own, storing it with fsync, pushing it to
// every replica and handing the copy off afterwards: that stray made RF 3 on 5 processes cost more
// CPU per write than RF 5 (docs/performance.md "Writes through a non-replica"). The forwarder still
// admits the write first (read-only node, no reachable majority of the set, consistency `all`:
// QuorumError at once, nothing sent); the replica runs the client method's own handler, so the
// write is acknowledged exactly as one taken there. During a move, or with no live replica in
// sight, the node writes as before (the local path knows joint quorums and names the set).
import { TimeoutError, TransportError, WriteTimeoutError, DecodeError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, stringField, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { ReplicaScope } from '../placement/replica-scope.js';
import { AGENT_ID } from '../vocabulary.js';
import { AGENT_PREFIX } from './agent-docs.js';
import { parseWriteConsistency, type ReadConsistency, type WriteConsistency } from './consistency.js';
import { sender } from './replica-rpc.js';
import type { ReplicaView } from './replica-view.js';

/** A client write method's own work on the node that carries it out; `args`: the client's arguments (a JSON object, not checked yet). */
export type LocalWrite = (args: Record<string, unknown>) => Promise<Uint8Array>;

export interface WriteForwardOptions {
  self: string;
  rpc: RpcEndpoint;
  addressOf: (name: string) => string | undefined;
  view: ReplicaView;
  /** Members the sync engine reaches now (alive). */
  peers: () => readonly string[];
  /** The local admission (ReplicaSets.admit): QuorumError before anything is sent. */
  admit: (docIds: readonly string[], level?: WriteConsistency) => Promise<void> | undefined;
  /** Merges an agent from a majority of its replica set (MemoryService.beforeRead). */
  beforeRead: (agentId: string, level?: ReadConsistency) => Promise<void>;
  /** Longest a forwarded write may take: the replica's own admission, write and (for edits) majority read. */
  timeoutMs: number;
}

/**
 * The live replicas to forward a write of `docId` to, in placement order, or undefined when it is
 * written here: this node is a replica, every voter holds everything, the document is moving (its
 * writes need the previous sets too), or no replica is alive (the local path then refuses, naming the set).
 */
export function forwardTargets(scope: ReplicaScope, moving: boolean, alive: ReadonlySet<string>, docId: string): string[] | undefined {
  if (!scope.enforced || moving || scope.isReplica(docId)) return undefined;
  const live = (scope.replicasOf(docId) ?? []).filter((n) => alive.has(n));
  return live.length > 0 ? live : undefined;
}

export class WriteForward {
  /** Client writes this node forwarded, and forwarded writes it carried out for others (/status). */
  readonly counts = { writesForwarded: 0, forwardedWritesServed: 0 };

  constructor(private readonly o: WriteForwardOptions) {}

  /**
   * Runs a client write here, or on a live replica of its agent when this node is not one.
   * Registers nothing; `serve` answers the replicas' side.
   */
  async run(method: string, args: Record<string, unknown>, local: LocalWrite): Promise<Uint8Array> {
    const agent = args.agent;
    // Anything malformed takes the local path, whose checks give the usual error.
    if (typeof agent !== 'string' || !AGENT_ID.test(agent)) return local(args);
    const docId = AGENT_PREFIX + agent;
    const view = this.o.view;
    const targets = forwardTargets(view.current(), view.previousSets(docId).length > 0, new Set(this.o.peers()), docId);
    if (!targets) return local(args);
    const level = parseWriteConsistency(args.consistency);
    const admitted = this.o.admit([docId], level); // QuorumError here: nothing applied anywhere
    if (admitted) await admitted;
    // The first replica a connection opens to (a crashed one SWIM only suspects yet refuses it:
    // nothing was sent, the next is tried). Once the request may have left, no retry elsewhere: a
    // write whose answer was lost may have been applied there, and a second attempt could record
    // the episode twice (as a forwarded task submit).
    for (const to of targets) {
      const at = this.o.addressOf(to);
      if (at === undefined || !(await this.o.rpc.connect(at).then(() => true, () => false))) continue;
      this.counts.writesForwarded++;
      try {
        return await this.o.rpc.call(at, METHODS.memoryForwardWrite, toJsonPayload({ from: this.o.self, method, args }), this.o.timeoutMs);
      } catch (err) {
        if (err instanceof TimeoutError) throw this.unknown(agent, to, `did not answer within ${this.o.timeoutMs} ms`);
        if (err instanceof TransportError) throw this.unknown(agent, to, `dropped the connection (${err.message})`);
        throw err; // the replica's own answer: QuorumError, WriteTimeoutError, ConfigError, NotFoundError, ...
      }
    }
    // No replica could be connected to: written here as before forwarding (a stray, pushed to the set).
    return local(args);
  }

  /** Registers `memory.forward-write`: a member's forwarded client write, carried out here by the method's own handler (never forwarded again). */
  serve(writes: Readonly<Record<string, LocalWrite>>): void {
    this.o.rpc.handle(METHODS.memoryForwardWrite, 'member', async (p, ctx) => {
      const r = jsonObject(p, 'forwarded write');
      sender(r, ctx.identity, 'forwarded write');
      const method = stringField(r, 'method', 'forwarded write', 64);
      const local = Object.hasOwn(writes, method) ? writes[method] : undefined;
      if (!local) throw new DecodeError(`forwarded write: "${method}" is not a memory write method`);
      const args = r.args;
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new DecodeError('forwarded write: "args" must be an object');
      const a = args as Record<string, unknown>;
      // An edit, forget or drop looks its episodes up first: as the non-replica would have (it merged
      // from a majority before reading), this replica merges from a majority of its set.
      if (method !== METHODS.memoryAdd && typeof a.agent === 'string' && AGENT_ID.test(a.agent)) await this.o.beforeRead(a.agent, 'majority');
      this.counts.forwardedWritesServed++;
      return local(a);
    });
  }

  private unknown(agent: string, replica: string, why: string): WriteTimeoutError {
    return new WriteTimeoutError(`the write to agent ${agent} was forwarded to its replica ${replica} (this node holds no copy), which ${why}; it may or may not have been applied there, and converges if it was`);
  }
}
