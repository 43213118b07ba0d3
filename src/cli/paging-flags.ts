// Flags shared by the paged listings (`tri memory show`, `tri task list`) and the durations and
// sizes of the retention flags, with parsers that say what to give instead.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { DEFAULT_PAGE_ITEMS, MAX_PAGE_ITEMS } from '../limits.js';
import type { PageQuery } from '../paging.js';
import { parseIntIn } from './parse.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "30d" (or a plain number of milliseconds). */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration; give for example 90s, 15m, 1h or 30d.`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError(`"${value}" is not a positive duration.`);
  return ms;
}

/** "256MB", "1GiB", "512k" (or plain bytes). */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size; give for example 64MB, 256MB or 1GB.`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const n = Math.round(Number(m[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[unit]!);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive size.`);
  return n;
}

/** A point in time: ISO 8601 ("2026-12-07T10:00Z"), ms since the epoch, or a duration ago ("1h" = one hour ago). */
export function parseTime(value: string): number {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value.trim())) return Date.now() - parseDuration(value);
  if (/^\d{10,}$/.test(value.trim())) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`"${value}" is not a time; give an ISO time (2026-12-07T10:00Z), ms since the epoch, or how long ago (1h, 2d).`);
  return t;
}

export interface PageFlags {
  limit: number;
  after?: string;
  since?: number;
  until?: number;
  all?: boolean;
}

export function addPageOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--limit <n>', `${what} per page, newest first (1-${MAX_PAGE_ITEMS})`, parseIntIn(1, MAX_PAGE_ITEMS), DEFAULT_PAGE_ITEMS)
    .option('--after <cursor>', 'continue after this cursor (printed at the end of the previous page)')
    .option('--since <time>', 'only from this time on: ISO time, ms since the epoch, or how long ago (1h)', parseTime)
    .option('--until <time>', 'only before this time (same forms as --since)', parseTime)
    .option('--all', 'read every page, one request per page (each reply stays small)');
}

export function pageQuery(f: PageFlags): PageQuery {
  return { limit: f.limit, ...(f.after ? { after: f.after } : {}), ...(f.since !== undefined ? { since: f.since } : {}), ...(f.until !== undefined ? { until: f.until } : {}) };
}

/** Where the next page is: a line for a person, on stderr when stdout carries JSON. */
export function nextPageHint(next: string | undefined, command: string, json: boolean): void {
  if (next === undefined) return;
  (json ? process.stderr : process.stdout).write(`more: ${command} --after ${next}\n`);
}

/** A note from a file, or stdin for "-". */
export function readNoteFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the note from ${path === '-' ? 'stdin' : path}: ${(err as Error).message}`, { cause: err });
  }
}
