// Finds Debian's serf binary, or unpacks it from the .deb without installing the package (the
// shared helper in lib/debian-binary.ts does the work for every peer: serf, etcd, nats, redis).
import { BENCH_CACHE_DIR, ensureDebianBinary, SERF } from '../lib/debian-binary.js';

export const SERF_CACHE_DIR = `${BENCH_CACHE_DIR}/serf`;

export type SerfLookup = { ok: true; path: string; source: 'path' | 'cache' | 'unpacked' } | { ok: false; reason: string };

export async function ensureSerf(cacheRoot = BENCH_CACHE_DIR): Promise<SerfLookup> {
  const r = await ensureDebianBinary(SERF, cacheRoot);
  return r.ok ? { ok: true, path: r.path, source: r.source } : { ok: false, reason: `${r.reason} (${r.hint})` };
}
