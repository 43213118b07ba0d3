// Anti-entropy with a member the moment it is back, instead of when the round-robin (one peer per
// antiEntropyIntervalMs) reaches it: a member seen again after a partition or a crash (SWIM join,
// alive), a member that restarted and is running again (its gossiped lifecycle back to ACTIVE or
// DEGRADED: a restart quicker than failure detection shows no other sign), and this node itself
// once it has caught up after a start (one round with each member it shares documents with).
// A round covers only the documents both should hold (SyncScope.sharedWith), and an in-sync round
// is one 64-byte probe, so this costs nothing where nothing diverged.
//
// One round per pair is enough (a round carries both directions), and which side starts it
// matters when one side is behind: the deltas an initiator sends carry its digest check, so a
// node that gets the same documents from several members decodes only the first copy (the others
// are equal by then and skipped), while the answers to a round the lagging node started carry no
// check and are decoded in full every time. So a read-only node (DEGRADED: a learner, a removed
// member, a minority) defers its round with a writable member that is back; the writable member
// starts its own at once, and the deferred one is a 64-byte probe by the time it runs.
import type { Swim } from '../../gossip/swim.js';
import type { MemberEvent } from '../../gossip/types.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { Runtime } from '../runtime/types.js';
import type { MemberDirectory } from './member-directory.js';
import type { NodeLifecycle } from './node-lifecycle.js';

/**
 * In a cluster where every node holds everything, every member sees every join: if all
 * reconciled, a cluster forming would run N^2 rounds, so about this many (drawn at random) do and
 * periodic anti-entropy spreads the rest. With replica sets only co-replicas reconcile, all of them.
 */
export const RECONCILE_FANOUT = 8;
/** At most this many rounds at once when this node itself has just caught up after a start. */
export const STARTUP_ROUNDS = 32;
/** How long a read-only node defers its round with a writable member that is back (see the top). */
export const DEFER_TO_WRITABLE_MS = 2_000;
/**
 * A member that refutes suspicions again and again (a process starved of CPU on a loaded machine
 * flaps suspect/alive every few seconds: 16 processes at load 52 sent ~3 anti-entropy probes per
 * task, 5x the periodic rate) gets at most one refutation round per this period; a refutation
 * inside it is coalesced into one round when it ends, so a real short partition still converges.
 */
export const REFUTE_ROUND_GAP_MS = 10_000;

export interface ReturnSyncOptions {
  self: string;
  /** 'all' when every node holds everything; else whether `peer` should hold one of the documents this node holds. */
  shares: (peer: string) => boolean | 'all';
  antiEntropyWith: (peer: string) => void;
  /** Members other than this node that are alive now. */
  livePeers: () => string[];
  /** How many other members this node knows (O(1): called for every member event). */
  peerCount: () => number;
  /** Whether this node itself runs (caught up: ACTIVE or DEGRADED), so its rounds mean something. */
  running: () => boolean;
  /** Whether this node is read-only (DEGRADED); undefined: never defer. */
  readOnly?: () => boolean;
  /** Told of every member seen back (a removed node pulls from a voter that is back: JoinLoop.memberBack). */
  onBack?: (name: string) => void;
  /** Runs `fn` after `ms` (the node's scheduler); needed to defer (and to space refutation rounds). */
  later?: (ms: number, fn: () => void) => void;
  /** The node's clock (ms); with `later`, refutation rounds with one member are spaced REFUTE_ROUND_GAP_MS. */
  now?: () => number;
  /** The lifecycle state a member gossips, if known. */
  lifecycleOf: (name: string) => string | undefined;
  random: () => number;
}

const isRunning = (lifecycle: string | undefined): boolean => lifecycle === 'ACTIVE' || lifecycle === 'DEGRADED';

export class ReturnSync {
  /** Whether each live member was running when last seen (a restart shows as false, then true). */
  private readonly wasRunning = new Map<string, boolean>();
  /** Rounds started by this class (status and tests). */
  rounds = 0;
  /** Rounds deferred because the member is writable and this node is not. */
  deferred = 0;
  /** Refutations (suspect -> alive) coalesced into a later round because one ran less than REFUTE_ROUND_GAP_MS ago. */
  coalesced = 0;
  /** When the last refutation round with each member ran, and whether one is already queued. */
  private readonly refuteRounds = new Map<string, { at: number; queued: boolean }>();

  constructor(private readonly o: ReturnSyncOptions) {}

  onMemberEvent(e: MemberEvent): void {
    const name = e.member.name;
    if (name === this.o.self) return;
    if (e.member.state === 'dead' || e.member.state === 'left') {
      this.wasRunning.delete(name);
      this.refuteRounds.delete(name);
      return;
    }
    const running = isRunning(this.o.lifecycleOf(name));
    const before = this.wasRunning.get(name);
    this.wasRunning.set(name, running);
    const back = e.kind === 'join' || e.kind === 'alive' || (running && before === false);
    if (back) this.o.onBack?.(name);
    if (!back || !this.o.running()) return;
    // A refutation alone (not a join, not a restart) is spaced: see REFUTE_ROUND_GAP_MS.
    if (e.kind === 'alive' && !(running && before === false) && this.spaceRefutation(name)) return;
    this.reconcile(name, this.o.peerCount());
  }

  /** True when a refutation round with `peer` ran within the gap: one round is queued for its end instead. */
  private spaceRefutation(peer: string): boolean {
    const { now, later } = this.o;
    if (!now || !later) return false;
    const t = now();
    const last = this.refuteRounds.get(peer);
    if (!last || t - last.at >= REFUTE_ROUND_GAP_MS) {
      this.refuteRounds.set(peer, { at: t, queued: false });
      return false;
    }
    this.coalesced++;
    if (last.queued) return true;
    last.queued = true;
    later(last.at + REFUTE_ROUND_GAP_MS - t, () => {
      const cur = this.refuteRounds.get(peer);
      if (cur !== last || !this.o.running() || !this.wasRunning.has(peer)) return; // gone meanwhile
      this.refuteRounds.set(peer, { at: now(), queued: false });
      this.reconcile(peer, this.o.peerCount());
    });
    return true;
  }

  /** This node has caught up after its start: one round with each member it shares documents with. */
  started(): void {
    if (!this.o.running()) return;
    const peers = this.o.livePeers();
    const shared = peers.filter((p) => this.o.shares(p) !== false);
    // Beyond the cap a random sample; the round-robin reaches the rest.
    for (let i = shared.length - 1; i > 0 && shared.length > STARTUP_ROUNDS; i--) {
      const j = Math.floor(this.o.random() * (i + 1));
      [shared[i], shared[j]] = [shared[j]!, shared[i]!];
    }
    for (const p of shared.slice(0, STARTUP_ROUNDS)) this.start(p);
  }

  private reconcile(peer: string, peers: number): void {
    const shares = this.o.shares(peer);
    if (shares === false) return; // nothing in common: a round would compare nothing
    if (shares === 'all' && peers > RECONCILE_FANOUT && this.o.random() * peers >= RECONCILE_FANOUT) return;
    if (this.o.later && this.o.readOnly?.() && this.o.lifecycleOf(peer) === 'ACTIVE') {
      // The writable member starts its round now (it sees us back too); ours follows as a probe,
      // in case it did not (it never saw us gone, or its fan-out skipped us).
      this.deferred++;
      this.o.later(DEFER_TO_WRITABLE_MS, () => {
        if (this.o.running() && this.wasRunning.has(peer)) this.start(peer);
      });
      return;
    }
    this.start(peer);
  }

  private start(peer: string): void {
    this.rounds++;
    this.o.antiEntropyWith(peer);
  }
}

/** Whether `peer` should hold one of `ids` by `sharedWith` (undefined: every node holds everything). */
export function sharesAny(sharedWith: ((docId: string) => boolean) | undefined, ids: () => Iterable<string>): boolean | 'all' {
  if (!sharedWith) return 'all';
  for (const id of ids()) if (sharedWith(id)) return true;
  return false;
}

/** The ReturnSync of a node: its memory's replica view and anti-entropy, its member table. */
export function returnSyncFor(self: string, memory: MemoryService, swim: Swim, directory: MemberDirectory, lifecycle: Pick<NodeLifecycle, 'running' | 'state'>, runtime: Runtime, onBack?: (name: string) => void): ReturnSync {
  return new ReturnSync({
    self,
    shares: (peer) => sharesAny(memory.replicas.view.sharedWith(peer), () => memory.docs.ids()),
    antiEntropyWith: (peer) => memory.antiEntropyWith(peer),
    peerCount: () => directory.size - 1,
    livePeers: () => swim.members().filter((m) => m.name !== self && m.state === 'alive').map((m) => m.name),
    running: () => lifecycle.running,
    readOnly: () => lifecycle.state === 'DEGRADED',
    later: (ms, fn) => void runtime.scheduler.schedule(ms, fn),
    now: () => runtime.clock.now(),
    lifecycleOf: (name) => directory.meta(name)?.lifecycle,
    random: () => runtime.rng.next(),
    onBack,
  });
}
