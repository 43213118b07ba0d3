// Replica sets for a node's memory, in one place: the view (what the sync engine pushes and
// compares with whom, and what each write needs), handoff (giving away what is no longer ours)
// and reads on non-replicas (pull from a majority first). MemoryService builds one and wires it in
// a few lines; docs/replica-sets.md explains the whole.
import { WriteTimeoutError } from '../errors.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { DurableDocSet } from '../storage/durable-doc-set.js';
import type { SyncEngine } from '../sync/engine.js';
import type { SyncEffect } from '../sync/types.js';
import type { SyncListener } from './sync-waits.js';
import type { AckPlan } from './ack-tracker.js';
import { AGENT_PREFIX } from './agent-docs.js';
import { Handoff, type HandoffOptions } from './handoff.js';
import { ReplicaReads } from './replica-read.js';
import { ReplicaView } from './replica-view.js';
import { MoveSettle } from './move-settle.js';
import type { MoveStore } from './replica-moves.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { holdSnapshot } from './hold-check.js';
import { ReplicaPeers, type Refusal } from './replica-peers.js';
import { MoveCompletion } from './move-completion.js';
import { admitOrWait } from './adoption-wait.js';
import { replicaRpc, type ReplicaAsk } from './replica-rpc.js';
import type { ReadConsistency, WriteConsistency } from '../quorum/replica-quorum.js';


export interface ReplicaSetsOptions {
  self: string;
  runtime: Runtime;
  gate: QuorumGate;
  docs: DurableDocSet;
  /** Where the previous configurations of unfinished moves are kept (the node's store). */
  store?: MoveStore;
  log: Logger;
  run: (effects: SyncEffect[]) => void;
  onSynced: (cb: SyncListener) => () => void;
  readTimeoutMs: number;
  handoffIntervalMs?: number;
  /** Re-evaluates waiting writes (AckTracker.recheck) once a move completed. */
  recheck?: () => void;
  /** Member RPCs between replicas (hold-check, move-done: replica-rpc.ts); without them handoff pushes whole documents to every replica. */
  rpc?: RpcEndpoint;
  addressOf?: (name: string) => string | undefined;
}

/** What /status and `tri memory placement` show of this node's share of the memory. */
export interface HeldStatus {
  documentsHeld: number;
  bytesHeld: number;
  /**
   * Agent documents held here that are moving: handing off to their replica set (not ours), or
   * held as a replica whose move is not complete yet as far as this node knows (its writes need
   * the previous sets too). Drops document by document as each move completes.
   */
  documentsMoving: number;
  replicationFactor: number;
  /** Whether replica sets are smaller than the voter set (false: every voter holds everything). */
  partial: boolean;
  handoffDropped: number;
  readPulls: number;
  /** Remote updates refused because this node is not a replica of their document. */
  refused: number;
  /** Epochs of the previous configurations whose moves may be unfinished (writes to their moved documents need both majorities). */
  movingFrom: number[];
  /** Document moves completed here (a majority of the new set holds everything of the old sets' majorities). */
  movesSettled: number;
  /** Times every voter was seen done moving and the previous configurations' records were released here (move-completion.ts). */
  movesReleased: number;
  /** Continuing replicas that confirmed by hold-check (no document bytes) that they held everything a stray held. */
  handoffConfirmed: number;
  /** Hold-checks and move-done questions from other members refused, by reason; nothing changed (replica-peers.ts). */
  peerRefused: Record<Refusal, number>;
}

export class ReplicaSets {
  readonly view: ReplicaView;
  private handoff: Handoff | undefined;
  private reads: ReplicaReads | undefined;
  private settler: MoveSettle | undefined;
  private engine: SyncEngine | undefined;
  /** Answers other replicas' questions and counts the refused ones (replica-peers.ts). */
  readonly peers: ReplicaPeers;
  private readonly ask: ReplicaAsk | undefined;
  /** Announced move completion (move-completion.ts). */
  readonly completion: MoveCompletion;

  constructor(private readonly o: ReplicaSetsOptions) {
    this.view = new ReplicaView(o.self, o.gate, o.store, o.log);
    this.completion = new MoveCompletion({
      self: o.self,
      config: () => {
        const c = this.view.current().config;
        return { epoch: c.epoch, voters: c.voters.map((v) => v.name) };
      },
      records: () => this.view.moves.epochs(),
      settledHere: () => this.settledHere(),
      release: (epoch) => {
        this.view.moves.releaseBefore(epoch);
        o.recheck?.(); // writes waiting for an old set's acks need the current set only now
      },
    });
    this.peers = new ReplicaPeers({ view: this.view, docs: o.docs, completion: this.completion, onDocMoved: () => o.recheck?.() });
    const durable = (): Promise<void> => new Promise((resolve, reject) => o.docs.commitThen((err) => (err ? reject(err) : resolve())));
    this.ask = o.rpc && o.addressOf && replicaRpc(o.self, o.rpc, o.addressOf, this.peers, durable);
  }

  /** Second step, once the engine (which takes the view as its scope) exists. */
  attach(engine: SyncEngine): void {
    const o = this.o;
    this.engine = engine;
    const peers = (): string[] => engine.peerList();
    const now = (): number => o.runtime.clock.now();
    this.handoff = new Handoff({
      view: this.view,
      docs: o.docs,
      pushWhole: (id, targets, since) => engine.pushWhole(id, targets, now(), since),
      forgetDoc: (id) => engine.forgetDoc(id),
      peers,
      countsAck: (w) => o.gate.countsAck(w),
      run: o.run,
      scheduler: o.runtime.scheduler,
      now,
      log: o.log,
      intervalMs: o.handoffIntervalMs,
      onRound: () => {
        this.settler?.sweep(o.docs.ids());
        this.askDone();
      },
      confirm: this.ask && this.confirmer(this.ask),
    });
    this.reads = new ReplicaReads({
      view: this.view,
      pull: (peer, id) => engine.syncDocument(peer, id, now()),
      run: o.run,
      onSynced: o.onSynced,
      peers,
      scheduler: o.runtime.scheduler,
      timeoutMs: o.readTimeoutMs,
    });
    const reads = this.reads;
    this.settler = new MoveSettle({
      view: this.view,
      pull: (id, opts) => reads.pull(id, opts),
      has: (id) => o.docs.has(id),
      pushWhole: (id, targets) => engine.pushWhole(id, targets, now()),
      peers,
      countsAck: (w) => o.gate.countsAck(w),
      run: o.run,
      scheduler: o.runtime.scheduler,
      timeoutMs: o.readTimeoutMs,
      log: o.log,
      onSettled: (id, epoch, members) => {
        o.recheck?.();
        this.announceMoved(id, epoch, members);
      },
      confirm: this.ask && { snapshot: (id) => holdSnapshot(o.docs.doc(id)), ask: (peer, id, epoch, snapshot) => this.ask!.holdCheck(peer, id, epoch, snapshot) },
    });
    o.gate.onConfigChange(() => {
      this.view.current(); // records the previous configuration of the moves at once
      this.handoff?.configChanged();
      // New co-replicas (a joiner, a re-admitted node) get what this node holds for them now, by
      // one anti-entropy round each, instead of waiting for the round-robin (one peer per period).
      const alive = new Set(peers());
      for (const peer of this.newCoReplicas()) if (alive.has(peer)) o.run(engine.startAntiEntropy(peer, now()));
    });
    this.handoff.start();
  }

  /** Hold-checks for handoff and move completion: continuing replicas confirm by snapshot instead of receiving the document. */
  private confirmer(ask: ReplicaAsk): NonNullable<HandoffOptions['confirm']> {
    return {
      snapshot: (id) => holdSnapshot(this.o.docs.doc(id)),
      ask: (peer, id, epoch, snapshot) => ask.holdCheck(peer, id, epoch, snapshot),
    };
  }

  /** Whether this node is done moving onto its configuration: no stray, and no document it holds as a replica still moving here. */
  private settledHere(): boolean {
    if ((this.handoff?.strays().length ?? 0) > 0) return false;
    const scope = this.view.current();
    if (this.view.moves.epochs().length === 0) return true;
    return !this.o.docs.ids().some((id) => scope.isReplica(id) && this.view.previousSets(id).length > 0);
  }

  /** One round of announced move completion: ask the voters not yet known done; tell them all once every one is. */
  private askDone(): void {
    const ask = this.ask;
    if (!ask) return;
    const epoch = this.view.current().epoch;
    const toAsk = this.completion.toAsk();
    if (toAsk.length === 0) return; // (no set of every peer per round for nothing: O(N) per node per round)
    const alive = new Set(this.engine?.peerList() ?? []);
    for (const peer of toAsk) {
      if (!alive.has(peer)) continue;
      ask.moveDone(peer, epoch, false).then(
        (a) => {
          for (const v of this.completion.answer(peer, epoch, a)) ask.moveDone(v, epoch, true).catch(() => undefined);
        },
        (err: unknown) => this.o.log.debug({ peer, err: (err as Error).message }, 'move-done not answered; asking again next round'),
      );
    }
  }

  /**
   * Per-document move completion: `docId`'s move onto `epoch` completed here, so its other current
   * and previous replicas (those that write or acknowledge it) mark it complete too and stop
   * needing the previous sets' majorities for it (and stop counting it as moving), each document
   * as it completes rather than when every voter is done (move-completion.ts). One notice per
   * member, not retried: a member that misses it completes the move itself (its own settle).
   */
  private announceMoved(docId: string, epoch: number, members: readonly string[]): void {
    const ask = this.ask;
    if (!ask) return;
    const alive = new Set(this.engine?.peerList() ?? []);
    for (const peer of members) {
      if (peer === this.o.self || !alive.has(peer)) continue;
      ask.moveDone(peer, epoch, false, docId).catch((err: unknown) => this.o.log.debug({ peer, doc: docId, err: (err as Error).message }, 'move-done notice not taken'));
    }
  }

  /** Members that, on the last configuration change, joined the replica set of a document this node holds and is a replica of. */
  private newCoReplicas(): string[] {
    const cur = this.view.current();
    const prev = this.view.previous();
    if (!prev || !cur.enforced) return [];
    const out = new Set<string>();
    for (const id of this.o.docs.ids()) {
      if (!id.startsWith(AGENT_PREFIX) || !cur.isReplica(id)) continue;
      const before = prev.replicasOf(id) ?? [];
      for (const n of cur.replicasOf(id) ?? []) if (n !== this.o.self && !before.includes(n)) out.add(n);
    }
    return [...out];
  }

  /**
   * The admission of a write, before anything is applied: QuorumError when this node is read-only
   * or an agent's replica set (both sets during a move) has no reachable majority; a promise when
   * it would be admitted counting voters that are alive but still adopting this node's
   * configuration (adoption-wait.ts: it waits for them, bounded); undefined when admitted now.
   */
  admit(docIds: readonly string[], level: WriteConsistency = 'majority'): Promise<void> | undefined {
    const { gate, runtime } = this.o;
    const check = (): void => {
      gate.assertWritable();
      this.assertWritable(docIds, level);
    };
    return admitOrWait(check, () => this.admittedOnceAdopted(docIds, level), runtime.scheduler, () => runtime.clock.now());
  }

  /**
   * Whether the write would be admitted if the voters still adopting our configuration were on it,
   * and the members of its documents' replica sets (current and previous) that SWIM only suspects
   * answered (a starved process: `move-writes` at load 30-60 saw one refuse a write in a graceful
   * leave, and the joiner with one other replica in a join). The cluster-level check is not widened.
   */
  private admittedOnceAdopted(docIds: readonly string[], level: WriteConsistency): boolean {
    const adopting = this.o.gate.adoptingVoters();
    const reach = adopting.size === 0 ? this.o.gate.reachableVoters() : new Set([...this.o.gate.reachableVoters(), ...adopting]);
    if (!this.o.gate.isQuorum(reach)) return false;
    try {
      for (const id of docIds) this.view.assertReachable(id, level, reach, true);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * QuorumError, before anything is applied, when an agent's replica set has no reachable
   * majority (at `all`: a replica unreachable), or a set it is still moving from has none. A
   * document in an incomplete move starts completing it (move-settle.ts) meanwhile.
   */
  assertWritable(docIds: readonly string[], level: WriteConsistency = 'majority'): void {
    for (const id of docIds) this.view.assertReachable(id, level);
    for (const id of docIds) this.settler?.settle(id);
  }

  /**
   * The ack plan of each push of a write that changed `changed`, or undefined when none needs an
   * ack from anyone else (a single voter or replica: its own durable copy is the quorum). Throws
   * WriteTimeoutError when an update was not even sent to enough of its replicas (or voters).
   */
  writePlans(changed: ReadonlySet<string>, pushes: ReadonlyArray<{ peers: string[]; docId: string }>, level: WriteConsistency = 'majority'): AckPlan[] | undefined {
    const byDoc = new Map([...changed].map((id) => [id, this.view.planFor(id, level)]));
    if ([...byDoc.values()].every((p) => p.needed === 0 && p.complete(new Set()))) return undefined;
    for (const [id, plan] of byDoc) {
      if (plan.complete(new Set())) continue;
      const sentTo = new Set(pushes.filter((p) => p.docId === id).flatMap((p) => p.peers.filter((n) => plan.voters.has(n))));
      if (!plan.complete(sentTo)) {
        throw new WriteTimeoutError(`write applied locally but only ${sentTo.size} of the other voters or replicas needed (${plan.needed} or more) could be sent it; it will converge when they are reachable`);
      }
    }
    return pushes.map((p) => byDoc.get(p.docId) ?? this.view.planFor(p.docId, level));
  }

  /** Keeps `docIds` from being handed off and dropped until the returned release (a write in flight). */
  pin(docIds: Iterable<string>): () => void {
    const releases = [...docIds].map((id) => this.view.startPull(id));
    return () => releases.forEach((r) => r());
  }

  /** An ack of a sync push (handoff counts its own). */
  ack(requestId: number, peer: string, word: number): void {
    this.handoff?.ack(requestId, peer, word);
    this.settler?.ack(requestId, peer, word);
  }

  /**
   * Before reading an agent's memory here: merge it from a majority of its replicas when this
   * node is not one (or is new to the set during a move); at `majority`, on a replica too.
   * `docOrAgent`: an agent id, or one of its documents by name (a split agent's segment).
   */
  async beforeRead(docOrAgent: string, level: ReadConsistency = 'local'): Promise<void> {
    await this.reads?.pull(docOrAgent.startsWith(AGENT_PREFIX) ? docOrAgent : AGENT_PREFIX + docOrAgent, { force: level === 'majority' });
  }

  /**
   * A leaving node, once it is off the voter set: resolves when it has handed every agent document
   * it held to its replica set (each dropped after a majority stored it), or after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<boolean> {
    const sched = this.o.runtime.scheduler;
    const until = this.o.runtime.clock.now() + timeoutMs;
    this.view.leaving = true; // a leaver is off the voters like a learner, but hands everything off
    this.handoff?.configChanged();
    return new Promise((resolve) => {
      const check = (): void => {
        const left = this.handoff?.strays().length ?? 0;
        if (left === 0 || this.o.runtime.clock.now() >= until) resolve(left === 0);
        else sched.schedule(100, check);
      };
      check();
    });
  }

  isMoving(agentId: string): boolean {
    return this.handoff?.isMoving(AGENT_PREFIX + agentId) ?? false;
  }

  status(): HeldStatus {
    const scope = this.view.current();
    let bytes = 0;
    let incomplete = 0;
    const ids = this.o.docs.ids();
    const moving = this.view.moves.epochs().length > 0;
    for (const id of ids) {
      const s = this.o.docs.storageStats(id);
      bytes += s.snapshotBytes + s.logBytes;
      if (moving && scope.isReplica(id) && this.view.previousSets(id).length > 0) incomplete++;
    }
    return {
      documentsHeld: ids.length,
      bytesHeld: bytes,
      documentsMoving: (this.handoff?.strays().length ?? 0) + incomplete,
      replicationFactor: scope.config.replicationFactor,
      partial: scope.enforced,
      handoffDropped: this.handoff?.dropped ?? 0,
      readPulls: this.reads?.pulls ?? 0,
      refused: this.engine?.refused() ?? 0,
      movingFrom: this.view.moves.epochs(),
      movesSettled: this.settler?.settled ?? 0,
      handoffConfirmed: this.handoff?.confirmations ?? 0,
      movesReleased: this.completion.releases,
      peerRefused: { ...this.peers.refused },
    };
  }

  stop(): void {
    this.handoff?.stop();
  }
}
