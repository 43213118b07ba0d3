// What one durable commit costs on the disk the benchmark nodes write to: the floor under any
// latency that waits for a majority's disk. Measured in this process (not in the nodes) with the
// nodes' own SQLite settings (WAL, synchronous = FULL, exclusive lock), plus a bare fdatasync.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_PRAGMAS } from '../../src/storage/sqlite-schema.js';
import { summarize } from '../lib/index.js';

export interface FsyncFloor {
  /** One small row committed (what a node's group commit of one small update costs). */
  sqliteCommitP50Ms: number;
  sqliteCommitP99Ms: number;
  /** fdatasync of a 200-byte append to a plain file. */
  fdatasyncP50Ms: number;
  fdatasyncP99Ms: number;
  samples: number;
}

export function measureFsyncFloor(parentDir: string, samples = 200): FsyncFloor {
  const dir = mkdtempSync(join(parentDir, 'fsync-floor-'));
  try {
    const fd = openSync(join(dir, 'plain'), 'w');
    const raw: number[] = [];
    try {
      for (let i = 0; i < samples; i++) {
        writeSync(fd, Buffer.alloc(200, i));
        const t0 = performance.now();
        fdatasyncSync(fd);
        raw.push(performance.now() - t0);
      }
    } finally {
      closeSync(fd);
    }
    const db = new Database(join(dir, 'floor.db'));
    const sql: number[] = [];
    try {
      for (const p of SQLITE_PRAGMAS) db.pragma(p);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const commit = db.transaction((v: Buffer) => insert.run(v));
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        commit(Buffer.alloc(200, i));
        sql.push(performance.now() - t0);
      }
    } finally {
      db.close();
    }
    const s = summarize(sql);
    const f = summarize(raw);
    return { sqliteCommitP50Ms: s.p50, sqliteCommitP99Ms: s.p99, fdatasyncP50Ms: f.p50, fdatasyncP99Ms: f.p99, samples };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
