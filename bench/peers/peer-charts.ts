// Bar charts of ours beside the peers that ran in the same scenario: one group per category
// (e.g. 3 and 5 processes), one bar per implementation; a peer that is missing gets no bar and
// its legend entry says so.
import type { BarChartSpec } from '../lib/svg-chart.js';
import type { Metrics } from '../lib/result.js';
import type { PeerSection } from './ratios.js';

export function peerBarChart(o: {
  title: string;
  unit: string;
  /** Category label and the metric name read for it, from ours and from every peer. */
  categories: readonly { label: string; metric: string }[];
  ours: Metrics;
  peers: Readonly<Record<string, PeerSection>>;
  /** Legend names by peer section key (default: the key). */
  names?: Readonly<Record<string, string>>;
}): BarChartSpec {
  const values = (m: Metrics): number[] => o.categories.map((c) => m[c.metric]?.value ?? NaN);
  return {
    title: o.title,
    unit: o.unit,
    categories: o.categories.map((c) => c.label),
    series: [
      { name: 'trinity', values: values(o.ours) },
      ...Object.entries(o.peers).map(([key, sec]) => {
        const name = o.names?.[key] ?? key;
        return sec.ran ? { name, values: values(sec.metrics) } : { name: `${name} (missing)`, values: o.categories.map(() => NaN) };
      }),
    ],
  };
}
