// Benchmark `sync-bandwidth` (DESIGN.md "Replicated agent memory", "Benchmarks"): bytes on the
// wire per episode update, per sync mode, for catch-up after missed updates and for a
// 10,000-episode memory; apply throughput and memory per agent document. The same workload is
// synced by plain y-protocols messages in the same run (peer `y-protocols`).
//
// Wire bytes are measured on two real nodes' memory stacks over TLS-PSK (TLS 1.3) on loopback
// (bench/sync/harness.ts): a counting TCP relay sees every byte, TLS record headers and tags
// included; the engine, RPC and TCP-transport counters split them by layer.
// Addresses: 127.0.9.1-127.0.9.4 only.
//
// Run after compiling: node dist/bench/run.js --only sync-bandwidth --out bench/out [--quick]
// The parts live in bench/sync/ (wire-bytes, apply-and-heap); this file runs them in order and
// writes the result.
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { applyThroughput, memoryPerDoc } from './sync/apply-and-heap.js';
import { bigMemory, catchUpAndModes, perUpdateBytes } from './sync/wire-bytes.js';

export { HOSTS } from './sync/bandwidth-setup.js';
export { warmPair } from './sync/wire-bytes.js';

export interface SyncBandwidthOptions {
  out: string;
  quick: boolean;
  log?: (msg: string) => void;
}

export async function runSyncBandwidth(opts: SyncBandwidthOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[sync-bandwidth] ${m}\n`));
  const metrics: Metrics = {};
  const peer: Metrics = {};
  const tls = await perUpdateBytes(opts.quick, metrics, peer, log);
  await catchUpAndModes(opts.quick, tls, metrics, peer, opts.out, log);
  await bigMemory(opts.quick, tls, metrics, peer, log);
  applyThroughput(opts.quick, metrics, peer, log);
  memoryPerDoc(opts.quick, metrics, peer, log);
  metrics.goal_overhead_per_update = metric(48, 'bytes');
  metrics.goal_catchup_ratio = metric(1.1, 'x');
  metrics.goal_apply_updates_per_s = metric(50_000, 'updates/s');
  const { result, path } = writeResult(opts.out, 'sync-bandwidth', metrics, {
    'y-protocols': {
      note: 'same documents and updates, synced by plain y-protocols messages (computed in the same run); *_on_tls_stream adds our measured per-message stream cost (4-byte length prefix + one TLS record), without document id, sender or ack',
      metrics: peer,
    },
  });
  log(`wrote ${path}`);
  return result;
}
