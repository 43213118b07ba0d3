// A node's SQLite database file itself: opening it (permissions, pragmas, the exclusive lock, the
// schema and its migration), the statements prepared once, the node's identity rows, and what
// the file's settings and size are. sqlite-store.ts builds on these; nothing here keeps state.
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { preparePrivateDir, preparePrivateFile } from './private-files.js';
import { DB_FILE, MIGRATE_V1_SQL, SCHEMA_SQL, SCHEMA_VERSION, SQLITE_PRAGMAS } from './sqlite-schema.js';

type Stmt = Database.Statement;

export type Statements = Record<
  | 'metaGet' | 'metaSet' | 'logInsert' | 'logRange' | 'logAll' | 'logBytesBelow' | 'logDeleteBelow' | 'snapGet' | 'snapSet'
  | 'logBytesOfDoc' | 'logDeleteOfDoc'
  | 'kvGet' | 'kvSet' | 'kvDelete' | 'kvList' | 'syncNormal' | 'syncFull',
  Stmt
>;

/**
 * Opens (creating if needed) `<dir>/node.db`, holding its exclusive lock; throws StorageError if
 * another process holds it, or the file cannot be initialised.
 */
export function openDatabase(dir: string, cacheBytes: number | undefined): { db: Database.Database; file: string } {
  const file = join(dir, DB_FILE);
  let db: Database.Database;
  try {
    preparePrivateDir(dir);
    preparePrivateFile(file);
    // timeout 0: a locked directory must fail at once, not hang for better-sqlite3's default 5 s.
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new StorageError(`cannot open data directory ${dir}: ${(err as Error).message}; check the path and its permissions`, { cause: err });
  }
  try {
    for (const p of SQLITE_PRAGMAS) db.pragma(p);
    if (cacheBytes !== undefined) db.pragma(`cache_size = -${Math.max(1, Math.ceil(cacheBytes / 1024))}`);
    // Take the exclusive lock now (locking_mode = EXCLUSIVE keeps it), so a second process
    // fails when it opens, not later on its first write.
    db.exec('BEGIN EXCLUSIVE');
    db.exec(SCHEMA_SQL);
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doc_log'").get() !== undefined) db.exec(MIGRATE_V1_SQL);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StorageError(
        `data directory ${dir} is in use by another node process (${file} is locked); ` +
          'stop that process or give this node its own --data directory',
        { cause: err },
      );
    }
    throw new StorageError(`cannot initialise ${file}: ${(err as Error).message}; the file may be corrupt`, { cause: err });
  }
  return { db, file };
}

/** Every statement the store runs, prepared once. */
export function prepareStatements(db: Database.Database): Statements {
  return {
    metaGet: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    logInsert: db.prepare('INSERT INTO update_log (seq, doc_id, doc_seq, data) VALUES (?, ?, ?, ?)'),
    // A scan of the whole log (no index on doc_id: it would scatter every commit again).
    // Only loadDoc uses it; a node opening its data directory reads everything in one pass (loadAll).
    logRange: db.prepare('SELECT data FROM update_log WHERE doc_id = ? AND doc_seq > ? ORDER BY seq').pluck(),
    logAll: db.prepare('SELECT doc_id, doc_seq, data FROM update_log ORDER BY seq').raw(),
    logBytesBelow: db.prepare('SELECT coalesce(sum(length(data)), 0) FROM update_log WHERE seq < ?').pluck(),
    logDeleteBelow: db.prepare('DELETE FROM update_log WHERE seq < ?'),
    // reclaim(): a scan of the log, which compaction keeps short.
    logBytesOfDoc: db.prepare('SELECT coalesce(sum(length(data)), 0) FROM update_log WHERE doc_id = ? AND doc_seq <= ?').pluck(),
    logDeleteOfDoc: db.prepare('DELETE FROM update_log WHERE doc_id = ? AND doc_seq <= ?'),
    snapGet: db.prepare('SELECT data FROM doc_snapshot WHERE doc_id = ?').pluck(),
    snapSet: db.prepare(
      'INSERT INTO doc_snapshot (doc_id, data, upto_seq) VALUES (?, ?, ?) ' +
        'ON CONFLICT(doc_id) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq',
    ),
    kvGet: db.prepare('SELECT value FROM kv WHERE key = ?').pluck(),
    kvSet: db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    kvDelete: db.prepare('DELETE FROM kv WHERE key = ?'),
    kvList: db.prepare("SELECT key, value FROM kv WHERE substr(key, 1, length(?)) = ? ORDER BY key").raw(),
    // appendManyThenSync switches to NORMAL (no fsync in the commit) around its transaction only.
    syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
    syncFull: db.prepare('PRAGMA synchronous = FULL'),
  };
}

/** Records the schema version, a node id on first open, and the node's name; refuses a directory of another node or of a newer schema. */
export function initIdentity(db: Database.Database, st: Statements, dir: string, name: string): void {
  const meta = (key: string) => st.metaGet.get(key) as string | undefined;
  db.transaction(() => {
    const version = meta('schema_version');
    if (version !== undefined && Number(version) > SCHEMA_VERSION) {
      throw new StorageError(
        `data directory ${dir} was written by a newer trinity-cluster (schema ${version} > ${SCHEMA_VERSION}); upgrade this binary`,
      );
    }
    st.metaSet.run('schema_version', String(SCHEMA_VERSION));
    if (meta('node_id') === undefined) st.metaSet.run('node_id', randomUUID());
    const recorded = meta('name');
    // One data directory is one node: a node started with another's directory (or a directory
    // under another name) would take over that node's identity, voter slot and acknowledgements.
    if (recorded !== undefined && recorded !== name) {
      throw new StorageError(
        `data directory ${dir} belongs to node "${recorded}", not "${name}": start it with --name ${recorded}, or give node "${name}" its own --data directory`,
      );
    }
    if (recorded === undefined) st.metaSet.run('name', name);
  })();
}

export interface DatabaseSettings {
  journalMode: string;
  synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  lockingMode: string;
}

/** The durability settings in force, as SQLite reports them (for /status and tests). */
export function readSettings(db: Database.Database): DatabaseSettings {
  const sync = db.pragma('synchronous', { simple: true }) as number;
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
    lockingMode: String(db.pragma('locking_mode', { simple: true })),
  };
}

/** Bytes of the database file and its write-ahead log in `dir`. */
export function dataFileBytes(dir: string): number {
  let n = 0;
  for (const f of [DB_FILE, `${DB_FILE}-wal`]) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // no write-ahead log right after a checkpoint
    }
  }
  return n;
}
