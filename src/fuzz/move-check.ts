// Two invariants about moves of replica sets (issue 21):
//   move-incomplete  every move completes after the last change: once every running node is on one
//                    configuration and sees every member ACTIVE (no change left), within
//                    MOVE_BOUND_MS the holders of each document are exactly its replica set (no
//                    stray left, no new replica missing it). Equal content is the convergence
//                    invariant's (anti-entropy's pace), not a move's.
//   quiet-join       on a join into a quiet cluster (no fault, no write for a while, converged),
//                    the nodes already there receive no agent-document bytes: only the joiner does.
//                    Judged only when no move was in flight at the join (no stray held, no previous
//                    configuration kept anywhere) and the join is the only voter change meanwhile
//                    (a downing or a re-admission makes other nodes new replicas too).
//                    Counted at each node's document set (every remote update applied or offered,
//                    duplicates included) from the join until the next step. An empty update (no
//                    structs, no deletions: the diff a peer answers when the receiver lacks nothing,
//                    as anti-entropy between nodes not yet on one configuration may) carries no
//                    document bytes and is not counted.
import type { SimCluster } from '../sim/cluster-sim.js';
import { Violation } from './invariants.js';
import { replicaDivergence } from './replica-check.js';

/** Virtual ms after the last configuration change by which every move must have completed. */
export const MOVE_BOUND_MS = 30_000;

export class MoveCompletionChecker {
  private settledAt: number | undefined;
  private epoch = -1;
  /** The longest a move took after its last change (virtual ms), for the run's stats. */
  longestMs = 0;

  constructor(private readonly c: SimCluster) {}

  /** Called repeatedly after the last heal; throws once a move outlasts the bound. */
  check(): void {
    const c = this.c;
    const live = c.live();
    const epochs = new Set(live.map((i) => c.node(i).gate.voterConfig().epoch));
    const stable = epochs.size === 1 && c.allSee((ms) => ms.length === c.size && ms.every((m) => m.swimState === 'alive' && m.state === 'ACTIVE'));
    const epoch = epochs.size === 1 ? [...epochs][0]! : -1;
    if (!stable || epoch !== this.epoch) {
      this.settledAt = stable ? c.now() : undefined;
      this.epoch = stable ? epoch : -1;
      return;
    }
    const divergence = replicaDivergence(c, c.live(), true);
    const waited = c.now() - this.settledAt!;
    if (divergence === undefined) {
      this.longestMs = Math.max(this.longestMs, waited);
      return;
    }
    if (waited > MOVE_BOUND_MS) {
      throw new Violation('move-incomplete', `every node has been on configuration ${epoch} with every member ACTIVE for ${(waited / 1000).toFixed(1)} s, and still ${divergence}`, c.now());
    }
  }
}

/** The Yjs v1 update with no structs and an empty delete set. */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

/** Agent-document bytes each node received from peers while watched (empty updates aside). */
export class DocBytesTap {
  private readonly received = new Map<number, number>();
  private readonly undo: Array<() => void> = [];

  constructor(private readonly c: SimCluster) {}

  /** Starts counting on every running node. */
  start(): void {
    this.stop();
    for (const i of this.c.live()) {
      const docs = this.c.node(i).memoryService.docs;
      const apply = docs.apply;
      docs.apply = (id, update, origin) => {
        if (id.startsWith('agent/') && !isEmptyUpdate(update)) this.received.set(i, (this.received.get(i) ?? 0) + update.byteLength);
        return apply.call(docs, id, update, origin);
      };
      this.undo.push(() => {
        docs.apply = apply;
      });
    }
  }

  /** Stops counting; returns bytes per node index (nodes that received none are absent). */
  stop(): Map<number, number> {
    for (const u of this.undo.splice(0)) u();
    const out = new Map(this.received);
    this.received.clear();
    return out;
  }
}

/**
 * Watches one join into a quiet cluster: `begin` when the join step runs on a quiet cluster,
 * `end` when the next step starts (or the schedule ends); throws if a node other than the joiner
 * received agent-document bytes in between.
 */
export class QuietJoinChecker {
  private readonly tap: DocBytesTap;
  private joiner: number | undefined;
  private votersBefore: string[] = [];
  /** Quiet joins watched in this run. */
  watched = 0;
  /** Joins not judged: another voter change (a downing, a re-admission) overlapped them, so they were not into a quiet cluster. */
  overlapped = 0;

  constructor(private readonly c: SimCluster) {
    this.tap = new DocBytesTap(c);
  }

  /** No move in flight: no running node holds a stray or keeps a previous configuration's records. */
  isQuiet(): boolean {
    return this.c.live().every((i) => {
      const r = this.c.node(i).memoryService.replicas;
      return r.status().documentsMoving === 0 && r.view.moves.epochs().length === 0;
    });
  }

  begin(joiner: number): void {
    this.joiner = joiner;
    this.watched++;
    this.votersBefore = this.voters();
    this.quietAtStart = this.isQuiet();
    this.tap.start();
  }

  private quietAtStart = false;

  end(): void {
    if (this.joiner === undefined) return;
    const joiner = this.joiner;
    this.joiner = undefined;
    // Only the join changed the voters? Otherwise a node already there may be a new replica by the other change.
    const name = this.c.nodes[joiner]?.name;
    const expected = [...this.votersBefore, ...(name !== undefined ? [name] : [])].sort().join();
    if (!this.quietAtStart || this.voters().sort().join() !== expected) {
      this.tap.stop();
      this.watched--;
      this.overlapped++;
      return;
    }
    const bytes = [...this.tap.stop()].filter(([i]) => i !== joiner);
    if (bytes.length === 0) return;
    throw new Violation(
      'quiet-join',
      `n${joiner} joined a quiet cluster and nodes already in it received agent-document bytes: ${bytes.map(([i, b]) => `n${i} ${b} B`).join(', ')} (only the joiner should receive any)`,
      this.c.now(),
    );
  }

  /** The voters of the newest configuration a running node holds. */
  private voters(): string[] {
    let best: { epoch: number; voters: ReadonlyArray<{ name: string }> } | undefined;
    for (const i of this.c.live()) {
      const cfg = this.c.node(i).gate.voterConfig();
      if (!best || cfg.epoch > best.epoch) best = cfg;
    }
    return best ? best.voters.map((v) => v.name) : [];
  }
}
