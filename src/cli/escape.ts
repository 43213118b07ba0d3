// Untrusted text made safe to print on a terminal, one line, readable back: C0/C1 controls, DEL,
// and the Unicode controls that reorder or break lines (bidi overrides, line separators) become
// visible escapes (\n, \t, \x1b, \u202e); nothing else changes.

// C0, DEL, C1, zero-width/bidi marks, line and paragraph separators, bidi embeddings and isolates, BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with every unsafe character escaped (see UNSAFE). */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * One table cell: controls escaped, and quoted (JSON style: "..." with \" and \\) when the text
 * contains the column separator, starts or ends with a space, or starts with a quote, so a reader
 * (or a script splitting on the separator) can tell where each value ends.
 */
export function escapeCell(value: string, separator: string): string {
  const needsQuotes = value.includes(separator) || value.startsWith(' ') || value.endsWith(' ') || value.startsWith('"');
  if (!needsQuotes) return escapeControls(value);
  return `"${escapeControls(value.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}
