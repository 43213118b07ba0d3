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
 *   (NORMAL would only survive a process crash).
 */
export const SQLITE_PRAGMAS: readonly string[] = [
  'locking_mode = EXCLUSIVE',
  'journal_mode = WAL',
  'synchronous = FULL',
  'foreign_keys = ON',
];

/** Schema version stored in `meta`; bump with a migration when the tables change. */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS doc_log (
  doc_id TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  data   BLOB NOT NULL,
  PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;
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

/** File name of the database inside a node's data directory. */
export const DB_FILE = 'node.db';
