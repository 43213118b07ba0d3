// What the soaks (bench/soak.ts, bench/soak-one.ts) share to judge a steady state: the retention
// policy every written agent gets, when the warm-up ends (retention trimming every agent and the
// task table), slopes fitted from there, write p99 of the first and last windows after it, what
// 30 days at the load would need, and where the data directory's bytes are (files, SQLite tables).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { percentile } from './lib/index.js';

/**
 * The policy of every soak agent (soak-0..199, written 0.25 times a second each at 50 writes/s):
 * full after ~100 s, so retention trims every agent from the quick run's second minute on (the
 * warm-up ends once the echo agent is at its policy too).
 */
export const SOAK_AGENT_POLICY = { maxEpisodes: 25 };
/** The echo agent gets one episode per task (20 tasks/s): full after ~50 s. */
export const ECHO_POLICY = { maxEpisodes: 1000 };

/** What one sample needs from a node's /status to tell whether retention is trimming. */
export interface RetentionView {
  /** Agents with a policy that the last policy sweep saw, and how many of them it trimmed. */
  sweepAgents: number;
  sweepTrimmed: number;
  forgottenByPolicy: number;
  tasksTrimmed: number;
}

export function retentionView(statusJson: string): RetentionView | undefined {
  try {
    const r = (JSON.parse(statusJson) as { retention?: { memory?: Record<string, number>; tasks?: Record<string, number> } }).retention;
    if (!r?.memory) return undefined;
    return { sweepAgents: r.memory['lastSweepAgents'] ?? 0, sweepTrimmed: r.memory['lastSweepTrimmed'] ?? 0, forgottenByPolicy: r.memory['forgottenByPolicy'] ?? 0, tasksTrimmed: r.tasks?.['trimmed'] ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Retention is trimming when the last sweep trimmed every written agent (each gets several
 * writes between two sweeps, the echo agent's policy fills last) and the task table has been
 * trimmed: from then on what is written is matched by what is forgotten.
 */
export function trimming(views: Array<RetentionView | undefined>, agents: number): boolean {
  const seen = views.filter((v): v is RetentionView => v !== undefined);
  return seen.some((v) => v.sweepTrimmed >= agents) && seen.some((v) => v.tasksTrimmed > 0);
}

/** The end of the warm-up: the first sample (at `minS` or later) at which retention was trimming. */
export function warmupEnd(samples: Array<{ t: number; trimming: boolean }>, minS: number): number | undefined {
  return samples.find((s) => s.t >= minS && s.trimming)?.t;
}

/** Least-squares slope of (t seconds, value) points, per 10 minutes; NaN with fewer than 2 points. */
export function slopePer10Min(points: Array<readonly [number, number]>): number {
  const pts = points.filter(([, v]) => Number.isFinite(v));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? NaN : (num / den) * 600;
}

/**
 * Write p99 of the first and of the last window after the warm-up: 5 minutes each, or half of
 * what is left after the warm-up when that is shorter (the goal: last <= 1.2 x first).
 */
export function p99Windows(writes: Array<readonly [tMs: number, ms: number]>, fromMs: number, endMs: number): { first: number; last: number; spanMs: number } {
  const spanMs = Math.min(5 * 60_000, (endMs - fromMs) / 2);
  const lat = (a: number, b: number) => writes.filter(([t]) => t >= a && t < b).map(([, ms]) => ms);
  return { first: percentile(lat(fromMs, fromMs + spanMs), 99), last: percentile(lat(endMs - spanMs, endMs), 99), spanMs };
}

/** What a data directory would hold after 30 days: its size now plus the slope continued. */
export function after30DaysMB(nowMB: number, slopeMBPer10Min: number): number {
  return nowMB + Math.max(0, slopeMBPer10Min) * 6 * 24 * 30;
}

/**
 * A data directory's bytes without the write-ahead logs (-wal, -shm): those are a sawtooth between
 * checkpoints (0 to several MB), whose fit over a few minutes says more about where the last
 * checkpoint fell than about growth; the database files themselves are the trend.
 */
export function withoutWalMB(files: Record<string, number>): number {
  return Object.entries(files).reduce((a, [f, mb]) => (f.endsWith('-wal') || f.endsWith('-shm') ? a : a + mb), 0);
}

/** Bytes of each file in a data directory (node.db, node.db-wal, ...), in MB. */
export function dataDirFiles(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const f of readdirSync(dir)) out[f] = statSync(join(dir, f)).size / 2 ** 20;
  } catch {
    // not created yet, or gone
  }
  return out;
}

/** Bytes per table and index of a stopped node's recall index (recall.db: FTS5 and side tables). */
export function recallBreakdown(file: string): Record<string, unknown> {
  if (!existsSync(file)) return { error: `${file} is missing` };
  const db = new Database(file, { fileMustExist: true });
  try {
    return {
      fileMB: statSync(file).size / 2 ** 20,
      freelistPages: db.pragma('freelist_count', { simple: true }),
      episodes: (db.prepare('SELECT count(*) AS n FROM ep').get() as { n: number }).n,
      tablesMB: Object.fromEntries((db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>).map((r) => [r.name, r.bytes / 2 ** 20])),
    };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    db.close();
  }
}

/**
 * Where the bytes of a stopped node's database are: per table and index (SQLite's dbstat), the
 * free pages, and the rows of each table. Opening it replays the write-ahead log a SIGKILL left.
 */
export function dbBreakdown(dbFile: string): Record<string, unknown> {
  if (!existsSync(dbFile)) return { error: `${dbFile} is missing` };
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const out: Record<string, unknown> = {
      fileMB: statSync(dbFile).size / 2 ** 20,
      pageCount: db.pragma('page_count', { simple: true }),
      freelistPages: db.pragma('freelist_count', { simple: true }),
      pageSize,
      rows: Object.fromEntries(['update_log', 'doc_snapshot', 'kv', 'meta'].map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n])),
      snapshotBytes: (db.prepare('SELECT coalesce(sum(length(data)), 0) AS n FROM doc_snapshot').get() as { n: number }).n,
      logBytes: (db.prepare('SELECT coalesce(sum(length(data)), 0) AS n FROM update_log').get() as { n: number }).n,
      kvByPrefix: db.prepare("SELECT substr(key, 1, instr(key || '/', '/')) AS prefix, count(*) AS n, sum(length(value)) AS bytes FROM kv GROUP BY prefix ORDER BY bytes DESC LIMIT 12").all(),
      largestSnapshots: db.prepare('SELECT doc_id, length(data) AS bytes FROM doc_snapshot ORDER BY bytes DESC LIMIT 5').all(),
    };
    try {
      out['tablesMB'] = Object.fromEntries((db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>).map((r) => [r.name, r.bytes / 2 ** 20]));
    } catch (err) {
      out['tablesMB'] = `dbstat unavailable: ${(err as Error).message}`;
    }
    return out;
  } finally {
    db.close();
  }
}

/** The machine's 1-minute load average (latency figures on a shared machine mean little without it). */
export function load1(): number {
  return Math.round(loadavg()[0]! * 10) / 10;
}
