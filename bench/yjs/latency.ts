// Edit-to-other-client latency of pairs of clients (bench/yjs-clients.ts): blocks of edits that
// take turns between the pairs, so every target sees the same machine load.
import { sleep } from '../quorum/cluster.js';
import { until, type Client } from './clients.js';

export interface LatencyFigures {
  gapMs: number;
  p50: number;
  p99: number;
  echoP50?: number;
  echoP99?: number;
  echoes?: number;
  edits: number;
}

/** One pair of clients whose edit-to-other-client latency is measured. */
export interface Pair {
  name: string;
  a: Client;
  b: Client;
  sent: Map<string, number>;
  got: Map<string, number>;
  /** When the writer heard its own update back (trinity: once a majority stored it). */
  echo: Map<string, number>;
  ms: number[];
  echoMs: number[];
  /** Further clients of the document (on the writer's node), only there to be delivered to. */
  crowd: Client[];
}

/**
 * Edit-to-other-client latency of every pair, measured in blocks that take turns (a block of
 * each pair, then the next round), so every target sees the same load from the rest of the
 * machine; within a block edits follow each other as in one target's own run (the next edit
 * `gapMs` after the other client had the last). The first block of each pair warms up.
 */
export async function latencies(pairs: Pair[], edits: number, block: number, gapMs: number): Promise<void> {
  for (const p of pairs) {
    await until(`${p.name} latency clients synced`, () => p.a.synced() && p.b.synced() && p.crowd.every((c) => c.synced()), 20_000);
    p.b.doc.getMap('m').observe((ev) => {
      for (const k of ev.keysChanged) p.got.set(k, performance.now());
    });
  }
  const rounds = Math.ceil(edits / block) + 1;
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      for (let j = 0; j < block; j++) {
        const k = `k${r}-${j}`;
        const t0 = performance.now();
        if (r > 0) p.sent.set(k, t0);
        p.a.doc.getMap('m').set(k, j);
        await until(`edit ${k} on the other client (${p.name})`, () => p.got.has(k), 10_000);
        if (r > 0) p.ms.push(p.got.get(k)! - t0);
        await sleep(gapMs);
      }
    }
  }
  await sleep(500); // the last echoes
  for (const p of pairs) for (const [k, t0] of p.sent) if (p.echo.has(k)) p.echoMs.push(p.echo.get(k)! - t0);
}

export function pair(name: string, a: Client, b: Client, crowd: Client[] = []): Pair {
  const p: Pair = { name, a, b, sent: new Map(), got: new Map(), echo: new Map(), ms: [], echoMs: [], crowd };
  a.onEcho = (keys) => {
    const now = performance.now();
    for (const k of keys) if (!p.echo.has(k)) p.echo.set(k, now);
  };
  return p;
}

