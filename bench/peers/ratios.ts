// Ours beside a peer, as numbers: ratio metrics (ours / peer) and the peer section of a result
// (its figures, or why it is missing and how to get it). Pure, so the table code can trust it.
import { metric, type Metrics } from '../lib/result.js';

/** What a result's `peers[name]` holds for a peer that ran or could not run. */
export type PeerSection =
  | { ran: true; metrics: Metrics; settings: Record<string, unknown>; details?: Record<string, unknown> }
  | { ran: false; missing: string; hint: string };

/**
 * `<name>_ratio_vs_<peer>` = ours / peer for every name both sides hold as finite numbers (a
 * peer value of 0 gives no ratio). Latency and CPU: below 1 is better for us; rates: above 1.
 */
export function ratioMetrics(ours: Metrics, peer: Metrics, names: readonly string[], peerName: string): Metrics {
  if (!/^[a-z0-9_]+$/.test(peerName)) throw new Error(`peer name "${peerName}" must be lower-case letters, digits and _`);
  const out: Metrics = {};
  for (const name of names) {
    const a = ours[name]?.value;
    const b = peer[name]?.value;
    if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) continue;
    out[`${name}_ratio_vs_${peerName}`] = metric(Math.round((a / b) * 100) / 100, 'x');
  }
  return out;
}

/** A peer section for a peer that failed or is missing: the reason (one line) and how to get it. */
export function missingPeer(reason: string, hint: string): PeerSection {
  return { ran: false, missing: (reason.split('\n')[0] ?? reason).slice(0, 300), hint };
}

/**
 * Runs one peer's measurement; any failure (binary missing, start-up timeout, client error)
 * becomes a missing-peer section, so a peer never fails the scenario it stands beside.
 */
export async function guardPeer(hint: string, run: () => Promise<PeerSection>, log: (m: string) => void, label: string): Promise<PeerSection> {
  try {
    return await run();
  } catch (err) {
    log(`${label}: peer failed, ours still runs: ${(err as Error).message.split('\n')[0]}`);
    return missingPeer((err as Error).message, hint);
  }
}

/**
 * Whether to run peer `name`: TRI_BENCH_PEERS lists the peers to run (comma-separated; "none"
 * runs none); unset, every peer runs.
 */
export function peerEnabled(name: string, env: string | undefined = process.env.TRI_BENCH_PEERS): boolean {
  if (env === undefined || env.trim() === '') return true;
  return env.split(',').map((s) => s.trim()).includes(name);
}
