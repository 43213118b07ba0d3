// A load loop for the peers' clients (etcd3, nats), shaped as ours (quorum/load.ts): a fixed
// number of operations in flight, bounded by count and by time, each acknowledged operation's
// latency kept, failures counted by error name.
export interface OpLoadResult {
  latencies: number[];
  acked: number;
  errors: Record<string, number>;
  elapsedMs: number;
}

export async function runOps(o: { op: (i: number, worker: number) => Promise<unknown>; concurrency: number; maxOps: number; maxMs: number }): Promise<OpLoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let issued = 0;
  const started = performance.now();
  const deadline = started + o.maxMs;
  const worker = async (w: number): Promise<void> => {
    while (issued < o.maxOps && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        await o.op(i, w);
        latencies.push(performance.now() - t0);
      } catch (err) {
        const name = (err as Error).name && (err as Error).name !== 'Error' ? (err as Error).name : ((err as Error).message ?? 'Error').slice(0, 60);
        errors[name] = (errors[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  return { latencies, acked: latencies.length, errors, elapsedMs: performance.now() - started };
}

/** The value each peer write carries: an episode shaped and sized as our load's (task, outcome, note, tags). */
export function episodeValue(i: number, worker: number): string {
  return JSON.stringify({ task: `task ${i}`, outcome: 'ok', note: `episode ${i} from worker ${worker}`, tags: ['bench'], at: 1_700_000_000_000 + i });
}
