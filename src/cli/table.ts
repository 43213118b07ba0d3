// Prints rows as aligned columns (the human form of every `--json` command). Cells hold text from
// AI agents and remote peers, so each is made safe for a terminal: no control character (ESC
// sequences could rewrite the screen or the clipboard), one line per record, and a value that
// contains the column separator is quoted so the columns still read unambiguously.
import { escapeCell } from './escape.js';

const SEPARATOR = '  ';

export function printTable(header: string[], rows: string[][], out: NodeJS.WritableStream = process.stdout): void {
  const safe = rows.map((r) => r.map((c) => escapeCell(c, SEPARATOR)));
  const widths = header.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(SEPARATOR).trimEnd() + '\n';
  out.write(line(header));
  for (const r of safe) out.write(line(r));
}
