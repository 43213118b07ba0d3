// Issue 15 item 8: table cells hold text from agents and peers; none of it may drive the terminal.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeCell, escapeControls } from '../../src/cli/escape.js';
import { printTable } from '../../src/cli/table.js';

function render(header: string[], rows: string[][]): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString('utf8')));
  printTable(header, rows, out);
  return text;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/;

describe('table output of untrusted text', () => {
  it('escapes ESC sequences, C1 controls, bidi overrides and newlines visibly', () => {
    expect(escapeControls('a\u001b[31mb\u0007\n\t\u009b\u202e')).toBe('a\\x1b[31mb\\x07\\n\\t\\x9b\\u202e');
    expect(escapeControls('plain text, ünïcode ✓')).toBe('plain text, ünïcode ✓');
  });

  it('quotes a value that contains the separator or edge spaces, and nothing else', () => {
    expect(escapeCell('a  b', '  ')).toBe('"a  b"');
    expect(escapeCell(' lead', '  ')).toBe('" lead"');
    expect(escapeCell('"q" and \\', '  ')).toBe('"\\"q\\" and \\\\"');
    expect(escapeCell('one space', '  ')).toBe('one space');
  });

  it('any cell text gives one line per record and no control character on the output', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 3, maxLength: 3 }), { maxLength: 5 }), (rows) => {
        const text = render(['A', 'B', 'C'], rows);
        expect(text.split('\n')).toHaveLength(rows.length + 2); // header, rows, final newline
        expect(text.replace(/\n/g, '')).not.toMatch(CONTROL);
      }),
      { numRuns: 300 },
    );
  });
});

describe('text log format', () => {
  it('prints one readable line per record, escaping what peers sent', async () => {
    const { formatLogLine } = await import('../../src/node/log-text.js');
    const line = formatLogLine(JSON.stringify({ level: 40, time: '2026-12-07T06:00:00.000Z', name: 'n1', member: 'n2\u001b[2J', event: 'dead', msg: 'member dead' }));
    expect(line).toBe('2026-12-07T06:00:00.000Z WARN  n1: member dead  member=n2\\u001b[2J event=dead');
    expect(formatLogLine('not json\n')).toBe('not json');
  });
});

describe('warning before a graceful stop', () => {
  it('warns when the stop leaves one voter, no majority, or none; not otherwise', async () => {
    const { leaveWarning } = await import('../../src/node/leave-warning.js');
    const all = (xs: string[]) => new Set(xs);
    expect(leaveWarning({ self: 'n1', voters: ['n1', 'n2', 'n3'], reachable: all(['n1', 'n2', 'n3']) })).toBeUndefined();
    expect(leaveWarning({ self: 'n4', voters: ['n1', 'n2'], reachable: all(['n1', 'n2']) })).toBeUndefined(); // a learner
    expect(leaveWarning({ self: 'n2', voters: ['n1', 'n2'], reachable: all(['n1', 'n2']) })).toMatch(/leaves n1 as the only voter/);
    expect(leaveWarning({ self: 'n1', voters: ['n1'], reachable: all(['n1']) })).toMatch(/only voter/);
    expect(leaveWarning({ self: 'n1', voters: ['n1', 'n2', 'n3', 'n4', 'n5'], reachable: all(['n1', 'n2']) })).toMatch(/leaves 1 reachable of 4 remaining voters, fewer than a majority/);
  });
});
