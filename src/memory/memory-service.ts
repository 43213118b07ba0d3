// Replicated agent memory on a node: every agent's Yjs document in a DurableDocSet (stored and
// fsynced before anything is acknowledged), the sync engine carrying updates to the other members
// (sync-transport.ts: continuous push, periodic anti-entropy, full snapshot on join), and the
// quorum write path: a write needs a writable node and resolves once a majority of voters
// acknowledged storing it (ack-tracker.ts). The agents' documents are in agent-docs.ts.
import type { AgentMemoryDoc } from '../../crdt/index.js';
import { MEMORY_SCHEMA } from '../../crdt/memory-schema.js';
import { segmentDocNames } from '../../crdt/segments.js';
import type { SegmentedMemory } from '../../crdt/segmented-memory.js';
import type { UpdateSchema } from '../../crdt/update-validation.js';
import { ConfigError, QuorumError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { DeadlineTimer } from '../runtime/deadline-timer.js';
import { beforeCommit, endOfTurn, TurnFlush } from '../runtime/group-commit.js';
import { DurableDocSet } from '../storage/durable-doc-set.js';
import type { NodeStore } from '../storage/types.js';
import { SyncEngine, isRemoteOrigin, syncConfig, type SyncConfig, type SyncEffect } from '../sync/index.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import { ackWordOf } from '../quorum/gate-acks.js';
import { AgentMemory, type AgentMemoryWriter } from './agent-memory.js';
import type { RecallHit } from '../recall/recall-query.js';
import { AckTracker } from './ack-tracker.js';
import { AgentDocs, AGENT_PREFIX, assertAgentId, type SplitOptions } from './agent-docs.js';
import { SyncTransport } from './sync-transport.js';
import { ReplicaSets } from './replica-sets.js';
import { WriteForward } from './write-forward.js';
import { syncedWithin, type SyncListener } from './sync-waits.js';
import { timed } from '../util/write-trace.js';
import type { MemoryConsistency, ReadConsistency, WriteConsistency } from './consistency.js';

export { SYNC_METHOD, decodeSyncBatch, encodeSyncBatches } from './sync-transport.js';

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
   * Schemas of the node's other replicated documents by id (the task table), or by 'prefix/' for a family (task shards); agent memories
   * always follow the memory schema. Remote updates to a document with no schema are only checked
   * for being well-formed Yjs.
   */
  schemas?: Readonly<Record<string, UpdateSchema>>;
  /** Agent documents are unloaded when idle beyond this many bytes of memory (storage/residency.ts); none: all stay resident. */
  residency?: { budgetBytes: number; idleMs?: number };
  /** Splitting agents past SPLIT_AT into segment documents (docs/segmented-memory.md); default off: such agents are only read. */
  segments?: SplitOptions;
}

export type WriteOutcome = 'acknowledged' | 'timeout' | 'refused';


export class MemoryService implements AgentMemoryWriter {
  readonly docs: DurableDocSet;
  readonly engine: SyncEngine;
  private readonly agents: AgentDocs;
  private readonly acks: AckTracker;
  private readonly transport: SyncTransport;
  /** Replica sets: scoped sync, per-document quorums, handoff, reads on non-replicas (replica-sets.ts). */
  readonly replicas: ReplicaSets;
  /** Client writes on a non-replica, carried out by a replica (write-forward.ts). */
  readonly forward: WriteForward;
  private readonly syncListeners = new Set<SyncListener>();
  private readonly onSynced = (l: SyncListener): (() => void) => (this.syncListeners.add(l), () => this.syncListeners.delete(l));
  private readonly timer: DeadlineTimer;
  private readonly log: Logger;
  /** Set by the update listener while a local write runs, so the write learns its pushes' request ids. */
  private pushes: Array<{ requestId: number; peers: string[]; docId: string }> | undefined;
  /**
   * Pushes of the quorum write running now: sent together when its op returns (still before
   * writeQuorum yields), so a write that changes two documents (a task's outcome and its
   * episode) reaches each peer as one frame, and the peer's two acks come back as one.
   */
  private opSends: Array<{ peer: string; bytes: Uint8Array }> | undefined;
  /** The documents the quorum write running now changed. */
  private opDocs: Set<string> | undefined;
  private stopped = false;
  /** Local updates so far; a write that produced none needs no acknowledgement. */
  private localChanges = 0;
  readonly writeTimeoutMs: number;
  private readonly writeListeners = new Set<(ms: number, outcome: WriteOutcome) => void>();
  /**
   * Group commit (runtime/group-commit.ts), where the runtime has an end of turn (real nodes):
   * every update stored in one turn, local or replicated, is committed in one transaction (one
   * fsync), and the sync messages that answer peers (acks, deltas) wait in `outgoing` until that
   * commit returned, so an ack still means "stored durably". Pushes of our own updates go out
   * before that commit (at once, or batched by the transport), so the replicas store them while
   * we do (a write resolves only once its own copy is committed too). Without it (the
   * simulator) updates are stored at once.
   */
  private readonly commit: TurnFlush | undefined;
  private readonly commitNow: TurnFlush | undefined; // the same, once a write returned (see replicate)
  private outgoing: Array<{ peer: string; bytes: Uint8Array }> = [];
  /** True while the pushes of a local update are produced: those need not wait for our commit. */
  private pushingLocal = false;
  private durableWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly o: MemoryServiceOptions) {
    this.log = o.runtime.logger.child({ component: 'memory' });
    this.writeTimeoutMs = o.writeTimeoutMs ?? 5000;
    const residency = o.residency && { ...o.residency, now: () => o.runtime.clock.now(), evictable: (id: string) => id.startsWith(AGENT_PREFIX) };
    this.docs = new DurableDocSet(o.store, (id) => (id.startsWith(AGENT_PREFIX) ? MEMORY_SCHEMA : (o.schemas?.[id] ?? o.schemas?.[id.slice(0, id.indexOf('/') + 1)])), residency);
    this.agents = new AgentDocs(this.docs, o.self, () => o.runtime.rng.next(), o.segments);
    this.replicas = new ReplicaSets({ self: o.self, runtime: o.runtime, gate: o.gate, docs: this.docs, store: o.store, log: this.log, run: (e) => this.run(e), onSynced: this.onSynced, readTimeoutMs: this.writeTimeoutMs, recheck: () => this.acks.recheck(), rpc: o.rpc, addressOf: o.addressOf });
    const atEnd = endOfTurn(o.runtime.scheduler);
    const soon = beforeCommit(o.runtime.scheduler);
    this.engine = new SyncEngine({
      docs: this.docs,
      // With group commit, a turn's pushes leave together before its commit: one message per peer.
      config: syncConfig({ coalescePushes: Boolean(atEnd && soon), ...o.sync }),
      // From the runtime's generator, so a simulated run replays exactly (the sim seeds it).
      epoch: Math.floor(o.runtime.rng.next() * 2 ** 32),
      // Our acks say which voter configuration we are on (none under an entry of another incarnation); see the 'ack' case below.
      ackWord: () => ackWordOf(o.gate, o.self),
      scope: this.replicas.view,
    });
    this.replicas.attach(this.engine);
    // The replica's write plus 2 s, so a client waiting 10 s (the CLI) gets the write timeout, not silence, when the replica is cut off.
    const forwardMs = this.writeTimeoutMs + 2_000;
    this.forward = new WriteForward({ self: o.self, rpc: o.rpc, addressOf: o.addressOf, view: this.replicas.view, peers: () => this.engine.peerList(), admit: (d, l) => this.replicas.admit(d, l), beforeRead: (a, l) => this.beforeRead(a, l), timeoutMs: forwardMs });
    this.commit = atEnd && new TurnFlush(atEnd, () => this.flush());
    // Two ticks: after the pushes' socket writes, which the first tick's push flush queues.
    this.commitNow = this.commit && soon && new TurnFlush((fn) => soon(() => soon(fn)), () => this.flush());
    if (this.commit) this.docs.hold();
    this.acks = new AckTracker(o.runtime.scheduler, this.writeTimeoutMs);
    this.transport = new SyncTransport({
      self: o.self,
      rpc: o.rpc,
      log: this.log,
      addressOf: o.addressOf,
      // Pushes batch per turn only where they can still leave ahead of the turn's commit.
      soon: this.commit && beforeCommit(o.runtime.scheduler),
      onFrame: (from, messages) => this.receive(from, messages),
      takeStaged: () => this.takeSends(this.engine.flushPushes(o.runtime.clock.now())),
    });
    this.docs.onLocalUpdate((docId, update, origin) => {
      const local = !isRemoteOrigin(origin);
      if (local) this.localChanges++;
      if (local) this.opDocs?.add(docId);
      this.pushingLocal = local;
      try {
        this.run(this.engine.localUpdate(docId, update, origin));
      } finally {
        this.pushingLocal = false;
      }
      this.agents.changed(docId);
    });
    this.timer = new DeadlineTimer(o.runtime, () => this.engine.nextDeadline(), (now) => this.run(this.engine.tick(now)));
    this.timer.arm();
  }

  /**
   * An agent's document for writing inside a writeQuorum op, so one quorum write can cover a
   * change of the task table and the agent's episode together (both wait for the same majority).
   */
  agentDoc(agentId: string): AgentMemoryDoc {
    assertAgentId(agentId);
    return this.agents.open(agentId);
  }

  /** The API object for one agent's memory. */
  memory(agentId: string, consistency?: MemoryConsistency): AgentMemory {
    assertAgentId(agentId);
    const clock = this.o.runtime.clock;
    return new AgentMemory(agentId, this, () => (clock.wall ? clock.wall() : clock.now()), consistency);
  }

  /** Set by the node: answers recall from its index (src/recall); `agent` undefined searches every agent. */
  recallWith: ((agent: string | undefined, query: unknown) => RecallHit[]) | undefined;

  recall(agentId: string | undefined, query: unknown): RecallHit[] {
    if (agentId !== undefined) assertAgentId(agentId);
    if (!this.recallWith) throw new ConfigError('this memory has no recall index');
    return this.recallWith(agentId, query);
  }

  agentIds(): string[] {
    return this.agents.ids();
  }

  peek(agentId: string): SegmentedMemory | undefined {
    return this.agents.peek(agentId);
  }

  subscribe(agentId: string, cb: () => void): () => void {
    return this.agents.subscribe(agentId, cb);
  }

  /** Observes every write: its latency and how it ended (metrics). */
  onWrite(cb: (ms: number, outcome: WriteOutcome) => void): void {
    this.writeListeners.add(cb);
  }

  async write<T>(agentId: string, op: (doc: AgentMemoryDoc) => T, level?: WriteConsistency): Promise<T> {
    assertAgentId(agentId);
    return this.writeQuorum(() => op(this.agents.open(agentId)), [AGENT_PREFIX + agentId], level);
  }

  /** Reads of `agentId` on this node see every acknowledged write once this resolves (replica-read.ts). */
  async beforeRead(agentId: string, level?: ReadConsistency): Promise<void> {
    assertAgentId(agentId);
    await this.replicas.beforeRead(agentId, level);
    const bits = this.agents.peek(agentId)?.segmentBits() ?? 0; // a split agent: its segments too, each like the root
    if (bits > 0) await Promise.all(segmentDocNames(AGENT_PREFIX + agentId, bits).map((d) => this.replicas.beforeRead(d, level)));
  }

  /**
   * The quorum write path for any replicated document (agent memories, the task table): refuses
   * at once with QuorumError on a read-only node (nothing applied), runs `op` (its updates are
   * stored with fsync and pushed synchronously), then waits for a majority of voters to
   * acknowledge. WriteTimeoutError leaves the write applied; it converges later. `docs`: the
   * documents `op` will change when known, so a replica set without a majority refuses up front.
   */
  async writeQuorum<T>(op: () => T, docs: readonly string[] = [], level?: WriteConsistency): Promise<T> {
    const started = this.o.runtime.clock.now();
    const report = (outcome: WriteOutcome) => {
      const ms = this.o.runtime.clock.now() - started;
      for (const l of this.writeListeners) l(ms, outcome);
    };
    try {
      const result = await this.replicate(op, docs, level);
      report('acknowledged');
      return result;
    } catch (err) {
      const refused = err instanceof QuorumError;
      report(refused ? 'refused' : 'timeout');
      this.log.info({ err: (err as Error).message }, refused ? 'write refused: no quorum' : 'write not acknowledged in time');
      throw err;
    }
  }

  private async replicate<T>(op: () => T, docs: readonly string[], level?: WriteConsistency): Promise<T> {
    const admitted = this.replicas.admit(docs, level); // QuorumError before anything is applied: the voters', each agent's replica set (both during a move)
    if (admitted) await timed('write.admissionWait', admitted); // only while voters still adopt our configuration (adoption-wait.ts)
    const changesBefore = this.localChanges;
    const pushes: Array<{ requestId: number; peers: string[]; docId: string }> = [];
    const sends: Array<{ peer: string; bytes: Uint8Array }> = [];
    const changed = new Set<string>();
    this.pushes = pushes;
    this.opSends = sends;
    this.opDocs = changed;
    let result: T;
    try {
      result = op(); // its updates are stored (held for the group commit) and pushed synchronously
    } finally {
      this.pushes = undefined;
      this.opSends = undefined;
      this.opDocs = undefined;
      this.transport.sendBatched(sends);
    }
    if (this.localChanges === changesBefore) return result; // a write that changed nothing
    // Each update's own quorum (its agent's replica set, or the voters); WriteTimeoutError when
    // one was not even sent to enough of them (it stays applied here and converges later).
    const plans = this.replicas.writePlans(changed, pushes, level);
    const release = this.replicas.pin(changed); // a non-replica's copy stays until the write resolved
    try {
      if (!plans) await this.stored(); // a single voter (or replica): resolves once its own copy is on disk
      else {
        const acked = this.acks.wait(pushes.map((p) => p.requestId), plans, !this.commit, this.o.gate.ackRule());
        // No fsync running: ours starts once the pushes left, not at the end of the turn. Under
        // load one always runs, and the turn's writes still share the next.
        if (this.commitNow && this.docs.syncIdle()) this.commitNow.request();
        await acked;
      }
    } finally {
      release();
    }
    return result;
  }

  /** Pulls everything a peer has (a joining node); resolves true when the snapshot arrived. */
  fullSnapshotFrom(peer: string, timeoutMs: number): Promise<boolean> {
    const start = () => this.run(this.engine.requestFullSnapshot(peer, this.o.runtime.clock.now()));
    return syncedWithin(this.o.runtime.scheduler, this.onSynced, (e) => e.peer === peer && e.mode === 'full_snapshot', timeoutMs, start);
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
    this.replicas.stop();
    // What this turn stored goes to disk now (the store closes after us); unsent messages are dropped.
    this.outgoing = [];
    this.transport.stop();
    try {
      this.docs.release();
      for (const w of this.durableWaiters.splice(0)) w.resolve();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'storing the last updates failed at stop');
      for (const w of this.durableWaiters.splice(0)) w.reject(err as Error);
    }
    this.acks.stop();
  }

  /** The messages of one sync frame from `from`. */
  private receive(from: string, messages: Uint8Array[]): void {
    if (this.stopped) return;
    const now = this.o.runtime.clock.now();
    for (const bytes of messages) {
      try {
        this.run(this.engine.handle(from, bytes, now));
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'dropped a sync message that does not decode');
      }
    }
  }

  private run(effects: SyncEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          if (this.pushingLocal && this.transport.batchesPushes && !this.stopped) this.transport.queuePush(e.peer, e.bytes);
          else if (this.pushingLocal && this.opSends) this.opSends.push({ peer: e.peer, bytes: e.bytes });
          else if (this.commit && !this.stopped && !this.pushingLocal) this.outgoing.push({ peer: e.peer, bytes: e.bytes });
          else this.transport.send(e.peer, e.bytes);
          break;
        case 'pushed':
          this.pushes?.push({ requestId: e.requestId, peers: e.peers, docId: e.docId });
          if (this.engine.config.coalescePushes && !this.stopped) this.transport.requestFlush(); // staged: leaves with the turn's pushes
          break;
        case 'ack':
          this.acks.ack(e.requestId, e.peer, e.word, (w) => this.o.gate.countsAck(w));
          this.replicas.ack(e.requestId, e.peer, e.word);
          break;
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
    if (this.commit && !this.stopped && (this.outgoing.length > 0 || this.docs.heldCount() > 0 || this.engine.hasStagedAcks())) this.commit.request();
  }

  private takeSends(effects: SyncEffect[]): Array<{ peer: string; bytes: Uint8Array }> {
    return effects.flatMap((e) => (e.type === 'send' ? [{ peer: e.peer, bytes: e.bytes }] : []));
  }

  /** Resolves once every update stored so far is on disk (at once without group commit). */
  stored(): Promise<void> {
    if (!this.commit || this.docs.heldCount() === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.durableWaiters.push({ resolve, reject }));
  }

  /**
   * Group commit: one transaction for everything stored this turn, then, once it is on disk (the
   * fsync runs off the event loop: DurableDocSet.commitThen), the messages that waited for it.
   */
  private flush(): void {
    if (this.stopped) return;
    // Nothing since this turn's commitNow: no empty batch, no extra fsync.
    if (this.outgoing.length === 0 && this.durableWaiters.length === 0 && this.docs.heldCount() === 0 && !this.acks.holds() && !this.engine.hasStagedAcks()) return;
    // Acks staged by the engine (coalescePushes) leave with this batch: they acknowledge updates it stores.
    const sends = [...this.outgoing, ...this.takeSends(this.engine.takeAcks())];
    const writes = this.acks.takeHeld();
    const waiters = this.durableWaiters;
    this.outgoing = [];
    this.durableWaiters = [];
    this.docs.commitThen((err) => {
      if (err) {
        // Nothing of this batch is acknowledged or sent; its writes fail with the storage error.
        if (!this.stopped) this.log.error({ err: err.message, updates: sends.length }, 'storing updates failed: not acknowledging or sending them');
        this.acks.commitFailed(writes, err);
        for (const w of waiters) w.reject(err);
        return;
      }
      this.acks.commitDone(writes);
      for (const w of waiters) w.resolve();
      if (!this.stopped) this.transport.sendBatched(sends);
    });
  }
}
