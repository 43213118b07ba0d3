// Which /24 of 127/8 a benchmark's processes bind. Each scenario has its own by default (ours:
// quorum 127.0.11.x, tasks 127.0.8.x; peers 127.0.12.x), so scenarios and tests never collide.
// TRI_BENCH_NET=127.0.17 moves every scenario (ours and the peers) into that one /24, keeping
// each one's host numbers (quorum 1-5, peers 21-45, task failover 101-113, task throughput 131+),
// for a machine where only that range is ours to use.
export function benchPrefix(defaultPrefix: string, env: string | undefined = process.env.TRI_BENCH_NET): string {
  if (!env) return defaultPrefix;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.?$/.exec(env.trim());
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new Error(`TRI_BENCH_NET must look like 127.0.17 (a /24 of loopback), got "${env}"`);
  return `127.${Number(m[1])}.${Number(m[2])}.`;
}

/** Host numbers of the peers within their /24 (etcd members, NATS servers, redis). */
export const PEER_HOSTS = { etcd: 21, nats: 31, redis: 41 } as const;

/** The peers' /24 (127.0.12.x unless TRI_BENCH_NET says otherwise). */
export function peerAddress(host: number): string {
  if (host < 1 || host > 254) throw new Error(`host ${host} is outside 1-254`);
  return `${benchPrefix('127.0.12.')}${host}`;
}
