// The quorum acknowledgements a write waits for. A write pushes one update per document it
// changed; each update is settled once our own copy is durable and the voters' acks make its
// quorum (its document's plan: QuorumGate.ackPlan, or its replica set's, replica-quorum.ts), and the write resolves when all of its updates are settled, or
// fails with WriteTimeoutError (still applied locally) when the timeout comes first.
import { WriteTimeoutError } from '../errors.js';
import type { Scheduler } from '../runtime/types.js';

import type { AckPlan } from '../quorum/rules.js';
import { traceNow, writeTrace } from '../util/write-trace.js';

export type { AckPlan };

/** One pushed update of a write (a write that touches two documents pushes two). */
interface PendingUpdate {
  plan: AckPlan;
  /** Whether an ack's config word counted when the write was planned (QuorumGate.ackRule). */
  countedAtPlan: (word: number) => boolean;
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
  /** When the write began waiting (TRI_WRITE_TRACE only), and when each ack and our own copy came. */
  t0?: number;
  trace?: { acks: Record<string, number>; durableMs?: number; voters: string[] };
}

export class AckTracker {
  private readonly pending = new Map<number, PendingUpdate>();
  /** Updates whose own copy waits in the current group commit. */
  private held: number[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Waits for the pushed updates `requestIds` of one write. `durable`: our own copy is on disk
   * already (no group commit); otherwise commitDone() says when it is. `plan`: one for every
   * update, or one per update (each document its own replica set).
   */
  wait(requestIds: number[], plan: AckPlan | readonly AckPlan[], durable: boolean, countedAtPlan: (word: number) => boolean = () => false): Promise<void> {
    const planOf = (i: number): AckPlan => (Array.isArray(plan) ? (plan as readonly AckPlan[])[i]! : (plan as AckPlan));
    const needed = Math.max(...requestIds.map((_, i) => planOf(i).needed));
    return new Promise<void>((resolve, reject) => {
      const group: WriteGroup = { requestIds, open: requestIds.length, resolve, reject, cancelTimer: () => undefined };
      if (writeTrace) {
        group.t0 = traceNow();
        group.trace = { acks: {}, voters: [...new Set(requestIds.flatMap((_, i) => [...planOf(i).voters]))] };
      }
      group.cancelTimer = this.scheduler.schedule(this.timeoutMs, () => {
        let acked = Infinity;
        for (const id of group.requestIds) {
          const p = this.pending.get(id);
          if (!p) continue;
          acked = Math.min(acked, p.acks.size);
          this.pending.delete(id);
        }
        if (acked === Infinity) return; // settled meanwhile
        reject(new WriteTimeoutError(`write applied locally but acknowledged by only ${acked} of the ${needed} other voters needed within ${this.timeoutMs} ms; it will converge later`));
      });
      for (const [i, id] of requestIds.entries()) {
        this.pending.set(id, { plan: planOf(i), countedAtPlan, acks: new Set(), durable, group });
        if (!durable) this.held.push(id);
      }
    });
  }

  /**
   * `peer` acknowledged storing update `requestId` on the configuration of `word`; `countsNow` says
   * whether that configuration counts on ours now (one that counted when the write was planned does too).
   */
  ack(requestId: number, peer: string, word: number, countsNow: (word: number) => boolean): void {
    const p = this.pending.get(requestId);
    if (!p || !p.plan.voters.has(peer)) return;
    // A member on another voter configuration (ours counted it by stale metadata) is not part of
    // our quorum: its ack must not make a write acknowledged.
    if (!countsNow(word) && !p.countedAtPlan(word)) return;
    p.acks.add(peer);
    if (p.group.t0 !== undefined) {
      writeTrace?.since(p.durable ? 'write.ackAfterOwnDurable' : 'write.ackBeforeOwnDurable', p.group.t0);
      p.group.trace!.acks[peer] ??= Math.round(traceNow() - p.group.t0);
    }
    this.settle(requestId, p);
  }

  /** The updates held so far (taken before a group commit, so later ones wait for the next). */
  /** Whether writes wait for the next group commit. */
  holds(): boolean {
    return this.held.length > 0;
  }

  takeHeld(): number[] {
    const ids = this.held;
    this.held = [];
    return ids;
  }

  /** The group commit holding `ids` returned: our own copies are durable. */
  commitDone(ids: readonly number[]): void {
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      p.durable = true;
      if (p.group.t0 !== undefined) {
        writeTrace?.since(p.acks.size > 0 ? 'write.ownDurableAfterAck' : 'write.ownDurableBeforeAck', p.group.t0);
        p.group.trace!.durableMs ??= Math.round(traceNow() - p.group.t0);
      }
      this.settle(id, p);
    }
  }

  /** The group commit holding `ids` failed: their writes fail with the storage error. */
  commitFailed(ids: readonly number[], err: Error): void {
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      for (const other of p.group.requestIds) this.pending.delete(other);
      p.group.cancelTimer();
      p.group.reject(err);
    }
  }

  /** Settles every waiting update whose plan completes now (a plan that changed its mind: a move completed). */
  recheck(): void {
    for (const [id, p] of [...this.pending]) this.settle(id, p);
  }

  /** The node stops: every write still waiting fails (it is stored locally). */
  stop(): void {
    const groups = new Set([...this.pending.values()].map((p) => p.group));
    this.pending.clear();
    this.held = [];
    for (const g of groups) {
      g.cancelTimer();
      g.reject(new WriteTimeoutError('the node stopped before a majority acknowledged the write; it is stored locally'));
    }
  }

  /** Settles one update once our own copy is durable and its acks make the quorum; a write resolves when all of its updates are. */
  private settle(requestId: number, p: PendingUpdate): void {
    if (!p.durable || !(p.plan.complete(p.acks) || (plantedShortAck && p.acks.size + 1 >= p.plan.needed))) return;
    this.pending.delete(requestId);
    if (--p.group.open > 0) return;
    p.group.cancelTimer();
    if (p.group.t0 !== undefined && writeTrace) {
      const ms = traceNow() - p.group.t0;
      writeTrace.add(`write.settled.voters${p.group.trace!.voters.length}`, ms);
      writeTrace.add('write.settled', ms);
      if (ms >= writeTrace.slowMs) writeTrace.slow({ ms: Math.round(ms), ...p.group.trace });
    }
    p.group.resolve();
  }
}

let plantedShortAck = false;
/**
 * Planted bug for the fuzzer (`tri fuzz --planted-bug short-ack`, src/fuzz/planted-bugs.ts): a
 * write resolves one acknowledgement short of its quorum, so it can be acknowledged while a
 * majority of its replica set does not hold it (the durability invariant must see it).
 */
export function plantShortAckBugForTesting(on: boolean): void {
  plantedShortAck = on;
}
