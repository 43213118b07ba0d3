// Where the time of a write goes, ours beside each peer (quorum-writes): server CPU per write,
// client CPU per write, our floor and what our processes spend above it, and the share of the
// machine's cores the run kept busy under load. If ours spends more server CPU per write than a
// peer, the ratio is lost on CPU; if not, and it still completes fewer writes or waits longer,
// it is lost on waiting (fsync, round trips, wake-ups). Pure: reads the metrics both sides wrote.
import type { Metrics } from '../lib/result.js';
import type { PeerSection } from './ratios.js';

export interface SideSplit {
  serverCpuMs: number;
  clientCpuMs: number;
  /** Share (%) of the machine's cores the servers + client kept busy under load. */
  busySharePct: number;
  writesPerSec: number;
  latencyP50Ms: number;
  /** CPU ms per second the servers spend with no writes (membership, heartbeats, timers). */
  idleCpuMsPerSec: number;
  /** serverCpuMs less the idle rate spread over the writes: what the writes themselves cost. */
  serverCpuAboveIdleMs: number;
}

export interface WriteSplit {
  ours: SideSplit & { floorMs: number; aboveFloorMs: number };
  peers: Record<string, SideSplit & { serverCpuRatio: number; throughputRatio: number }>;
  /** One line per peer: whether the gap is CPU or waiting. */
  verdicts: string[];
}

const v = (m: Metrics, name: string): number => m[name]?.value ?? NaN;

function side(m: Metrics, n: number): SideSplit {
  return {
    serverCpuMs: v(m, `n${n}_node_cpu_per_write`),
    clientCpuMs: v(m, `n${n}_client_cpu_per_write`),
    busySharePct: v(m, `n${n}_cpu_busy_share`),
    writesPerSec: v(m, `n${n}_throughput`),
    latencyP50Ms: v(m, `n${n}_latency_p50`),
    idleCpuMsPerSec: v(m, `n${n}_idle_cpu_per_s`),
    serverCpuAboveIdleMs: v(m, `n${n}_node_cpu_per_write_above_idle`),
  };
}

export function writeSplit(n: number, ours: Metrics, peers: Readonly<Record<string, PeerSection>>): WriteSplit {
  const o = side(ours, n);
  const floorMs = v(ours, `n${n}_floor_cpu_per_write`);
  const out: WriteSplit = { ours: { ...o, floorMs, aboveFloorMs: o.serverCpuMs - floorMs }, peers: {}, verdicts: [] };
  for (const [name, sec] of Object.entries(peers)) {
    if (!sec.ran) continue;
    const p = side(sec.metrics, n);
    const serverCpuRatio = o.serverCpuMs / p.serverCpuMs;
    const throughputRatio = o.writesPerSec / p.writesPerSec;
    out.peers[name] = { ...p, serverCpuRatio, throughputRatio };
    if (!Number.isFinite(serverCpuRatio) || !Number.isFinite(throughputRatio)) continue;
    const x = (r: number): string => `${(Math.round(r * 100) / 100).toString()}x`;
    const cpu = serverCpuRatio > 1.1;
    const idleNote = Number.isFinite(o.serverCpuAboveIdleMs) && Number.isFinite(p.serverCpuAboveIdleMs)
      ? `; less each side's idle CPU (${o.idleCpuMsPerSec.toFixed(1)} against ${p.idleCpuMsPerSec.toFixed(1)} ms/s) ${o.serverCpuAboveIdleMs.toFixed(3)} against ${p.serverCpuAboveIdleMs.toFixed(3)} ms (${x(o.serverCpuAboveIdleMs / p.serverCpuAboveIdleMs)})`
      : '';
    const floorNote = Number.isFinite(floorMs) ? `; our floor alone is ${floorMs.toFixed(3)} ms (${floorMs > p.serverCpuMs ? 'above' : 'below'} ${name}'s whole server cost), our processes spend ${(o.serverCpuMs - floorMs).toFixed(3)} ms above it` : '';
    out.verdicts.push(
      `n=${n} vs ${name}: server CPU per write ${o.serverCpuMs.toFixed(3)} ms against ${p.serverCpuMs.toFixed(3)} ms (${x(serverCpuRatio)})${idleNote}, writes/s ${x(throughputRatio)}, cores busy ${o.busySharePct.toFixed(0)}% against ${p.busySharePct.toFixed(0)}%: ` +
        (cpu ? `we lose on CPU${floorNote}` : throughputRatio < 0.9 ? 'we lose on waiting (our CPU per write is not higher)' : 'no loss to explain') ,
    );
  }
  return out;
}
