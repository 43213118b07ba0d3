// Shared benchmark plumbing: results, statistics, tables and charts.
export { machineInfo, type MachineInfo } from './machine.js';
export { makeResult, metric, writeResult, type BenchResult, type Metric, type Metrics } from './result.js';
export { mean, median, percentile, stddev, summarize, type Summary } from './stats.js';
export { formatTable, formatValue, printTable } from './print-table.js';
export { barChartSvg, lineChartSvg, niceMax, writeChart, type BarChartSpec, type BarSeries, type LineChartSpec, type LineSeries } from './svg-chart.js';
export { runCommand, type CommandResult, type RunOptions } from './run-command.js';
