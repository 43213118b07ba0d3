// Replicated agent memory on a node: every agent's Yjs document in a DurableDocSet (stored and
// fsynced before anything is acknowledged), the sync engine carrying updates to the other members
// over RPC notifications (continuous push, periodic anti-entropy, full snapshot on join), and the
// quorum write path: a write needs a writable node and resolves once a majority of voters
// acknowledged storing it.
import { AgentMemoryDoc } from '../../crdt/index.js';
import { MEMORY_SCHEMA } from '../../crdt/memory-schema.js';
import type { UpdateSchema } from '../../crdt/update-validation.js';
import { ConfigError, DecodeError, QuorumError, WriteTimeoutError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { DeadlineTimer } from '../runtime/deadline-timer.js';
import { DurableDocSet } from '../storage/durable-doc-set.js';
import type { NodeStore } from '../storage/types.js';
import { SyncEngine, isRemoteOrigin, syncConfig, type SyncConfig, type SyncEffect, type SyncMode } from '../sync/index.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import { AgentMemory, type AgentMemoryWriter } from './agent-memory.js';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedString, readBoundedUint } from '../codec.js';
import { encodeSyncEnvelope } from './sync-envelope.js';
import type { RecallHit } from '../recall/recall-query.js';

/** Every sync message carries this name in its RPC frame, so it is kept short (was 'memory.sync': 7 bytes more per message). */
export const SYNC_METHOD = METHODS.sync;
const AGENT_PREFIX = 'agent/';
const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface MemoryServiceOptions {
  self: string;
  runtime: Runtime;
  store: NodeStore;
  rpc: RpcEndpoint;
  gate: QuorumGate;
  /** Current stream address of a member by name, or undefined if unknown/dead. */
  addressOf: (name: string) => string | undefined;
  writeTimeoutMs?: number;
  sync?: Partial<SyncConfig>;
  /**
   * Schemas of the node's other replicated documents by id (the task table); agent memories
   * always follow the memory schema. Remote updates to a document with no schema are only checked
   * for being well-formed Yjs.
   */
  schemas?: Readonly<Record<string, UpdateSchema>>;
  /** Agent documents are unloaded when idle beyond this many bytes of memory (storage/residency.ts); none: all stay resident. */
  residency?: { budgetBytes: number; idleMs?: number };
}

/** One pushed update of a write (a write that touches two documents pushes two). */
interface PendingWrite {
  voters: Set<string>;
  needed: number;
  /** Whether these acknowledgements (besides our own) make the write's quorum (QuorumGate.ackPlan). */
  complete: (acks: ReadonlySet<string>) => boolean;
  acks: Set<string>;
  /** Our own copy is on disk (false while group commit still holds the update). */
  durable: boolean;
  group: WriteGroup;
}

/** A write: resolves once every one of its pushed updates is settled. */
interface WriteGroup {
  requestIds: number[];
  open: number;
  resolve: () => void;
  reject: (e: Error) => void;
  cancelTimer: () => void;
}

/** Messages to one peer that flush() sends together: one RPC frame carries up to this many bytes of them. */
const BATCH_BYTES = 256 * 1024;
/** Most sync messages one frame may carry (receiving side bound). */
const MAX_BATCH_MESSAGES = 65_536;
const MAX_SENDER = 64;
const MAX_SYNC_MESSAGE = 2 * 1024 * 1024;

export type WriteOutcome = 'acknowledged' | 'timeout' | 'refused';

type SyncListener = (e: { peer: string; mode: SyncMode; docs: string[] }) => void;

export class MemoryService implements AgentMemoryWriter {
  readonly docs: DurableDocSet;
  readonly engine: SyncEngine;
  private readonly memories = new Map<string, AgentMemoryDoc>();
  private readonly subscribers = new Map<string, Set<() => void>>();
  private readonly pending = new Map<number, PendingWrite>();
  private readonly syncListeners = new Set<SyncListener>();
  private readonly timer: DeadlineTimer;
  private readonly log: Logger;
  /** Set by the update listener while a local write runs, so the write learns its pushes' request ids. */
  private pushes: Array<{ requestId: number; peers: string[] }> | undefined;
  /**
   * Pushes of the quorum write running now: sent together when its op returns (still before
   * writeQuorum yields), so a write that changes two documents (a task's outcome and its
   * episode) reaches each peer as one frame, and the peer's two acks come back as one.
   */
  private opSends: Array<{ peer: string; bytes: Uint8Array }> | undefined;
  private stopped = false;
  /** Local updates so far; a write that produced none needs no acknowledgement. */
  private localChanges = 0;
  readonly writeTimeoutMs: number;
  private readonly writeListeners = new Set<(ms: number, outcome: WriteOutcome) => void>();
  /**
   * Group commit, where the runtime can run work at the end of an event-loop turn (real nodes):
   * every update stored in one turn, local or replicated, is committed in one transaction (one
   * fsync), and the sync messages that answer peers (acks, deltas) wait in `outgoing` until that
   * commit returned, so an ack still means "stored durably". Pushes of our own updates go out
   * before that commit (at once, or at the end of the turn: `soon`), so the replicas store them
   * while we do (a write resolves only once its own copy is committed too: PendingWrite.durable).
   * Without it (the simulator) updates are stored at once.
   */
  private readonly groupCommit: ((fn: () => void) => void) | undefined;
  private outgoing: Array<{ peer: string; bytes: Uint8Array }> = [];
  /**
   * Where the runtime can also run work at the end of the current turn (Scheduler.soon, real
   * nodes): the pushes of every write of the turn (one client frame often carries many requests)
   * wait here and leave together, one frame per peer, so a replica decodes, stores and acks them
   * as one batch. The end of the turn still comes before the turn's group commit (an immediate),
   * so the replicas store a write while we fsync it. Without it pushes leave per write (opSends).
   */
  private readonly soon: ((fn: () => void) => void) | undefined;
  private pushQueue: Array<{ peer: string; bytes: Uint8Array }> = [];
  private pushFlushQueued = false;
  /** The last message wrapped in a sync envelope, and its envelope (one push, many peers). */
  private lastWrapped: Uint8Array | undefined;
  private lastEnvelope: Uint8Array | undefined;
  private flushQueued = false;
  /** True while the pushes of a local update are produced: those need not wait for our commit. */
  private pushingLocal = false;
  /** Writes whose own update waits in the current batch, and callers waiting for that batch. */
  private batchWrites: number[] = [];
  private durableWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly o: MemoryServiceOptions) {
    this.log = o.runtime.logger.child({ component: 'memory' });
    this.writeTimeoutMs = o.writeTimeoutMs ?? 5000;
    const residency = o.residency && { ...o.residency, now: () => o.runtime.clock.now(), evictable: (id: string) => id.startsWith(AGENT_PREFIX) };
    this.docs = new DurableDocSet(o.store, (id) => (id.startsWith(AGENT_PREFIX) ? MEMORY_SCHEMA : o.schemas?.[id]), residency);
    this.docs.onEvict((id) => this.memories.delete(id.slice(AGENT_PREFIX.length)));
    this.engine = new SyncEngine({
      docs: this.docs,
      config: syncConfig(o.sync),
      // From the runtime's generator, so a simulated run replays exactly (the sim seeds it).
      epoch: Math.floor(o.runtime.rng.next() * 2 ** 32),
      // Our acks say which voter configuration we are on; see the 'ack' case below.
      ackWord: () => o.gate.word(),
    });
    const immediate = o.runtime.scheduler.immediate;
    this.groupCommit = immediate ? (fn) => immediate.call(o.runtime.scheduler, fn) : undefined;
    if (this.groupCommit) this.docs.hold();
    const soon = o.runtime.scheduler.soon;
    this.soon = this.groupCommit && soon ? (fn) => soon.call(o.runtime.scheduler, fn) : undefined;
    this.docs.onLocalUpdate((docId, update, origin) => {
      const local = !isRemoteOrigin(origin);
      if (local) this.localChanges++;
      this.pushingLocal = local;
      try {
        this.run(this.engine.localUpdate(docId, update, origin));
      } finally {
        this.pushingLocal = false;
      }
      const subs = this.subscribers.get(docId);
      if (subs) for (const cb of subs) cb();
    });
    o.rpc.onNotify(SYNC_METHOD, 'member', (payload) => this.receive(payload));
    this.timer = new DeadlineTimer(o.runtime, () => this.engine.nextDeadline(), (now) => this.run(this.engine.tick(now)));
    this.timer.arm();
  }

  /**
   * An agent's document for writing inside a writeQuorum op, so one quorum write can cover a
   * change of the task table and the agent's episode together (both wait for the same majority).
   */
  agentDoc(agentId: string): AgentMemoryDoc {
    assertAgentId(agentId);
    return this.open(agentId);
  }

  /** The API object for one agent's memory. */
  memory(agentId: string): AgentMemory {
    assertAgentId(agentId);
    const clock = this.o.runtime.clock;
    return new AgentMemory(agentId, this, () => (clock.wall ? clock.wall() : clock.now()));
  }

  /** Set by the node: answers recall from its index (src/recall); `agent` undefined searches every agent. */
  recallWith: ((agent: string | undefined, query: unknown) => RecallHit[]) | undefined;

  recall(agentId: string | undefined, query: unknown): RecallHit[] {
    if (agentId !== undefined) assertAgentId(agentId);
    if (!this.recallWith) throw new ConfigError('this memory has no recall index');
    return this.recallWith(agentId, query);
  }

  agentIds(): string[] {
    return this.docs
      .ids()
      .filter((id) => id.startsWith(AGENT_PREFIX))
      .map((id) => id.slice(AGENT_PREFIX.length))
      .sort();
  }

  peek(agentId: string): AgentMemoryDoc | undefined {
    const docId = AGENT_PREFIX + agentId;
    if (!this.memories.has(agentId) && !this.docs.ids().includes(docId)) return undefined;
    return this.open(agentId);
  }

  subscribe(agentId: string, cb: () => void): () => void {
    const docId = AGENT_PREFIX + agentId;
    let subs = this.subscribers.get(docId);
    if (!subs) this.subscribers.set(docId, (subs = new Set()));
    subs.add(cb);
    return () => subs!.delete(cb);
  }

  /** Observes every write: its latency and how it ended (metrics). */
  onWrite(cb: (ms: number, outcome: WriteOutcome) => void): void {
    this.writeListeners.add(cb);
  }

  async write<T>(agentId: string, op: (doc: AgentMemoryDoc) => T): Promise<T> {
    assertAgentId(agentId);
    return this.writeQuorum(() => op(this.open(agentId)));
  }

  /**
   * The quorum write path for any replicated document (agent memories, the task table): refuses
   * at once with QuorumError on a read-only node (nothing applied), runs `op` (its updates are
   * stored with fsync and pushed synchronously), then waits for a majority of voters to
   * acknowledge. WriteTimeoutError leaves the write applied; it converges later.
   */
  async writeQuorum<T>(op: () => T): Promise<T> {
    const started = this.o.runtime.clock.now();
    const report = (outcome: WriteOutcome) => {
      const ms = this.o.runtime.clock.now() - started;
      for (const l of this.writeListeners) l(ms, outcome);
    };
    try {
      const result = await this.replicate(op);
      report('acknowledged');
      return result;
    } catch (err) {
      const refused = err instanceof QuorumError;
      report(refused ? 'refused' : 'timeout');
      this.log.info({ err: (err as Error).message }, refused ? 'write refused: no quorum' : 'write not acknowledged in time');
      throw err;
    }
  }

  private async replicate<T>(op: () => T): Promise<T> {
    this.o.gate.assertWritable(); // QuorumError before anything is applied
    const plan = this.o.gate.ackPlan();
    const changesBefore = this.localChanges;
    const pushes: Array<{ requestId: number; peers: string[] }> = [];
    const sends: Array<{ peer: string; bytes: Uint8Array }> = [];
    this.pushes = pushes;
    this.opSends = sends;
    let result: T;
    try {
      result = op(); // its updates are stored (held for the group commit) and pushed synchronously
    } finally {
      this.pushes = undefined;
      this.opSends = undefined;
      this.sendBatched(sends);
    }
    if (this.localChanges === changesBefore) return result; // a write that changed nothing
    if (plan.needed === 0) {
      await this.durable(); // a single voter: resolves once its own copy is on disk
      return result;
    }
    // Every update of the write (one per document it changed) must reach enough voters.
    const changed = this.localChanges - changesBefore;
    const reachableVoters = pushes.length < changed ? 0 : Math.min(...pushes.map((push) => push.peers.filter((p) => plan.voters.has(p)).length));
    if (reachableVoters < plan.needed) {
      // Not enough voters were even sent the update: it stays applied here and converges later.
      throw new WriteTimeoutError(`write applied locally but only ${reachableVoters} of the ${plan.needed} other voters needed could be sent it; it will converge when they are reachable`);
    }
    await new Promise<void>((resolve, reject) => {
      const group: WriteGroup = { requestIds: pushes.map((p) => p.requestId), open: pushes.length, resolve, reject, cancelTimer: () => undefined };
      group.cancelTimer = this.o.runtime.scheduler.schedule(this.writeTimeoutMs, () => {
        let acked = Infinity;
        for (const id of group.requestIds) {
          const p = this.pending.get(id);
          if (!p) continue;
          acked = Math.min(acked, p.acks.size);
          this.pending.delete(id);
        }
        if (acked === Infinity) return; // settled meanwhile
        reject(new WriteTimeoutError(`write applied locally but acknowledged by only ${acked} of the ${plan.needed} other voters needed within ${this.writeTimeoutMs} ms; it will converge later`));
      });
      for (const push of pushes) {
        this.pending.set(push.requestId, { voters: plan.voters, needed: plan.needed, complete: plan.complete, acks: new Set(), durable: !this.groupCommit, group });
        if (this.groupCommit) this.batchWrites.push(push.requestId);
      }
    });
    return result;
  }

  /** Pulls everything a peer has (a joining node); resolves true when the snapshot arrived. */
  fullSnapshotFrom(peer: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.o.runtime.scheduler.schedule(timeoutMs, () => {
        this.syncListeners.delete(l);
        resolve(false);
      });
      const l: SyncListener = (e) => {
        if (e.peer !== peer || e.mode !== 'full_snapshot') return;
        this.syncListeners.delete(l);
        cancel();
        resolve(true);
      };
      this.syncListeners.add(l);
      this.run(this.engine.requestFullSnapshot(peer, this.o.runtime.clock.now()));
    });
  }

  /** Starts one anti-entropy round with `peer` now (tests and heal speed-ups use it). */
  antiEntropyWith(peer: string): void {
    this.run(this.engine.startAntiEntropy(peer, this.o.runtime.clock.now()));
  }

  addPeer(name: string): void {
    if (name !== this.o.self) this.engine.addPeer(name);
  }

  removePeer(name: string): void {
    this.engine.removePeer(name);
  }

  /** One hex digest over every document this node holds, and how many there are. */
  digest(): { digest: string; documents: number } {
    return { digest: Buffer.from(this.engine.rootDigest()).toString('hex'), documents: this.docs.ids().length };
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
    // What this turn stored goes to disk now (the store closes after us); unsent messages are dropped.
    this.outgoing = [];
    this.pushQueue = [];
    try {
      this.docs.release();
      for (const w of this.durableWaiters.splice(0)) w.resolve();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'storing the last updates failed at stop');
      for (const w of this.durableWaiters.splice(0)) w.reject(err as Error);
    }
    const groups = new Set([...this.pending.values()].map((p) => p.group));
    this.pending.clear();
    for (const g of groups) {
      g.cancelTimer();
      g.reject(new WriteTimeoutError('the node stopped before a majority acknowledged the write; it is stored locally'));
    }
  }

  private open(agentId: string): AgentMemoryDoc {
    let m = this.memories.get(agentId);
    if (!m) {
      m = new AgentMemoryDoc({ node: this.o.self, random: () => this.o.runtime.rng.next(), agentId, doc: this.docs.doc(AGENT_PREFIX + agentId) });
      this.memories.set(agentId, m);
    }
    return m;
  }

  /** One frame: the sender's name, then one or more sync messages (see flush()). */
  private receive(payload: Uint8Array): void {
    if (this.stopped) return;
    let batch: { from: string; messages: Uint8Array[] };
    try {
      batch = decodeSyncBatch(payload);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'dropped a sync frame that does not decode');
      return;
    }
    const now = this.o.runtime.clock.now();
    for (const bytes of batch.messages) {
      try {
        this.run(this.engine.handle(batch.from, bytes, now));
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'dropped a sync message that does not decode');
      }
    }
  }

  private run(effects: SyncEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          if (this.pushingLocal && this.soon && !this.stopped) this.queuePush(e.peer, e.bytes);
          else if (this.pushingLocal && this.opSends) this.opSends.push({ peer: e.peer, bytes: e.bytes });
          else if (this.groupCommit && !this.stopped && !this.pushingLocal) this.outgoing.push({ peer: e.peer, bytes: e.bytes });
          else this.send(e.peer, e.bytes);
          break;
        case 'pushed':
          this.pushes?.push({ requestId: e.requestId, peers: e.peers });
          break;
        case 'ack': {
          const p = this.pending.get(e.requestId);
          if (!p || !p.voters.has(e.peer)) break;
          // A member on another voter configuration (ours counted it by stale metadata) is not
          // part of our quorum: its ack must not make a write acknowledged.
          if (!this.o.gate.countsAck(e.word)) break;
          p.acks.add(e.peer);
          this.settle(e.requestId, p);
          break;
        }
        case 'synced':
          for (const l of [...this.syncListeners]) l(e);
          break;
        case 'resync':
          this.log.info({ peer: e.peer, doc: e.docId }, 'update pending on missing dependencies: resyncing the document');
          break;
        case 'sync-timeout':
          this.log.debug({ peer: e.peer, mode: e.mode }, 'sync session timed out');
          break;
      }
    }
    this.timer.arm();
    if (this.groupCommit && !this.flushQueued && !this.stopped && (this.outgoing.length > 0 || this.docs.heldCount() > 0)) {
      this.flushQueued = true;
      this.groupCommit(() => this.flush());
    }
  }

  private queuePush(peer: string, bytes: Uint8Array): void {
    this.pushQueue.push({ peer, bytes });
    if (this.pushFlushQueued) return;
    this.pushFlushQueued = true;
    this.soon!(() => this.flushPushes());
  }

  /** The pushes of this turn's writes, one frame per peer (in push order per peer). */
  private flushPushes(): void {
    this.pushFlushQueued = false;
    const pushes = this.pushQueue;
    this.pushQueue = [];
    if (!this.stopped) this.sendBatched(pushes);
  }

  private send(peer: string, bytes: Uint8Array): void {
    const to = this.o.addressOf(peer);
    if (to === undefined) return;
    // A push goes to every peer as the same bytes: wrap it once (the RPC layer then encodes its frame once too).
    if (bytes !== this.lastWrapped) {
      this.lastWrapped = bytes;
      this.lastEnvelope = encodeSyncEnvelope(this.o.self, bytes);
    }
    this.o.rpc.notify(to, SYNC_METHOD, this.lastEnvelope!).catch((err: Error) => this.log.debug({ peer, err: err.message }, 'sync send failed'));
  }

  /**
   * Sends the messages that waited for a commit, one frame per peer (acknowledgements of every
   * update a peer pushed this turn travel together), in order per peer.
   */
  private sendBatched(messages: Array<{ peer: string; bytes: Uint8Array }>): void {
    const byPeer = new Map<string, Uint8Array[]>();
    for (const m of messages) {
      const list = byPeer.get(m.peer);
      if (list) list.push(m.bytes);
      else byPeer.set(m.peer, [m.bytes]);
    }
    let last: { list: Uint8Array[]; frames: Uint8Array[] } | undefined;
    for (const [peer, list] of byPeer) {
      if (list.length === 1) {
        this.send(peer, list[0]!);
        continue;
      }
      const to = this.o.addressOf(peer);
      if (to === undefined) continue;
      // The pushes of one write are the same messages for every peer: encode their frames once.
      if (!last || last.list.length !== list.length || last.list.some((m, i) => m !== list[i])) last = { list, frames: encodeSyncBatches(this.o.self, list) };
      for (const frame of last.frames) {
        this.o.rpc.notify(to, SYNC_METHOD, frame).catch((err: Error) => this.log.debug({ peer, err: err.message }, 'sync send failed'));
      }
    }
  }

  /** Resolves once every update stored so far is on disk (at once without group commit). */
  private durable(): Promise<void> {
    if (!this.groupCommit || this.docs.heldCount() === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.durableWaiters.push({ resolve, reject }));
  }

  /**
   * Group commit: one transaction for everything stored this turn, then (once it is on disk; the
   * fsync runs off the event loop, see DurableDocSet.commitAsync) the messages that waited for it.
   */
  private flush(): void {
    this.flushQueued = false;
    if (this.stopped) return;
    const sends = this.outgoing;
    const writes = this.batchWrites;
    const waiters = this.durableWaiters;
    this.outgoing = [];
    this.batchWrites = [];
    this.durableWaiters = [];
    let onDisk: Promise<void> | undefined;
    try {
      onDisk = this.docs.commitAsync();
    } catch (err) {
      return this.commitFailed(err as Error, sends.length, writes, waiters);
    }
    const durable = (): void => {
      for (const id of writes) {
        const p = this.pending.get(id);
        if (!p) continue;
        p.durable = true;
        this.settle(id, p);
      }
      for (const w of waiters) w.resolve();
      if (!this.stopped) this.sendBatched(sends);
    };
    if (onDisk) onDisk.then(durable, (err: Error) => this.commitFailed(err, sends.length, writes, waiters));
    else durable();
  }

  /** Nothing of a failed batch is acknowledged or sent; its writes fail with the storage error. */
  private commitFailed(err: Error, updates: number, writes: number[], waiters: Array<{ reject: (e: Error) => void }>): void {
    if (this.stopped) this.log.info({ err: err.message, updates }, 'the node stopped before a batch was synced: not acknowledging it');
    else this.log.error({ err: err.message, updates }, 'storing updates failed: not acknowledging or sending them');
    for (const id of writes) {
      const p = this.pending.get(id);
      if (!p) continue;
      for (const other of p.group.requestIds) this.pending.delete(other);
      p.group.cancelTimer();
      p.group.reject(err);
    }
    for (const w of waiters) w.reject(err);
  }

  /** Settles one pushed update once our own copy is durable and its acknowledgements make the quorum; a write resolves when all of its updates are settled. */
  private settle(requestId: number, p: PendingWrite): void {
    if (!p.durable || !p.complete(p.acks)) return;
    this.pending.delete(requestId);
    if (--p.group.open > 0) return;
    p.group.cancelTimer();
    p.group.resolve();
  }
}

/**
 * Several sync messages to one peer in one RPC frame: the sync envelope of the first (sender name
 * and message, byte for byte what a single message travels as) followed by the others, each
 * length-prefixed. Split so no frame carries much more than BATCH_BYTES.
 */
export function encodeSyncBatches(from: string, messages: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let e: encoding.Encoder | undefined;
  let size = 0;
  let count = 0;
  for (const m of messages) {
    if (e && (size + m.byteLength > BATCH_BYTES || count >= MAX_BATCH_MESSAGES)) {
      frames.push(encoding.toUint8Array(e));
      e = undefined;
    }
    if (!e) {
      e = encoding.createEncoder();
      encoding.writeVarString(e, from);
      size = 0;
      count = 0;
    }
    encoding.writeVarUint8Array(e, m);
    size += m.byteLength;
    count++;
  }
  if (e) frames.push(encoding.toUint8Array(e));
  return frames;
}

/**
 * The sender and the one or more messages of a sync frame (a plain sync envelope is a batch of
 * one). The messages are views into `payload`, as decodeSyncEnvelope's (the engine copies what it keeps).
 */
export function decodeSyncBatch(payload: Uint8Array): { from: string; messages: Uint8Array[] } {
  return decodeWith(payload, 'sync frame', (d) => {
    const from = readBoundedString(d, MAX_SENDER, 'sender');
    const messages = [readMessage(d)];
    while (decoding.hasContent(d)) {
      if (messages.length >= MAX_BATCH_MESSAGES) throw new DecodeError(`a sync frame carries more than ${MAX_BATCH_MESSAGES} messages`);
      messages.push(readMessage(d));
    }
    return { from, messages };
  });
}

function readMessage(d: decoding.Decoder): Uint8Array {
  const n = readBoundedUint(d, MAX_SYNC_MESSAGE, 'sync message length');
  if (d.pos + n > d.arr.length) throw new DecodeError('sync message truncated');
  return decoding.readUint8Array(d, n);
}

function assertAgentId(agentId: string): void {
  if (typeof agentId !== 'string' || !AGENT_ID.test(agentId)) {
    throw new ConfigError(`agent id "${String(agentId)}" is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"`);
  }
}
