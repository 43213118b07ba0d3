// Keeps the recall index's file at the size of what it holds. FTS5 never rewrites a segment in
// place: a deleted or changed episode leaves its old entries behind (with a delete marker in a
// newer segment) until a merge reaches the oldest segment, and its automatic merges reach it ever
// more rarely as the index grows; SQLite then keeps the file at its peak size. The node's periodic
// store maintenance (retention-wiring.ts) therefore merges the FTS5 segments into one, in steps
// bounded by a time budget (a merge left unfinished goes on at the next pass), hands the freed
// pages back to the file system and truncates the write-ahead log.
import type Database from 'better-sqlite3';

/** What one maintenance pass did. */
export interface IndexMaintenance {
  /** Milliseconds the pass took. */
  ms: number;
  /** Merge steps run, and whether the segments are merged into one now (false: the budget ran out). */
  mergeSteps: number;
  merged: boolean;
  /** Bytes of the file's pages before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** The file was rewritten once (VACUUM) to make its free pages returnable (an index created before this). */
  converted: boolean;
}

/** Pages (of FTS5's 4,050-byte leaves) one merge step writes at most: a few ms of work. */
const MERGE_STEP_PAGES = 64;
/** Default time one pass may spend merging (on the event loop). */
export const MERGE_BUDGET_MS = 50;
/**
 * An index file created without incremental vacuum (before this pass existed) is rewritten once
 * when it is at most this large (tens of ms); a larger one keeps reusing its free pages instead.
 */
const CONVERT_MAX_BYTES = 32 * 2 ** 20;
const AUTO_VACUUM_INCREMENTAL = 2;

export interface MaintainOptions {
  /** Milliseconds of merge steps at most (default MERGE_BUDGET_MS); a step under way is finished. */
  budgetMs?: number;
  /** Clock in milliseconds (default performance.now; tests pass a fake one). */
  now?: () => number;
  /** Pages one merge step writes at most (default MERGE_STEP_PAGES). */
  stepPages?: number;
}

/**
 * One maintenance pass over the index in `db` whose FTS5 table is `fts`: merges its segments
 * (within the budget), returns free pages, truncates the write-ahead log.
 */
export function maintainIndex(db: Database.Database, fts: string, opts: MaintainOptions = {}): IndexMaintenance {
  const { budgetMs = MERGE_BUDGET_MS, now = () => performance.now(), stepPages = MERGE_STEP_PAGES } = opts;
  const start = now();
  const bytes = (): number => (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  const bytesBefore = bytes();
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  // A negative step merges every segment, of whatever level, into one; a merge under way goes on.
  const step = db.prepare(`INSERT INTO ${fts} (${fts}, rank) VALUES ('merge', ?)`);
  let mergeSteps = 0;
  let merged = false;
  while (now() - start < budgetMs) {
    const before = totalChanges.get() as number;
    step.run(-stepPages);
    mergeSteps++;
    // FTS5's documented test: fewer than two changes means the step found nothing to merge.
    if ((totalChanges.get() as number) - before < 2) {
      merged = true;
      break;
    }
  }
  let converted = false;
  if (db.pragma('auto_vacuum', { simple: true }) !== AUTO_VACUUM_INCREMENTAL && bytes() <= CONVERT_MAX_BYTES) {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
    converted = true;
  }
  db.pragma('incremental_vacuum');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { ms: now() - start, mergeSteps, merged, bytesBefore, bytesAfter: bytes(), converted };
}
