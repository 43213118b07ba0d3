// The SQLite settings and schema, kept apart from the store so the crash test can run a plain
// child process with exactly these statements and prove that what they promise holds under SIGKILL.

/**
 * Pragmas run on open, in this order.
 * - locking_mode = EXCLUSIVE first: once the first write transaction takes the lock, this
 *   connection keeps it until close, so a second process opening the same data directory fails
 *   instead of interleaving writes. The OS drops the lock when the process dies, so a crash never
 *   leaves a stale lock behind (unlike a pid file). It also makes WAL run without shared memory.
 * - journal_mode = WAL: appends are sequential writes to the WAL, readers never block the writer.
 * - synchronous = FULL: every commit fsyncs the WAL, so an acknowledged write survives power loss
 *   (NORMAL would only survive a process crash). The group commit of replicated updates writes
 *   with NORMAL and then fdatasyncs the WAL itself, off the event loop, before acknowledging
 *   anything of the batch (SqliteStore.appendManyUnsynced, wal-sync.ts): the same guarantee.
 */
export const SQLITE_PRAGMAS: readonly string[] = [
  'locking_mode = EXCLUSIVE',
  // Before the tables exist (a new directory): freed pages can then be handed back to the file
  // system (PRAGMA incremental_vacuum, SqliteStore.maintain). No effect on an existing file.
  'auto_vacuum = INCREMENTAL',
  'journal_mode = WAL',
  'synchronous = FULL',
  'foreign_keys = ON',
  // Deleted rows are overwritten where that costs no extra write (forgotten content does not
  // linger in b-tree pages); freed pages leave the file through incremental_vacuum.
  'secure_delete = FAST',
  // The write-ahead log is cut back to this after a checkpoint instead of keeping its peak size.
  'journal_size_limit = 16777216',
];

/**
 * Schema version stored in `meta`; bump with a migration when the tables change.
 * 2: one append-only update log for all documents (was: a log clustered by document, v1).
 */
export const SCHEMA_VERSION = 2;

/**
 * `update_log` is one append-only log for every document, keyed by a global sequence: a group
 * commit of K updates to K different documents appends K rows at the right edge of one b-tree,
 * a few pages. The v1 log was clustered by (doc_id, seq), so the same commit dirtied one leaf per
 * document: ~100 WAL pages (200 pwrites and the bytes to fsync) per commit of ~50 updates under
 * the quorum-writes load, against ~5 now. `doc_seq` keeps the per-document sequence numbers of the
 * NodeStore contract; a document's snapshot covers its rows up to `upto_seq` (a doc_seq), and rows
 * it covers are deleted once no older live row of any document sits before them (see SqliteStore).
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS update_log (
  seq     INTEGER PRIMARY KEY,
  doc_id  TEXT NOT NULL,
  doc_seq INTEGER NOT NULL,
  data    BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_snapshot (
  doc_id   TEXT PRIMARY KEY,
  data     BLOB NOT NULL,
  upto_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * From schema 1: the per-document log becomes rows of the global log (each document's rows in
 * its own order; the order between documents does not matter). v1 deleted a document's rows up
 * to its snapshot in the same transaction that wrote it, so every v1 row is newer than its
 * document's snapshot.
 */
export const MIGRATE_V1_SQL = `
INSERT INTO update_log (doc_id, doc_seq, data) SELECT doc_id, seq, data FROM doc_log ORDER BY doc_id, seq;
DROP TABLE doc_log;
`;

/** File name of the database inside a node's data directory. */
export const DB_FILE = 'node.db';
