// One chart of ops/s per case: horizontal bars on a log scale (the cases span 10 to 10,000,000
// ops/s), grouped by suite, in the dependency-free SVG style of bench/lib/svg-chart.ts.
import type { CaseFigure } from './result.js';

const ROW_H = 18;
const LABEL_W = 480;
const PLOT_W = 420;
const TOP = 52;
const CHAR_W = 6.2;
// Okabe-Ito, as bench/lib/svg-chart.ts.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function opsChartSvg(title: string, cases: readonly CaseFigure[]): string {
  const shown = cases.filter((c) => Number.isFinite(c.opsPerSec) && c.opsPerSec > 0);
  const lo = Math.floor(Math.log10(Math.min(...shown.map((c) => c.opsPerSec), 10)));
  const hi = Math.ceil(Math.log10(Math.max(...shown.map((c) => c.opsPerSec), 100)));
  const x = (v: number): number => LABEL_W + ((Math.log10(v) - lo) / (hi - lo || 1)) * PLOT_W;
  const suites = [...new Set(shown.map((c) => c.suite))];
  const H = TOP + shown.length * ROW_H + 40;
  const W = LABEL_W + PLOT_W + 90;
  const parts: string[] = [];
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p);
    parts.push(`<line x1="${f(gx)}" y1="${TOP - 6}" x2="${f(gx)}" y2="${H - 34}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(gx)}" y="${H - 20}" font-size="11" text-anchor="middle">${tick(10 ** p)}</text>`);
  }
  shown.forEach((c, i) => {
    const y = TOP + i * ROW_H;
    const colour = COLOURS[suites.indexOf(c.suite) % COLOURS.length]!;
    const label = `${c.suite}: ${c.case}`;
    const clipped = label.length * CHAR_W > LABEL_W - 10 ? `${label.slice(0, Math.floor((LABEL_W - 10) / CHAR_W) - 1)}…` : label;
    parts.push(`<text x="${LABEL_W - 8}" y="${y + 12}" font-size="11" text-anchor="end">${esc(clipped)}<title>${esc(label)}</title></text>`);
    parts.push(`<rect x="${LABEL_W}" y="${y + 2}" width="${f(Math.max(1, x(c.opsPerSec) - LABEL_W))}" height="${ROW_H - 5}" fill="${colour}"><title>${esc(`${label}: ${Math.round(c.opsPerSec)} ops/s`)}</title></rect>`);
    parts.push(`<text x="${f(x(c.opsPerSec) + 4)}" y="${y + 12}" font-size="10">${tick(c.opsPerSec)}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" font-size="15" font-weight="bold" text-anchor="middle">${esc(title)}</text>`,
    `<text x="${LABEL_W + PLOT_W / 2}" y="40" font-size="11" text-anchor="middle">operations per second (log scale)</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function tick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

const f = (n: number): string => n.toFixed(1);
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
