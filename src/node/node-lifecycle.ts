// The node's own lifecycle (JOINING, SYNCING, ACTIVE, DEGRADED, LEAVING, ...) and the metadata
// it publishes through gossip, and the quorum check that moves it between ACTIVE and DEGRADED:
// every QUORUM_CHECK_MS, and at once after member events in a small cluster.
import type { Swim, SwimEffect } from '../../gossip/swim.js';
import { NodeStoppedError } from '../errors.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { LifecycleState } from './lifecycle.js';
import { encodeMeta, type NodeMeta } from './meta.js';

/** How often lifecycle (ACTIVE/DEGRADED) and downing are re-evaluated besides member events. */
const QUORUM_CHECK_MS = 500;
/** Up to this many members, member events re-check quorum at once (see queueCheck). */
const EVENT_CHECK_MAX_MEMBERS = 64;
/** Free-slot changes are published at most this often (see publishFreeSlots). */
const FREE_SLOTS_PUBLISH_MS = 250;

export interface NodeLifecycleOptions {
  runtime: Runtime;
  log: Logger;
  swim: Swim;
  gate: QuorumGate;
  meta: NodeMeta;
  /** Carries out SWIM's effects (the driver; set once it exists). */
  apply: (effects: SwimEffect[]) => void;
  /** Members in the table, ourselves included. */
  memberCount: () => number;
  /** The voter-set protocol's periodic step (runs at every check). */
  drive: (now: number) => void;
  /** Our lifecycle, role or word changed: the member directory's own row follows. */
  onChange: () => void;
  stopped: () => boolean;
}

export class NodeLifecycle {
  private current: LifecycleState = 'JOINING';
  private published: NodeMeta;
  private checkQueued = false;
  private pendingFreeSlots: number | undefined;
  private freeSlotsFlush: (() => void) | undefined;

  constructor(private readonly o: NodeLifecycleOptions) {
    this.published = { ...o.meta, lifecycle: this.current };
  }

  get state(): LifecycleState {
    return this.current;
  }

  /** The metadata we publish (as last encoded into our SWIM record). */
  get meta(): NodeMeta {
    return this.published;
  }

  /** ACTIVE or DEGRADED: caught up, so quorum checks and reconciliation apply. */
  get running(): boolean {
    return this.current === 'ACTIVE' || this.current === 'DEGRADED';
  }

  /** Whether this node takes writes now (ACTIVE or DEGRADED, and the gate says writable). */
  writable(): boolean {
    return this.running && this.o.gate.verdict().writable;
  }

  set(state: LifecycleState): void {
    if (state === this.current) return;
    this.o.log.info({ from: this.current, to: state }, 'lifecycle');
    this.current = state;
    this.o.onChange();
    if (!this.o.stopped()) this.updateMeta({ lifecycle: state });
  }

  /** Marks the node LEFT after its shutdown (nothing is published any more). */
  markLeft(): void {
    this.current = 'LEFT';
  }

  /** Publishes new self-reported metadata (free slots, lifecycle, word) to the cluster. */
  updateMeta(patch: Partial<Pick<NodeMeta, 'freeSlots' | 'lifecycle' | 'configWord'>>): void {
    if (this.o.stopped()) throw new NodeStoppedError('the node has stopped');
    const next = { ...this.published, ...patch };
    const prev = this.published;
    if (next.freeSlots === prev.freeSlots && next.lifecycle === prev.lifecycle && next.configWord === prev.configWord) return;
    this.published = next;
    this.o.apply(this.o.swim.setMeta(encodeMeta(next), this.o.runtime.clock.now()));
  }

  /**
   * Every metadata change bumps the incarnation and is gossiped: slot changes (a busy node changes
   * them thousands of times a second) are coalesced into one update per FREE_SLOTS_PUBLISH_MS.
   */
  publishFreeSlots(free: number): void {
    this.pendingFreeSlots = free;
    if (this.freeSlotsFlush) return;
    this.freeSlotsFlush = this.o.runtime.scheduler.schedule(FREE_SLOTS_PUBLISH_MS, () => {
      this.freeSlotsFlush = undefined;
      if (!this.o.stopped() && this.pendingFreeSlots !== undefined) this.updateMeta({ freeSlots: this.pendingFreeSlots });
    });
  }

  /** Re-evaluates quorum every QUORUM_CHECK_MS: DEGRADED without it, ACTIVE with it, and downing. */
  startChecks(): void {
    if (this.o.stopped()) return;
    this.o.runtime.scheduler.schedule(QUORUM_CHECK_MS, () => {
      if (this.o.stopped()) return;
      this.check();
      this.startChecks();
    });
  }

  /**
   * One quorum re-check at the current time, however many member events arrive in a burst. In a
   * large cluster (where events never stop) the periodic check, at most QUORUM_CHECK_MS later,
   * does it instead. Writes never wait for this: they ask the gate directly.
   */
  queueCheck(): void {
    if (this.checkQueued || this.o.stopped() || this.o.memberCount() > EVENT_CHECK_MAX_MEMBERS) return;
    this.checkQueued = true;
    this.o.runtime.scheduler.schedule(0, () => {
      this.checkQueued = false;
      if (!this.o.stopped() && this.running) this.check();
    });
  }

  private check(): void {
    this.o.drive(this.o.runtime.clock.now());
    if (!this.running) return;
    const v = this.o.gate.verdict();
    if (!v.writable && this.current === 'ACTIVE') {
      this.o.log.warn({ reachable: v.reachable, voters: v.total }, `no quorum: read-only (${v.reason})`);
      this.set('DEGRADED');
    } else if (v.writable && this.current === 'DEGRADED') {
      this.o.log.info({ reachable: v.reachable, voters: v.total }, 'quorum regained: writable');
      this.set('ACTIVE');
    }
  }
}
