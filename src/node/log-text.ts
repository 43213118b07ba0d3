// The human-readable log format (`--log-format text`): one line per record, "TIME LEVEL name: msg
// key=value ...", from the JSON line pino produces. Values from the network (member names,
// addresses, errors) are escaped, so a log tailed on a terminal cannot be driven by a peer.
import { writeSync } from 'node:fs';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/g;

function safe(s: string): string {
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : safe(s);
}

/** One JSON log line as text (the line itself when it is not JSON). */
export function formatLogLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return safe(json.trimEnd());
  }
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${safe(value(v))}`);
  const level = (LEVELS[Number(rec.level)] ?? String(rec.level)).padEnd(5);
  const name = typeof rec.name === 'string' ? `${safe(rec.name)}: ` : '';
  return `${String(rec.time ?? '')} ${level} ${name}${safe(String(rec.msg ?? ''))}${fields.length ? '  ' + fields.join(' ') : ''}`;
}

/** A pino destination writing text lines to `fd` synchronously (as the JSON destination does). */
export function textDestination(fd: number): { write(line: string): void } {
  return { write: (line: string) => void writeSync(fd, formatLogLine(line) + '\n') };
}
