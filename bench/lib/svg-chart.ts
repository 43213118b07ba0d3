// Dependency-free SVG charts for benchmark results: grouped bars (e.g. detection time, trinity
// against serf, per cluster size; bytes per update by sync mode) and lines (e.g. convergence
// time against cluster size). Output is a standalone SVG string; writeChart() saves it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface BarSeries {
  name: string;
  /** One value per category; NaN leaves a gap. */
  values: number[];
}

export interface BarChartSpec {
  title: string;
  /** Axis label of the values, e.g. "ms" or "bytes per update". */
  unit: string;
  categories: string[];
  series: BarSeries[];
}

export interface LineSeries {
  name: string;
  points: [x: number, y: number][];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  unit: string;
  series: LineSeries[];
}

// Fixed plot area; the image widens to fit the legend so series names are never clipped.
const H = 400;
const M = { top: 48, bottom: 56, left: 72 };
const PLOT_W = 500;
const PLOT_H = H - M.top - M.bottom;
/** Rough width of one character at font-size 12, for sizing the legend column. */
const CHAR_W = 7;
// Colour-blind-safe palette (Okabe-Ito).
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function barChartSvg(spec: BarChartSpec): string {
  const all = spec.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yMax = niceMax(Math.max(0, ...all));
  const groupW = PLOT_W / Math.max(1, spec.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  const parts: string[] = [];
  spec.categories.forEach((cat, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    spec.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const h = (v / yMax) * PLOT_H;
      const x = gx + si * barW;
      const y = M.top + PLOT_H - h;
      parts.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(barW * 0.92)}" height="${f(h)}" fill="${colour(si)}"><title>${esc(`${s.name} ${cat}: ${v} ${spec.unit}`)}</title></rect>`);
      parts.push(`<text x="${f(x + barW * 0.46)}" y="${f(y - 4)}" font-size="10" text-anchor="middle">${esc(short(v))}</text>`);
    });
    parts.push(`<text x="${f(M.left + ci * groupW + groupW / 2)}" y="${M.top + PLOT_H + 18}" font-size="12" text-anchor="middle">${esc(cat)}</text>`);
  });
  return frame(spec.title, spec.unit, '', yAxis(yMax) + parts.join(''), spec.series.map((s) => s.name));
}

export function lineChartSvg(spec: LineChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMin = Math.min(...pts.map(([x]) => x), 0);
  const xMax = niceMax(Math.max(...pts.map(([x]) => x), 1));
  const yMax = niceMax(Math.max(...pts.map(([, y]) => y), 0));
  const sx = (x: number): number => M.left + ((x - xMin) / (xMax - xMin || 1)) * PLOT_W;
  const sy = (y: number): number => M.top + PLOT_H - (y / yMax) * PLOT_H;
  const parts: string[] = [];
  // Few distinct x values (cluster sizes, say) are labelled exactly; many get 4 even ticks.
  const distinctX = [...new Set(pts.map(([x]) => x))].sort((a, b) => a - b);
  const ticks = distinctX.length <= 10 ? distinctX : [0, 1, 2, 3, 4].map((i) => xMin + ((xMax - xMin) * i) / 4);
  for (const x of ticks) {
    parts.push(`<text x="${f(sx(x))}" y="${M.top + PLOT_H + 18}" font-size="11" text-anchor="middle">${esc(short(x))}</text>`);
  }
  spec.series.forEach((s, si) => {
    const sorted = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${colour(si)}" stroke-width="2" points="${sorted.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
    for (const [x, y] of sorted) {
      parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3.5" fill="${colour(si)}"><title>${esc(`${s.name} ${x}: ${y} ${spec.unit}`)}</title></circle>`);
    }
  });
  return frame(spec.title, spec.unit, spec.xLabel, yAxis(yMax) + parts.join(''), spec.series.map((s) => s.name));
}

/** Writes an SVG file, creating its directory. */
export function writeChart(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}

function frame(title: string, unit: string, xLabel: string, body: string, legend: string[]): string {
  const legendX = M.left + PLOT_W + 16;
  const W = Math.ceil(Math.max(legendX + 24 + CHAR_W * Math.max(0, ...legend.map((n) => n.length)) + 12, M.left + PLOT_W + 40, CHAR_W * 1.3 * title.length));
  const legendItems = legend
    .map((name, i) => {
      const y = M.top + 8 + i * 20;
      return `<rect x="${legendX}" y="${y - 9}" width="12" height="12" fill="${colour(i)}"/><text x="${legendX + 18}" y="${y + 1}" font-size="12">${esc(name)}</text>`;
    })
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="26" font-size="16" font-weight="bold" text-anchor="middle">${esc(title)}</text>`,
    `<text transform="translate(18 ${M.top + PLOT_H / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(unit)}</text>`,
    xLabel ? `<text x="${M.left + PLOT_W / 2}" y="${H - 14}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>` : '',
    `<line x1="${M.left}" y1="${M.top + PLOT_H}" x2="${M.left + PLOT_W}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
    body,
    legendItems,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(yMax: number): string {
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = M.top + PLOT_H - (v / yMax) * PLOT_H;
    ticks.push(`<line x1="${M.left}" y1="${f(y)}" x2="${M.left + PLOT_W}" y2="${f(y)}" stroke="#e5e5e5"/>`);
    ticks.push(`<text x="${M.left - 6}" y="${f(y + 4)}" font-size="11" text-anchor="end">${esc(short(v))}</text>`);
  }
  return ticks.join('');
}

/** Rounds an axis maximum up to 1, 2 or 5 times a power of ten, so ticks are readable. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * pow) return m * pow;
  return 10 * pow;
}

function short(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

const f = (n: number): string => n.toFixed(1);
const colour = (i: number): string => COLOURS[i % COLOURS.length]!;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
