// The node's own lifecycle (JOINING, SYNCING, ACTIVE, DEGRADED, LEAVING, ...) and the metadata
// it publishes through gossip, and the quorum check that moves it between ACTIVE and DEGRADED:
// every QUORUM_CHECK_MS, and at once after member events in a small cluster.
import type { Swim, SwimEffect } from '../../gossip/swim.js';
import { NodeStoppedError } from '../errors.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import type { WritableVerdict } from '../quorum/rules.js';
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
  /** The configuration word we are on (the gate's): every metadata update carries it. */
  word: () => number;
  /** Tells the cluster our new word directly, once it is published (JoinLoop.announceWord). */
  announceWord: () => void;
  stopped: () => boolean;
}

export class NodeLifecycle {
  private current: LifecycleState = 'JOINING';
  private published: NodeMeta;
  private checkQueued = false;
  private pendingFreeSlots: number | undefined;
  private freeSlotsFlush: (() => void) | undefined;
  /** The word last announced (publishWord), and the pending publication of a new one. */
  private announcedWord: number | undefined;
  private wordFlush: (() => void) | undefined;

  constructor(private readonly o: NodeLifecycleOptions) {
    this.published = { ...o.meta, lifecycle: this.current };
    this.announcedWord = o.meta.configWord ?? 0;
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

  /** Publishes new self-reported metadata (free slots, lifecycle) to the cluster, with our current word. */
  updateMeta(patch: Partial<Pick<NodeMeta, 'freeSlots' | 'lifecycle' | 'configWord'>>): void {
    if (this.o.stopped()) throw new NodeStoppedError('the node has stopped');
    const next = { ...this.published, configWord: this.o.word(), ...patch };
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

  /**
   * Our configuration word changed (the gate's listener): published once the change has settled,
   * at once when it came with an adopted configuration (publishWord) and otherwise at the end of
   * this turn, so the evidence that came with it (members counted on it) is in the table first.
   */
  wordChanged(): void {
    if (this.wordFlush || this.o.stopped()) return;
    this.wordFlush = this.o.runtime.scheduler.schedule(0, () => this.publishWord());
  }

  /**
   * Publishes and announces a new word in one metadata update with the lifecycle it brings: a
   * learner admitted with a writable set counted turns ACTIVE in the same update, not in a second
   * one every member hears (at 1,000 nodes each update is ~N member events and N x 12 transmits).
   */
  publishWord(): void {
    this.wordFlush?.();
    this.wordFlush = undefined;
    const word = this.o.word();
    if (this.o.stopped() || word === this.announcedWord) return;
    this.announcedWord = word;
    this.follow(this.o.gate.verdict());
    this.updateMeta({});
    // Straight to every live member as well (a quorum counts on this word); a learner tells only the proposers.
    this.o.announceWord();
  }

  /** We adopted a newer configuration: its word goes out now, and quorum is checked again. */
  adopted(): void {
    this.publishWord();
    this.queueCheck();
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
    this.follow(this.o.gate.verdict());
  }

  /** ACTIVE with a writable verdict, DEGRADED without (only while running). */
  private follow(v: WritableVerdict): void {
    if (!this.running) return;
    if (!v.writable && this.current === 'ACTIVE') {
      this.o.log.warn({ reachable: v.reachable, voters: v.total }, `no quorum: read-only (${v.reason})`);
      this.set('DEGRADED');
    } else if (v.writable && this.current === 'DEGRADED') {
      this.o.log.info({ reachable: v.reachable, voters: v.total }, 'quorum regained: writable');
      this.set('ACTIVE');
    }
  }
}
