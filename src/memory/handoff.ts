// Handoff: a node gives away the agent documents it holds but is not a replica of (a voter set
// change moved them, a read or a write on a non-replica left a copy, a downed node came back with
// data), and drops each one only once a majority of its replica set stored everything it held.
//
// Per such document: ask each replica on our configuration by snapshot whether it already holds
// everything we hold (hold-check.ts: no document bytes); one that does not gets what it lacks (a
// diff against the state vector it answered; the whole document when it has no copy); count acks
// and confirmations only from replicas on that same configuration;
// once a strict majority acked, and the document is unchanged since the push (same digest: state
// vector and delete set), drop it from memory and storage. Anything else (the configuration moved
// on, the document changed, the drop had to wait for a group commit) pushes again on a later
// round. Why this keeps every acknowledged write: docs/replica-sets.md.
//
// Sans-IO apart from its timer: documents, the engine's push and the clock come in as functions.
import { equalBytes } from '../sync/hash.js';
import type { SyncEffect } from '../sync/types.js';
import type { Logger, Scheduler } from '../runtime/types.js';
import type { ReplicaView } from './replica-view.js';
import { placementKeyOf } from '../placement/replica-scope.js';

export interface HandoffOptions {
  view: ReplicaView;
  docs: { ids(): string[]; has(id: string): boolean; digest(id: string): Uint8Array; drop(id: string): boolean };
  /** The engine's whole-document push (SyncEngine.pushWhole) and its forgetting of a dropped document. */
  pushWhole: (docId: string, targets: readonly string[], since?: Uint8Array) => { requestId: number; effects: SyncEffect[] } | undefined;
  forgetDoc: (docId: string) => void;
  /** Peers the engine can reach now (alive members). */
  peers: () => readonly string[];
  /** Whether an ack carrying this configuration word counts on our configuration. */
  countsAck: (word: number) => boolean;
  /** Carries out the engine's effects (sends). */
  run: (effects: SyncEffect[]) => void;
  scheduler: Scheduler;
  now: () => number;
  log: Logger;
  /** How often held-but-not-ours documents are pushed (again); default 2 s. */
  intervalMs?: number;
  /** Called at the end of every round (completing moves: move-settle.ts). */
  onRound?: () => void;
  /**
   * Hold-checks of the replicas (replica-rpc.ts): the document's snapshot here (undefined: push
   * the whole document instead) and the question itself (rejects when refused or unreachable;
   * a "no" carries the replica's state vector when it holds a copy).
   */
  confirm?: {
    snapshot: (docId: string) => Uint8Array | undefined;
    ask: (peer: string, docId: string, epoch: number, snapshot: Uint8Array) => Promise<{ holds: boolean; sv?: Uint8Array }>;
  };
}

interface Transfer {
  /** The whole-document pushes of this transfer (to new replicas, and to continuing ones that lacked something). */
  requestIds: number[];
  epoch: number;
  replicas: readonly string[];
  /** The document's digest when it was pushed: the drop needs it unchanged. */
  digest: Uint8Array;
  /** Replicas that acknowledged the push or confirmed by hold-check that they hold everything. */
  acks: Set<string>;
  sentAt: number;
}

/** Delay before asking a continuing replica again whose hold-check was refused (not on our configuration yet) or lost. */
const RECHECK_MS = 200;

/** Documents pushed per round at most, so a node holding thousands of strays spreads the work. */
const MAX_PUSHES_PER_ROUND = 64;

export class Handoff {
  private readonly transfers = new Map<string, Transfer>();
  private readonly byRequest = new Map<number, string>();
  private cancel: (() => void) | undefined;
  private stopped = false;
  /** Documents given away and dropped since start, and pushes sent (for /status and tests). */
  dropped = 0;
  pushes = 0;
  /** Continuing replicas that confirmed by hold-check (no document bytes) that they held everything. */
  confirmations = 0;
  private readonly intervalMs: number;

  constructor(private readonly o: HandoffOptions) {
    this.intervalMs = o.intervalMs ?? 2000;
  }

  start(): void {
    this.arm(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  /** The voter configuration changed: look at once. */
  configChanged(): void {
    if (!this.stopped) this.arm(0);
  }

  /** The agent documents this node holds and is not a replica of (handed off, not yet dropped). */
  strays(): string[] {
    const scope = this.o.view.current();
    if (!scope.enforced) return [];
    // Agent memories and task shards; a learner keeps what it will hold once admitted (pre-warm).
    return this.o.docs.ids().filter((id) => placementKeyOf(id) !== undefined && !scope.isReplica(id) && !this.o.view.willHold(id));
  }

  /** Whether this node is handing `docId` off. */
  isMoving(docId: string): boolean {
    const scope = this.o.view.current();
    return scope.enforced && this.o.docs.has(docId) && !scope.isReplica(docId) && !this.o.view.willHold(docId);
  }

  /** One round: push every stray not already waiting for its acks. */
  round(): void {
    if (plantedStall) return;
    const scope = this.o.view.current();
    const now = this.o.now();
    for (const [id, t] of this.transfers) {
      if (t.epoch !== scope.epoch || now - t.sentAt >= 4 * this.intervalMs || !this.o.docs.has(id)) this.forget(id);
    }
    let sent = 0;
    for (const id of this.strays()) {
      if (sent >= MAX_PUSHES_PER_ROUND) break;
      if (this.transfers.has(id) || this.o.view.pulling.has(id)) continue;
      const replicas = scope.replicasOf(id)!;
      const alive = new Set(this.o.peers());
      const targets = replicas.filter((r) => alive.has(r));
      if (2 * targets.length <= replicas.length) continue; // no majority to give it to yet
      const snapshot = this.o.confirm?.snapshot(id);
      // Every replica is asked first (a new one may be pre-warmed: it then gets only what it lacks);
      // without a snapshot (structs waiting for dependencies) they get the whole document.
      const fresh = snapshot ? [] : targets;
      const t: Transfer = { requestIds: [], epoch: scope.epoch, replicas, digest: this.o.docs.digest(id).slice(), acks: new Set(), sentAt: now };
      if (fresh.length > 0 && !this.push(id, t, fresh)) continue;
      this.transfers.set(id, t);
      this.pushes++;
      sent++;
      for (const peer of targets) if (!fresh.includes(peer)) this.check(id, t, peer, snapshot!);
      if (plantedUnackedDrop) this.tryDrop(id, t);
    }
    this.o.onRound?.();
  }

  /** An ack of a sync push: ours when it answers a handoff push. */
  ack(requestId: number, peer: string, word: number): void {
    const id = this.byRequest.get(requestId);
    if (id === undefined) return;
    const t = this.transfers.get(id);
    if (!t || !t.requestIds.includes(requestId) || !this.o.countsAck(word)) return;
    this.confirmed(id, t, peer);
  }

  private confirmed(id: string, t: Transfer, peer: string): void {
    if (!t.replicas.includes(peer)) return;
    t.acks.add(peer);
    if (2 * t.acks.size > t.replicas.length) this.tryDrop(id, t);
  }

  /** Whole-document push of `id` to `targets` as part of transfer `t`; false when the engine sent nothing. */
  private push(id: string, t: Transfer, targets: readonly string[], since?: Uint8Array): boolean {
    const pushed = this.o.pushWhole(id, targets, since);
    if (!pushed) return false;
    t.requestIds.push(pushed.requestId);
    this.byRequest.set(pushed.requestId, id);
    this.o.run(pushed.effects);
    return true;
  }

  /** Asks continuing replica `peer` whether it holds everything of `id` we held at the push; pushes it the document when not. */
  private check(id: string, t: Transfer, peer: string, snapshot: Uint8Array, tries = 0): void {
    const live = (): boolean => !this.stopped && this.transfers.get(id) === t && this.o.view.current().epoch === t.epoch;
    this.o.confirm!.ask(peer, id, t.epoch, snapshot).then(
      ({ holds, sv }) => {
        if (!live()) return;
        if (holds) {
          this.confirmations++;
          this.confirmed(id, t, peer);
        } else {
          this.push(id, t, [peer], sv); // what it lacks: with its state vector, it then holds everything we held
        }
      },
      (err: unknown) => {
        if (!live()) return;
        this.o.log.debug({ doc: id, peer, err: (err as Error).message }, 'hold-check not answered; asking again');
        // Refused (it has not adopted our configuration yet) or lost: ask again soon, then fall back to the push.
        if (tries < 5) this.o.scheduler.schedule(RECHECK_MS, () => live() && this.check(id, t, peer, snapshot, tries + 1));
        else this.push(id, t, [peer]);
      },
    );
  }

  private tryDrop(id: string, t: Transfer): void {
    const scope = this.o.view.current();
    // Gone stale: the configuration moved on (we may even be a replica again), or the document
    // changed after the push (what we hold now is not known to be stored by the majority).
    if (scope.epoch !== t.epoch || scope.isReplica(id) || !equalBytes(this.o.docs.digest(id), t.digest) || this.o.view.pulling.has(id)) {
      this.forget(id);
      return;
    }
    if (!this.o.docs.drop(id)) return; // updates of it wait for a group commit: the next ack or round retries
    this.o.forgetDoc(id);
    this.forget(id);
    this.dropped++;
    this.o.log.debug({ doc: id, replicas: t.replicas, acks: [...t.acks] }, 'handed a document off to its replica set and dropped it');
  }

  private forget(id: string): void {
    const t = this.transfers.get(id);
    if (t) for (const r of t.requestIds) this.byRequest.delete(r);
    this.transfers.delete(id);
  }

  private arm(delayMs: number): void {
    this.cancel?.();
    this.cancel = this.o.scheduler.schedule(delayMs, () => {
      if (this.stopped) return;
      try {
        this.round();
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'handoff round failed; retrying');
      }
      this.arm(this.intervalMs);
    });
  }
}

// Planted bugs for the fuzzer (src/fuzz/planted-bugs.ts); both off unless a fuzz run turns them on.
let plantedUnackedDrop = false;
let plantedStall = false;
/** `handoff-drops-unacked`: a stray is dropped as soon as it is pushed, before any replica acknowledged it. */
export function plantUnackedDropBugForTesting(on: boolean): void {
  plantedUnackedDrop = on;
}
/** `handoff-stalls`: handoff rounds do nothing, so a move never completes. */
export function plantStallBugForTesting(on: boolean): void {
  plantedStall = on;
}
