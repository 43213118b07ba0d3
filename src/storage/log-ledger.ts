// The store's in-memory account of its global update log: per-document sizes and where each
// document's live rows start, the log's first and last rows, and its bytes on disk and live. Kept
// so the compaction check and the trim point cost no query per append; rebuilt from the row
// headers on open and after a failed transaction.
import type Database from 'better-sqlite3';
import type { DocStorageStats } from './types.js';

/** A document's sizes, plus where its live rows start in the global log. */
export interface DocState extends DocStorageStats {
  /** The snapshot covers the document's rows up to this doc_seq. */
  uptoSeq: number;
  /** Global seq of the document's first row not covered by its snapshot (when logEntries > 0). */
  firstRow: number;
}

/** Dead bytes allowed beyond the live log before reclaiming: a bound on dead bytes on disk, and on what a restart reads past. */
const DEFAULT_MIN_DEAD_BYTES = 1 << 20;
/** Documents compacted at most per commit to free dead rows. */
const MAX_RECLAIM_PER_COMMIT = 8;

export class LogLedger {
  readonly docs = new Map<string, DocState>();
  /** Global seq of the last row appended. */
  lastRow = 0;
  /** Rows below this global seq are deleted (all covered by snapshots). */
  trimmedBelow = 0;
  /** Bytes of every row in the log, live or covered by a snapshot. */
  diskLogBytes = 0;
  /** Bytes of the rows no snapshot covers (the sum of the documents' logBytes). */
  liveLogBytes = 0;

  /** Rebuilds everything from disk: snapshot sizes, then the log's row headers (length() of a blob does not read it). */
  reload(db: Database.Database): void {
    this.docs.clear();
    const snaps = db.prepare('SELECT doc_id, length(data), upto_seq FROM doc_snapshot').raw().all() as Array<[string, number, number]>;
    for (const [id, bytes, upto] of snaps) {
      this.docs.set(id, { snapshotBytes: bytes, logBytes: 0, logEntries: 0, lastSeq: upto, uptoSeq: upto, firstRow: 0 });
    }
    this.lastRow = 0;
    this.trimmedBelow = 0;
    this.diskLogBytes = 0;
    this.liveLogBytes = 0;
    const rows = db.prepare('SELECT seq, doc_id, doc_seq, length(data) FROM update_log ORDER BY seq').raw().iterate() as Iterable<[number, string, number, number]>;
    for (const [row, id, seq, bytes] of rows) {
      if (this.trimmedBelow === 0) this.trimmedBelow = row;
      this.lastRow = row;
      this.diskLogBytes += bytes;
      const s = this.of(id);
      if (seq <= s.uptoSeq) continue; // covered by the snapshot, waiting to leave the log
      if (s.logEntries === 0) s.firstRow = row;
      s.logEntries += 1;
      s.logBytes += bytes;
      s.lastSeq = Math.max(s.lastSeq, seq);
      this.liveLogBytes += bytes;
    }
  }

  /** The document's state, created empty when the store has none yet. */
  of(docId: string): DocState {
    let s = this.docs.get(docId);
    if (!s) {
      s = { snapshotBytes: 0, logBytes: 0, logEntries: 0, lastSeq: 0, uptoSeq: 0, firstRow: 0 };
      this.docs.set(docId, s);
    }
    return s;
  }

  /** A row `row` of `bytes` was inserted for `s` (call only after the insert succeeded). */
  appended(s: DocState, row: number, bytes: number): void {
    this.lastRow = row;
    if (s.logEntries === 0) s.firstRow = row;
    s.lastSeq += 1;
    s.logBytes += bytes;
    s.logEntries += 1;
    this.diskLogBytes += bytes;
    this.liveLogBytes += bytes;
  }

  /** The snapshot of `s` now covers all its rows. */
  compacted(s: DocState, snapshotBytes: number): void {
    this.liveLogBytes -= s.logBytes;
    s.uptoSeq = s.lastSeq;
    s.snapshotBytes = snapshotBytes;
    s.logBytes = 0;
    s.logEntries = 0;
  }

  /** The first global row that must stay once `docId` is compacted: the oldest live row of another document. */
  keepFrom(docId: string): number {
    let keepFrom = this.lastRow + 1;
    for (const [id, o] of this.docs) if (id !== docId && o.logEntries > 0 && o.firstRow < keepFrom) keepFrom = o.firstRow;
    return keepFrom;
  }

  /**
   * The documents to compact so the log's dead prefix can go: none until dead rows (covered by
   * snapshots, still in the log behind another document's older live row) outweigh the live log
   * and `minDeadBytes`; then those with the oldest live rows, a few (bounded work per commit).
   */
  toReclaim(minDeadBytes = DEFAULT_MIN_DEAD_BYTES): string[] {
    if (this.diskLogBytes - this.liveLogBytes <= Math.max(minDeadBytes, this.liveLogBytes)) return [];
    return [...this.docs]
      .filter(([, s]) => s.logEntries > 0)
      .sort((a, b) => a[1].firstRow - b[1].firstRow)
      .slice(0, MAX_RECLAIM_PER_COMMIT)
      .map(([id]) => id);
  }
}
