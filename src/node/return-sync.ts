// Anti-entropy with a member the moment it is back, instead of when the round-robin (one peer per
// antiEntropyIntervalMs) reaches it: a member seen again after a partition or a crash (SWIM join,
// alive), a member that restarted and is running again (its gossiped lifecycle back to ACTIVE or
// DEGRADED: a restart quicker than failure detection shows no other sign), and this node itself
// once it has caught up after a start (one round with each member it shares documents with).
// A round covers only the documents both should hold (SyncScope.sharedWith), and an in-sync round
// is one 64-byte probe, so this costs nothing where nothing diverged.
import type { Swim } from '../../gossip/swim.js';
import type { MemberEvent } from '../../gossip/types.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { MemberDirectory } from './member-directory.js';

/**
 * In a cluster where every node holds everything, every member sees every join: if all
 * reconciled, a cluster forming would run N^2 rounds, so about this many (drawn at random) do and
 * periodic anti-entropy spreads the rest. With replica sets only co-replicas reconcile, all of them.
 */
export const RECONCILE_FANOUT = 8;
/** At most this many rounds at once when this node itself has just caught up after a start. */
export const STARTUP_ROUNDS = 32;

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

  constructor(private readonly o: ReturnSyncOptions) {}

  onMemberEvent(e: MemberEvent): void {
    const name = e.member.name;
    if (name === this.o.self) return;
    if (e.member.state === 'dead' || e.member.state === 'left') {
      this.wasRunning.delete(name);
      return;
    }
    const running = isRunning(this.o.lifecycleOf(name));
    const before = this.wasRunning.get(name);
    this.wasRunning.set(name, running);
    const back = e.kind === 'join' || e.kind === 'alive' || (running && before === false);
    if (back && this.o.running()) this.reconcile(name, this.o.peerCount());
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
export function returnSyncFor(self: string, memory: MemoryService, swim: Swim, directory: MemberDirectory, running: () => boolean, random: () => number): ReturnSync {
  return new ReturnSync({
    self,
    shares: (peer) => sharesAny(memory.replicas.view.sharedWith(peer), () => memory.docs.ids()),
    antiEntropyWith: (peer) => memory.antiEntropyWith(peer),
    peerCount: () => directory.size - 1,
    livePeers: () => swim.members().filter((m) => m.name !== self && m.state === 'alive').map((m) => m.name),
    running,
    lifecycleOf: (name) => directory.meta(name)?.lifecycle,
    random,
  });
}
