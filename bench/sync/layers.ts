// Byte counters at every layer of both nodes of a pair, so a benchmark can say where each byte
// of an exchange came from: sync messages (engine), + envelope and RPC frame (RpcEndpoint),
// + 4-byte length prefix (TCP transport), + TLS records (the relay's count of real TCP payload).
import type { NodePair } from './harness.js';

export interface LayerSnap {
  /** Real TCP payload bytes A->B and B->A (TLS records included), all connections. */
  wireAB: number;
  wireBA: number;
  /** Sync message bytes sent by A and by B (engine stats). */
  syncA: number;
  syncB: number;
  /** RPC frame bytes sent (frame = kind + method + envelope(sender + sync message)). */
  rpcA: number;
  rpcB: number;
  /** Stream bytes handed to TLS (RPC frames + 4-byte length prefixes) and frames sent. */
  tcpA: number;
  tcpB: number;
  framesA: number;
  framesB: number;
}

export function snap(p: NodePair): LayerSnap {
  const ta = p.a.streams.stats();
  const tb = p.b.streams.stats();
  return {
    wireAB: p.toB.c2s + p.toA.s2c,
    wireBA: p.toA.c2s + p.toB.s2c,
    syncA: p.a.service.engine.stats().sentBytes,
    syncB: p.b.service.engine.stats().sentBytes,
    rpcA: p.a.rpc.stats.bytesOut,
    rpcB: p.b.rpc.stats.bytesOut,
    tcpA: ta.bytesSent,
    tcpB: tb.bytesSent,
    framesA: ta.framesSent,
    framesB: tb.framesSent,
  };
}

export function delta(after: LayerSnap, before: LayerSnap): LayerSnap {
  const out = {} as LayerSnap;
  for (const k of Object.keys(after) as (keyof LayerSnap)[]) out[k] = after[k] - before[k];
  return out;
}

export const wireAll = (d: LayerSnap): number => d.wireAB + d.wireBA;
export const syncAll = (d: LayerSnap): number => d.syncA + d.syncB;
export const framesAll = (d: LayerSnap): number => d.framesA + d.framesB;
