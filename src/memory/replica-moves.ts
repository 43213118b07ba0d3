// The replica sets documents are still moving from: one record per previous voter configuration
// (its epoch, voter names and replication factor: all placement needs to recompute any
// document's set on it), persisted in the node's store so a restart keeps requiring what the
// moves still need, and kept for every change not known to be finished, so a second change
// before a move finished adds a second set (each set's majority is required; nothing waits, so
// downing is never blocked). A document's move is complete here once this node saw a majority of
// its current set store everything a majority of each previous set held (move-settle.ts); then
// its writes need the current set only. docs/replica-sets.md explains why this loses nothing.
import { placementKeyOf, ReplicaScope } from '../placement/replica-scope.js';
import type { PlacedConfig } from '../placement/config-placement.js';
import type { QuorumSet } from '../quorum/replica-quorum.js';
import type { Logger } from '../runtime/types.js';

/** The store key of the records (NodeStore kv). */
export const MOVES_KEY = 'replica-moves';
/** Previous configurations kept at most; older ones are forgotten (their moves then rely on handoff alone). */
export const MAX_MOVE_RECORDS = 8;

interface MoveRecord {
  epoch: number;
  voters: string[];
  replicationFactor: number;
}

export interface MoveStore {
  kvGet(key: string): string | undefined;
  kvSet(key: string, value: string): void;
}

/** The stored form: the kept records and the configuration last seen (so a change made while the record was not yet written is not missed after a restart). */
function parseStored(json: string | undefined): { records: MoveRecord[]; seen: MoveRecord | undefined } {
  if (json === undefined) return { records: [], seen: undefined };
  const raw = JSON.parse(json) as { records?: unknown; seen?: unknown } | null;
  if (!raw || !Array.isArray(raw.records)) throw new Error('not a move record');
  return { records: raw.records.map(parseRecord), seen: raw.seen === undefined ? undefined : parseRecord(raw.seen) };
}

function parseRecord(r: unknown): MoveRecord {
  const o = r as Partial<MoveRecord>;
  const ok =
    typeof o === 'object' && o !== null && Number.isSafeInteger(o.epoch) && Number.isSafeInteger(o.replicationFactor) && Array.isArray(o.voters) && o.voters.every((v) => typeof v === 'string');
  if (!ok) throw new Error('bad record');
  return { epoch: o.epoch!, voters: [...o.voters!], replicationFactor: o.replicationFactor! };
}

export class ReplicaMoves {
  private records: Array<{ rec: MoveRecord; scope: ReplicaScope }> = [];
  private seen: PlacedConfig | undefined;
  /** Documents whose move completed here, with the epoch it completed on (cleared by the next change). */
  private readonly done = new Map<string, number>();
  /** The configuration on which every voter was seen done moving and the older records were released (move-completion.ts). */
  private releasedOn: number | undefined;

  constructor(
    private readonly self: string,
    private readonly store: MoveStore | undefined,
    private readonly log: Logger,
  ) {
    try {
      const stored = parseStored(store?.kvGet(MOVES_KEY));
      for (const rec of stored.records) this.records.push(this.entry(rec));
      if (stored.seen) this.seen = { epoch: stored.seen.epoch, replicationFactor: stored.seen.replicationFactor, voters: stored.seen.voters.map((name) => ({ name })) };
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'unreadable replica-move records: ignoring them (handoff still moves every document)');
    }
  }

  private entry(rec: MoveRecord): { rec: MoveRecord; scope: ReplicaScope } {
    return { rec, scope: new ReplicaScope(this.self, { epoch: rec.epoch, replicationFactor: rec.replicationFactor, voters: rec.voters.map((name) => ({ name })) }) };
  }

  /**
   * The committed configuration is `config` now (called whenever the view sees a new one). A
   * change from a configuration this process held records that one when it placed documents on
   * replica sets. A change out of full replication (the cluster forming, or growing past RF) is
   * not recorded: every voter of that configuration held everything, handoff moves it before a
   * holder drops it, and keeping it would make every write of every agent need the founder (or the
   * first RF voters) until each node settled each document, refused while one of them is cut off.
   */
  observe(config: PlacedConfig): void {
    const before = this.seen;
    this.seen = config;
    const stale = this.records.filter((r) => r.rec.epoch >= config.epoch);
    if (stale.length > 0) this.records = this.records.filter((r) => r.rec.epoch < config.epoch);
    const placed = (c: PlacedConfig): boolean => c.voters.length > c.replicationFactor;
    const add = before !== undefined && before.epoch > 0 && before.epoch < config.epoch && placed(before);
    if (add) {
      this.records.push(this.entry({ epoch: before.epoch, voters: before.voters.map((v) => v.name), replicationFactor: before.replicationFactor }));
      const over = this.records.length - MAX_MOVE_RECORDS;
      if (over > 0) this.log.info({ forgotten: this.records.slice(0, over).map((r) => r.rec.epoch) }, 'forgetting the oldest replica-move records');
      if (over > 0) this.records = this.records.slice(over);
    }
    if (before !== undefined && before.epoch !== config.epoch) this.done.clear();
    if (add || stale.length > 0 || before?.epoch !== config.epoch) this.persist();
  }

  /** The epochs of the previous configurations kept (oldest first). */
  epochs(): number[] {
    return this.records.map((r) => r.rec.epoch);
  }

  /**
   * The previous sets a write of `docId` on `current` still needs a majority of: each kept
   * configuration whose set of the document differs from the current one, unless the move
   * completed here, or a majority of that set is no longer among the current voters (downed or
   * gone: it can no longer acknowledge anything, and what only it held is lost with it).
   */
  previousSets(docId: string, current: ReplicaScope): QuorumSet[] {
    if (this.records.length === 0 || placementKeyOf(docId) === undefined || this.done.get(docId) === current.epoch) return [];
    const now = setOf(current, docId);
    const voters = new Set(current.config.voters.map((v) => v.name));
    const out: QuorumSet[] = [];
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      const set = setOf(r.scope, docId);
      if (set.length === now.length && set.every((n) => now.includes(n))) continue;
      if (out.some((o) => o.replicas.length === set.length && set.every((n) => o.replicas.includes(n)))) continue;
      const still = set.filter((n) => voters.has(n)).length;
      if (2 * still <= set.length) continue;
      out.push({ replicas: set, epoch: r.rec.epoch, role: 'previous' });
    }
    return out;
  }

  /**
   * Whether this node is in `docId`'s set on any kept previous configuration, completed or not:
   * it then takes updates of the document, since a writer that has not completed the move itself
   * still needs its ack (its own completion mark says nothing about the writer's).
   */
  inPreviousSet(docId: string): boolean {
    if (placementKeyOf(docId) === undefined) return false;
    return this.records.some((r) => setOf(r.scope, docId).includes(this.self));
  }

  /** Whether `name` is a voter of a kept previous configuration (a displaced holder may be off the voters now). */
  wasVoter(name: string): boolean {
    return this.records.some((r) => r.rec.voters.includes(name));
  }

  /** A majority of `docId`'s current set (configuration `epoch`) stored everything of the previous sets' majorities. */
  markDone(docId: string, epoch: number): void {
    if (this.done.size >= 65_536) this.done.clear(); // bounded: a forgotten mark only costs one more settle
    this.done.set(docId, epoch);
  }

  isDone(docId: string, epoch: number): boolean {
    return this.done.get(docId) === epoch || this.releasedOn === epoch;
  }

  /** Every voter of configuration `epoch` is done moving onto it: the records before it drop (persisted). */
  releaseBefore(epoch: number): void {
    const gone = this.records.filter((r) => r.rec.epoch < epoch);
    this.releasedOn = epoch;
    if (gone.length === 0) return;
    this.records = this.records.filter((r) => r.rec.epoch >= epoch);
    this.log.info({ released: gone.map((r) => r.rec.epoch), on: epoch }, 'every voter finished moving: previous configurations released');
    this.persist();
  }

  private persist(): void {
    try {
      const seen = this.seen && { epoch: this.seen.epoch, voters: this.seen.voters.map((v) => v.name), replicationFactor: this.seen.replicationFactor };
      this.store?.kvSet(MOVES_KEY, JSON.stringify({ records: this.records.map((r) => r.rec), ...(seen ? { seen } : {}) }));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not store the replica-move records');
    }
  }
}

/** The set holding `docId` on `scope`: its replicas, or every voter when the configuration does not place documents. */
export function setOf(scope: ReplicaScope, docId: string): readonly string[] {
  return scope.replicasOf(docId) ?? scope.config.voters.map((v) => v.name);
}
