// Measuring one exchange between the two nodes of a pair: run it, wait for the wire to go
// quiet, return its bytes by layer; and checking that the pair converged.
import type { NodePair } from './harness.js';
import { settle } from './harness.js';
import { delta, snap, type LayerSnap } from './layers.js';

export const quiet = (p: NodePair): Promise<void> => settle(() => p.wireTotal());

/** Waits (up to about 1 s) for both nodes' memory digests to match; throws if they never do. */
export async function inSync(p: NodePair, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (p.a.service.digest().digest === p.b.service.digest().digest) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${what}: the two nodes did not converge`);
}

/** Runs `start`, waits until the wire is quiet, returns the bytes it cost by layer. */
export async function measure(p: NodePair, start: () => unknown): Promise<LayerSnap> {
  const s0 = snap(p);
  await start();
  await quiet(p);
  return delta(snap(p), s0);
}

/** A's writes stop reaching B (no continuous push, no ack awaited) until `reconnect`. */
export function partition(p: NodePair): void {
  p.a.service.removePeer(p.b.name);
  p.a.needAck = false;
}

export function reconnect(p: NodePair): void {
  p.a.service.addPeer(p.b.name);
  p.a.needAck = true;
}
