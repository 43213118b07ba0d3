// The node's durable state behind one interface (DESIGN.md "Storage"), so the node code runs the
// same on SQLite (real nodes) and in memory (the simulator, where 1,000 nodes share a process).
//
// Every method is synchronous: better-sqlite3 is synchronous, and a write that returned has been
// fsynced (SqliteStore runs `synchronous = FULL`), which is what lets a node acknowledge it.

/** Who this node is; generated once when the data directory is created, then never changes. */
export interface NodeIdentity {
  /** Stable across restarts and renames: the data directory's identity. */
  nodeId: string;
  /** Human name (`--name`); may change between runs. */
  name: string;
}

/** One document update to append; `update` is a Yjs v1 update. */
export interface AppendEntry {
  docId: string;
  update: Uint8Array;
}

/** Sizes that decide compaction, exposed for metrics and tests. */
export interface DocStorageStats {
  /** Bytes of the merged snapshot (0 when the document was never compacted). */
  snapshotBytes: number;
  /** Bytes and count of updates appended since the last snapshot. */
  logBytes: number;
  logEntries: number;
  /** Sequence number of the last update appended to this document (0 when none). */
  lastSeq: number;
}

/** A document's state as one update (everything stored for it), or undefined to merge from the log. */
export type SnapshotSource = (docId: string) => Uint8Array | undefined;

export interface NodeStore {
  /** Identity, created on first open. */
  identity(): NodeIdentity;
  /** Records a new human name for this node (the node id does not change). */
  setName(name: string): void;

  /** The incarnation persisted by the last `bumpIncarnation` (0 on a fresh directory). */
  incarnation(): number;
  /** Increments and durably stores the incarnation; a node calls this once per start. */
  bumpIncarnation(): number;

  /** Appends one update durably and returns its per-document sequence number (1, 2, ...). */
  append(docId: string, update: Uint8Array): number;
  /** Appends several updates in one transaction (one fsync); returns their sequence numbers in order. */
  appendMany(entries: readonly AppendEntry[]): number[];
  /**
   * Optional: appendMany whose fsync runs off the event loop. The rows are written (readable, and
   * atomic: a crash keeps all or none) when it returns; `synced` is called once they are durable
   * (or with the error), in call order. Nothing may depend on their durability before that.
   */
  appendManyThenSync?(entries: readonly AppendEntry[], synced: (err?: Error) => void): number[];
  /**
   * Optional, with appendManyThenSync: true when no sync runs or waits (a batch committed now
   * starts its fsync at once; while one runs, it would only wait for the next).
   */
  syncIdle?(): boolean;
  /** Snapshot first (if any), then log entries in sequence order: apply them all to rebuild the doc. */
  loadDoc(docId: string): Uint8Array[];
  /** Every document that has a snapshot or a log entry. */
  docIds(): string[];
  /** Optional: loadDoc of every document at once, in one pass over the log (what opening a node needs). */
  loadAll?(): Map<string, Uint8Array[]>;
  /** Merges snapshot and log into a new snapshot now; returns false when there was nothing to merge. */
  compact(docId: string): boolean;
  /**
   * Optional: where compaction can get a document's merged state without merging its log (the
   * live Y.Doc holding exactly what the store holds; DurableDocSet registers one). The source
   * returns undefined for documents it cannot vouch for, which are merged from the log.
   */
  setSnapshotSource?(source: SnapshotSource | undefined): void;
  docStats(docId: string): DocStorageStats;
  /**
   * Optional: compacts `docId` and removes every stored byte of its older state (log rows its
   * snapshot covers, freed pages, the write-ahead log), so content deleted from the document is
   * gone from disk. Stores without it are compacted instead. `deferMaintain`: the freed pages and
   * the write-ahead log wait for the caller's maintain() (one for a batch of reclaims).
   */
  reclaim?(docId: string, deferMaintain?: boolean): void;
  /**
   * Optional: removes every stored byte of `docId` (its log rows, its snapshot) in one
   * transaction: a node gives a document away once its new replica set holds it (handoff).
   */
  dropDoc?(docId: string): void;
  /** Optional: checkpoints the write-ahead log and returns free pages to the file system. */
  maintain?(): void;
  /** Optional: bytes the store takes on disk (database and its write-ahead log). */
  diskBytes?(): number;

  /** Small key-value space for other layers (keyring JSON, task rows). Keys are namespaced by caller. */
  kvGet(key: string): string | undefined;
  kvSet(key: string, value: string): void;
  kvDelete(key: string): void;
  /** Entries whose key starts with `prefix`, sorted by key. */
  kvList(prefix: string): Array<[string, string]>;

  close(): void;
}

/** Compaction policy shared by both stores so the simulator behaves like a real node. */
export interface CompactionPolicy {
  /**
   * Compact once the log holds more bytes than the snapshot AND at least this many bytes, so a
   * young document is not rewritten on every append. 0 compacts as soon as the log outgrows the
   * snapshot.
   */
  minLogBytes: number;
  /**
   * SqliteStore: how many bytes of log rows that snapshots already cover may wait on disk (behind
   * an older live row of another document) beyond the live log before that document is compacted
   * too (default 1 MiB). See SqliteStore.reclaimDeadRows.
   */
  minDeadBytes?: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = { minLogBytes: 64 * 1024 };

/** True when a document's log has outgrown its snapshot under `policy`. */
export function shouldCompact(stats: DocStorageStats, policy: CompactionPolicy): boolean {
  return stats.logEntries > 0 && stats.logBytes > stats.snapshotBytes && stats.logBytes >= policy.minLogBytes;
}
