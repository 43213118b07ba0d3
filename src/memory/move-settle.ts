// Completing a document's move here: once a majority of its current replica set stored
// everything a majority of each previous set held, its writes need the current set only.
//
// Steps for one document (started by a write during a move, and every handoff round for the
// documents this node is a current replica of). Quiet path first (no document bytes): ask the
// members of the current and previous sets by snapshot (hold-check.ts) whether this node holds
// everything they hold and whether they hold everything it holds; when a majority of every
// previous set is within this node's copy and a majority of the current set holds all of it, the
// move is complete; members of the current set that lack something get the document only while
// the holders are not a majority yet. When any member holds something this node lacks, or there
// is no snapshot to ask with: merge it from a majority of every previous set it
// is moving from (and of the current set: ReplicaReads.pull, strict), push the whole merged
// document to the current set (one acknowledged `update`), and once a strict majority of the
// current set acknowledged it on our configuration (this node counts when it is one of them),
// mark the move complete on that configuration (replica-moves.ts). Any write acknowledged on a
// previous configuration sat on a majority of that set, which the merge intersected; writes
// acknowledged during the move had the current set's majority themselves. Nothing here refuses
// or delays a write: until the mark, writes simply keep needing both majorities.
import type { Logger, Scheduler } from '../runtime/types.js';
import type { SyncEffect } from '../sync/types.js';
import type { PullOptions } from './replica-read.js';
import { setOf } from './replica-moves.js';
import type { HoldAnswer } from './hold-check.js';
import type { ReplicaView } from './replica-view.js';

export interface MoveSettleOptions {
  view: ReplicaView;
  /** ReplicaReads.pull: merge from a majority of the current and of every previous set. */
  pull: (docId: string, opts: PullOptions) => Promise<void>;
  has: (docId: string) => boolean;
  pushWhole: (docId: string, targets: readonly string[]) => { requestId: number; effects: SyncEffect[] } | undefined;
  peers: () => readonly string[];
  countsAck: (word: number) => boolean;
  run: (effects: SyncEffect[]) => void;
  scheduler: Scheduler;
  timeoutMs: number;
  log: Logger;
  /** `docId`'s move completed on `epoch`: writes waiting for the previous sets' acks may be done now; `members` (its current and previous sets) may be told. */
  onSettled?: (docId: string, epoch: number, members: readonly string[]) => void;
  /** Hold-checks (replica-rpc.ts): this node's snapshot of a document (undefined: none to ask with) and the question. */
  confirm?: {
    snapshot: (docId: string) => Uint8Array | undefined;
    ask: (peer: string, docId: string, epoch: number, snapshot: Uint8Array) => Promise<HoldAnswer>;
  };
}

interface Settling {
  epoch: number;
  set: readonly string[];
  requestId: number | undefined;
  acks: Set<string>;
  finish: () => void;
}

/** Documents settled per sweep at most, so a node holding many moved documents spreads the work. */
const MAX_SWEEP = 16;

export class MoveSettle {
  private readonly running = new Map<string, Settling>();
  private readonly byRequest = new Map<number, string>();
  /** Moves completed here (for tests and /status). */
  settled = 0;

  constructor(private readonly o: MoveSettleOptions) {}

  /** Starts completing `docId`'s move unless it is complete, not moving, or already being completed. */
  settle(docId: string): void {
    const view = this.o.view;
    const scope = view.current();
    if (this.running.has(docId) || view.previousSets(docId).length === 0) return;
    const release = view.startPull(docId); // not handed off and dropped meanwhile
    const s: Settling = { epoch: scope.epoch, set: setOf(scope, docId), requestId: undefined, acks: new Set(), finish: () => undefined };
    this.running.set(docId, s);
    const cancel = this.o.scheduler.schedule(this.o.timeoutMs, () => s.finish());
    s.finish = () => {
      cancel();
      release();
      if (s.requestId !== undefined) this.byRequest.delete(s.requestId);
      if (this.running.get(docId) === s) this.running.delete(docId);
    };
    const snapshot = this.o.confirm && this.o.has(docId) ? this.o.confirm.snapshot(docId) : undefined;
    const work = snapshot ? this.compare(docId, s, snapshot) : this.merge(docId, s);
    work.catch((err: unknown) => {
      this.o.log.debug({ doc: docId, err: (err as Error).message }, 'completing a move must wait: a previous or the current set did not answer');
      s.finish();
    });
  }

  /** The old way: merge from a majority of every set (document bytes in), then push the whole document to the current set. */
  private async merge(docId: string, s: Settling, thenCompare = false): Promise<void> {
    await this.o.pull(docId, { force: true, strict: true });
    // Having merged, ask again by snapshot: only members of the current set that lack something get the document.
    const snapshot = thenCompare && this.o.has(docId) ? this.o.confirm?.snapshot(docId) : undefined;
    if (snapshot && this.running.get(docId) === s) return this.compare(docId, s, snapshot, true);
    this.push(docId, s);
  }

  /** The quiet way: compare snapshots with the members of every set; only a lack moves bytes. */
  private async compare(docId: string, s: Settling, snapshot: Uint8Array, merged = false): Promise<void> {
    const view = this.o.view;
    const self = view.current().self;
    const prev = view.previousSets(docId);
    const alive = new Set(this.o.peers());
    const asked = new Set([...s.set, ...prev.flatMap((p) => p.replicas)].filter((n) => n !== self && alive.has(n)));
    const answers = new Map<string, HoldAnswer>();
    await Promise.all([...asked].map((peer) => this.o.confirm!.ask(peer, docId, s.epoch, snapshot).then((a) => void answers.set(peer, a), () => undefined)));
    if (this.running.get(docId) !== s) return;
    if (view.current().epoch !== s.epoch) return s.finish();
    if ([...answers.values()].some((a) => !a.within)) {
      // A member holds something we lack: merge it (once), then compare again; still lacking after a merge: the old way.
      if (!merged) return this.merge(docId, s, true);
      this.push(docId, s);
      return;
    }
    for (const p of prev) {
      const within = p.replicas.filter((m) => m === self || answers.has(m)).length;
      if (2 * within <= p.replicas.length) throw new Error(`no majority of the previous set ${p.replicas.join(',')} answered`);
    }
    for (const m of s.set) if (answers.get(m)?.holds) s.acks.add(m);
    if (this.holders(docId, s) * 2 <= s.set.length) {
      this.pushTo(docId, s, s.set.filter((m) => answers.get(m)?.holds === false));
    }
    this.check(docId, s);
  }

  /** Every handoff round: complete the moves of documents this node holds as a current replica. */
  sweep(ids: readonly string[]): void {
    const scope = this.o.view.current();
    let n = 0;
    for (const id of ids) {
      if (n >= MAX_SWEEP) break;
      if (this.running.has(id) || !scope.isReplica(id) || this.o.view.previousSets(id).length === 0) continue;
      this.settle(id);
      n++;
    }
  }

  /** An ack of a sync push: ours when it answers a settling push. */
  ack(requestId: number, peer: string, word: number): void {
    const id = this.byRequest.get(requestId);
    const s = id === undefined ? undefined : this.running.get(id);
    if (!s || s.requestId !== requestId || !s.set.includes(peer) || !this.o.countsAck(word)) return;
    s.acks.add(peer);
    this.check(id!, s);
  }

  private push(docId: string, s: Settling): void {
    if (this.o.view.current().epoch !== s.epoch) return s.finish();
    if (!this.o.has(docId)) return this.complete(docId, s); // no majority of any previous set holds it: nothing acknowledged to move
    const alive = new Set(this.o.peers());
    const self = this.o.view.current().self;
    this.pushTo(docId, s, s.set.filter((n) => n !== self && alive.has(n)));
    this.check(docId, s);
  }

  /** Pushes the whole document to `targets`; their acks of that push count for this move. */
  private pushTo(docId: string, s: Settling, targets: readonly string[]): void {
    const pushed = targets.length > 0 ? this.o.pushWhole(docId, targets) : undefined;
    if (!pushed) return;
    s.requestId = pushed.requestId;
    this.byRequest.set(pushed.requestId, docId);
    this.o.run(pushed.effects);
  }

  private check(docId: string, s: Settling): void {
    if (2 * this.holders(docId, s) > s.set.length) this.complete(docId, s);
  }

  /** Members of the current set known to hold everything this node held: itself, acks, confirmations. */
  private holders(docId: string, s: Settling): number {
    const self = this.o.view.current().self;
    let n = 0;
    for (const r of s.set) if ((r === self && this.o.has(docId)) || s.acks.has(r)) n++;
    return n;
  }

  private complete(docId: string, s: Settling): void {
    if (this.o.view.current().epoch === s.epoch) {
      const members = new Set([...s.set, ...this.o.view.previousSets(docId).flatMap((p) => p.replicas)]);
      this.o.view.moves.markDone(docId, s.epoch);
      this.settled++;
      this.o.onSettled?.(docId, s.epoch, [...members]);
    }
    s.finish();
  }
}
