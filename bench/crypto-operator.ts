// Scenario `crypto-operator`: what encryption costs an operator, as CPU per node per second, in
// one run against the same cluster started --insecure (plaintext gossip and streams):
// 1. 32 idle nodes gossiping (real `tri node start` processes, lan profile): each node's CPU per
//    second, encrypted and plaintext, and its gossip packets per second. Beside the measured
//    difference (noisy: a few tenths of a percent of a core on a shared machine), the estimate
//    from the counts: packets sealed x seal cost + packets opened x open cost, both costs
//    measured here in-process on the real PacketCrypto at the cluster's mean packet size.
// 2. 3 nodes under the quorum-writes load (64 in flight through the RPC client): node CPU per
//    write and writes/s, encrypted and plaintext; the difference x the encrypted rate / 3 is what
//    each node pays per second for TLS on its streams and sealed gossip at that load.
// crypto-cost's bare packet loop (encryption's share of a loop that does nothing else) stays as a
// secondary figure: it measures Node's per-call cipher overhead, not a cost paid at gossip rates.
import { randomBytes } from 'node:crypto';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/index.js';
import type { ScenarioOptions } from './lib/scenario.js';
import { QuorumCluster, sleep, type QStatus } from './quorum/cluster.js';
import { load1m, procCpuSeconds, runLoad } from './quorum/load.js';
import { Keyring, generateKey } from '../src/security/keyring.js';
import { PacketCrypto } from '../src/security/packet-crypto.js';

type Mode = 'encrypted' | 'insecure';

interface IdleSample {
  /** CPU ms per node per second. */
  cpuMsPerNodePerS: number;
  packetsOutPerNodePerS: number;
  packetsInPerNodePerS: number;
  meanPacketBytes: number;
  formedS: number;
  loadAvg1m: number;
}

/** CPU µs of one seal and of one open of a `bytes`-byte packet on the real PacketCrypto. */
export function sealOpenCost(bytes: number, packets = 20_000): { sealUs: number; openUs: number } {
  const crypto = new PacketCrypto({ keyring: new Keyring(generateKey()), label: '', version: 1 });
  const plain = randomBytes(Math.max(1, Math.round(bytes)));
  const sealed: Buffer[] = [];
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  for (let i = 0; i < 2_000; i++) crypto.open(crypto.seal(plain, { senderId: 1n, seq: BigInt(i) })); // warm the JIT
  const s0 = cpu();
  for (let i = 0; i < packets; i++) sealed.push(crypto.seal(plain, { senderId: 1n, seq: BigInt(i) }));
  const s1 = cpu();
  for (const p of sealed) if (!crypto.open(p).ok) throw new Error('a sealed packet did not open');
  const s2 = cpu();
  return { sealUs: (s1 - s0) / packets, openUs: (s2 - s1) / packets };
}

/** Per node per second from two snapshots of gossip counters and CPU over `seconds`. */
export function perNodePerSecond(
  before: { cpuS: number; out: number; in: number; bytesOut: number },
  after: { cpuS: number; out: number; in: number; bytesOut: number },
  nodes: number,
  seconds: number,
): { cpuMs: number; out: number; in: number; meanBytes: number } {
  const d = (k: 'cpuS' | 'out' | 'in' | 'bytesOut'): number => after[k] - before[k];
  return { cpuMs: (d('cpuS') * 1000) / nodes / seconds, out: d('out') / nodes / seconds, in: d('in') / nodes / seconds, meanBytes: d('out') > 0 ? d('bytesOut') / d('out') : NaN };
}

async function snapshot(cluster: QuorumCluster): Promise<{ cpuS: number; out: number; in: number; bytesOut: number }> {
  const all = (await Promise.all(cluster.nodes.map((_, i) => cluster.status(i)))) as (QStatus & { gossip?: Record<string, number> })[];
  const sum = (k: string): number => all.reduce((a, s) => a + (s?.gossip?.[k] ?? 0), 0);
  return { cpuS: cluster.nodes.reduce((a, n) => a + procCpuSeconds(n.proc.pid), 0), out: sum('packetsOut'), in: sum('packetsIn'), bytesOut: sum('bytesOut') };
}

async function idleRun(mode: Mode, nodes: number, windowS: number, log: (m: string) => void): Promise<IdleSample> {
  const cluster = new QuorumCluster({ insecure: mode === 'insecure' });
  try {
    const t0 = performance.now();
    await cluster.start(nodes, 300_000, { batch: 4, alive: true });
    const formedS = (performance.now() - t0) / 1000;
    await sleep(10_000); // joins' push-pulls, snapshots and admissions settle
    const a = await snapshot(cluster);
    const started = performance.now();
    await sleep(windowS * 1000);
    const b = await snapshot(cluster);
    const p = perNodePerSecond(a, b, nodes, (performance.now() - started) / 1000);
    const loadAvg1m = load1m();
    log(`crypto-operator ${nodes} idle nodes ${mode}: CPU ${p.cpuMs.toFixed(2)} ms per node per s, gossip ${p.out.toFixed(1)} packets out + ${p.in.toFixed(1)} in per node per s (mean ${p.meanBytes.toFixed(0)} B), formed in ${formedS.toFixed(1)} s, load ${loadAvg1m}`);
    return { cpuMsPerNodePerS: p.cpuMs, packetsOutPerNodePerS: p.out, packetsInPerNodePerS: p.in, meanPacketBytes: p.meanBytes, formedS, loadAvg1m };
  } finally {
    await cluster.stop();
  }
}

async function loadRun(mode: Mode, nodes: number, quick: boolean, log: (m: string) => void): Promise<{ rate: number; cpuMsPerWrite: number; packetsPerNodePerS: number; loadAvg1m: number }> {
  const cluster = new QuorumCluster({ insecure: mode === 'insecure' });
  try {
    await cluster.start(nodes);
    const clients = [];
    for (let i = 0; i < nodes; i++) clients.push(await cluster.client(i));
    // Warm-up as quorum-writes does (the JIT keeps compiling the write path for seconds of load).
    await runLoad({ clients, concurrency: 8, maxWrites: quick ? 200 : 1_000, maxMs: 20_000, agents: 32 });
    await runLoad({ clients, concurrency: 64, maxWrites: 1_000_000, maxMs: quick ? 1_500 : 4_000, agents: 64 });
    const a = await snapshot(cluster);
    const tp = await runLoad({ clients, concurrency: 64, maxWrites: 1_000_000, maxMs: quick ? 3_000 : 8_000, agents: 64 });
    const b = await snapshot(cluster);
    const p = perNodePerSecond(a, b, nodes, tp.elapsedMs / 1000);
    const rate = (tp.acked / tp.elapsedMs) * 1000;
    const cpuMsPerWrite = ((b.cpuS - a.cpuS) * 1000) / Math.max(1, tp.acked);
    const loadAvg1m = load1m();
    log(`crypto-operator ${nodes} nodes under load ${mode}: ${rate.toFixed(0)} writes/s, node CPU ${cpuMsPerWrite.toFixed(3)} ms per write, gossip ${(p.out + p.in).toFixed(0)} packets per node per s, errors ${JSON.stringify(tp.errors)}, load ${loadAvg1m}`);
    return { rate, cpuMsPerWrite, packetsPerNodePerS: p.out + p.in, loadAvg1m };
  } finally {
    await cluster.stop();
  }
}

export async function runCryptoOperator(opts: ScenarioOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const nodes = Number(process.env.TRI_CRYPTO_NODES ?? 32);
  const windowS = opts.quick ? 10 : 30;
  const idle: Record<Mode, IdleSample> = { encrypted: await idleRun('encrypted', nodes, windowS, log), insecure: await idleRun('insecure', nodes, windowS, log) };
  const cost = sealOpenCost(idle.encrypted.meanPacketBytes || 200);
  const e = idle.encrypted;
  // What sealing and opening this node's gossip costs per second, from its packet counts.
  const estimatedMs = (e.packetsOutPerNodePerS * cost.sealUs + e.packetsInPerNodePerS * cost.openUs) / 1000;
  const measuredMs = e.cpuMsPerNodePerS - idle.insecure.cpuMsPerNodePerS;
  log(`crypto-operator: seal ${cost.sealUs.toFixed(2)} us + open ${cost.openUs.toFixed(2)} us per ${e.meanPacketBytes.toFixed(0)} B packet -> ${estimatedMs.toFixed(3)} ms of CPU per node per s at ${nodes} idle nodes (${((estimatedMs / 1000) * 100).toFixed(3)}% of a core); measured difference encrypted - insecure ${measuredMs.toFixed(3)} ms/s`);

  const loaded: Record<Mode, Awaited<ReturnType<typeof loadRun>>> = { encrypted: await loadRun('encrypted', 3, opts.quick, log), insecure: await loadRun('insecure', 3, opts.quick, log) };
  const perWriteMs = loaded.encrypted.cpuMsPerWrite - loaded.insecure.cpuMsPerWrite;
  const loadCostMs = (perWriteMs * loaded.encrypted.rate) / 3;
  log(`crypto-operator: under the quorum-writes load (3 nodes, 64 in flight) encryption costs ${perWriteMs.toFixed(3)} ms of node CPU per write = ${loadCostMs.toFixed(1)} ms per node per s (${((loadCostMs / 1000) * 100).toFixed(1)}% of a core); writes/s encrypted / insecure ${(loaded.encrypted.rate / loaded.insecure.rate).toFixed(2)}`);

  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  const metrics: Metrics = {
    [`n${nodes}_idle_crypto_cpu_per_node_estimated`]: metric(r3(estimatedMs), 'ms/s'),
    [`n${nodes}_idle_crypto_core_share_estimated`]: metric(r3((estimatedMs / 1000) * 100), '%'),
    [`n${nodes}_idle_crypto_cpu_per_node_measured`]: metric(r3(measuredMs), 'ms/s'),
    [`n${nodes}_idle_cpu_per_node_encrypted`]: metric(r3(e.cpuMsPerNodePerS), 'ms/s'),
    [`n${nodes}_idle_cpu_per_node_insecure`]: metric(r3(idle.insecure.cpuMsPerNodePerS), 'ms/s'),
    [`n${nodes}_gossip_packets_per_node_per_s`]: metric(Math.round((e.packetsOutPerNodePerS + e.packetsInPerNodePerS) * 10) / 10, 'packets/s'),
    gossip_mean_packet_bytes: metric(Math.round(e.meanPacketBytes), 'bytes'),
    seal_us_per_packet: metric(r3(cost.sealUs), 'us'),
    open_us_per_packet: metric(r3(cost.openUs), 'us'),
    n3_load_crypto_cpu_per_write: metric(r3(perWriteMs), 'ms'),
    n3_load_crypto_cpu_per_node: metric(Math.round(loadCostMs * 10) / 10, 'ms/s'),
    n3_load_crypto_core_share: metric(Math.round((loadCostMs / 1000) * 1000) / 10, '%'),
    n3_load_writes_per_sec_encrypted: metric(Math.round(loaded.encrypted.rate), 'writes/s'),
    n3_load_writes_per_sec_insecure: metric(Math.round(loaded.insecure.rate), 'writes/s'),
    n3_load_node_cpu_per_write_encrypted: metric(r3(loaded.encrypted.cpuMsPerWrite), 'ms'),
    n3_load_node_cpu_per_write_insecure: metric(r3(loaded.insecure.cpuMsPerWrite), 'ms'),
    load_avg_1m: metric(load1m(), 'load'),
  };
  return writeResult(opts.out, 'crypto-operator', metrics, {
    idle,
    loaded,
    sealOpen: { ...cost, packetBytes: e.meanPacketBytes },
    notes: [
      'estimated = gossip packets sealed x seal cost + opened x open cost (PacketCrypto, in-process, at the mean packet size); measured = node CPU encrypted - insecure over the same window, which on a shared machine is within the noise at idle gossip rates',
      'under load: TLS on the RPC and sync streams plus sealed gossip, from node CPU per write encrypted - insecure, times the encrypted rate, per node',
      "secondary: crypto-cost's bare packet loop (gossip_compound_throughput_cost) is encryption's share of a loop doing nothing else",
    ],
  }).result;
}
