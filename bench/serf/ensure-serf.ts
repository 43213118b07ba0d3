// Finds Debian's serf binary, or unpacks it from the .deb without installing the package: an
// install would register and start a system service, and the benchmark only needs the binary.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../lib/run-command.js';

export const SERF_CACHE_DIR = '/var/cache/trinity-bench/serf';

export type SerfLookup = { ok: true; path: string; source: 'path' | 'cache' | 'unpacked' } | { ok: false; reason: string };

export async function ensureSerf(cacheDir = SERF_CACHE_DIR): Promise<SerfLookup> {
  const onPath = await runCommand('sh', ['-c', 'command -v serf'], { allowFailure: true, timeoutMs: 5_000 });
  if (onPath.code === 0 && onPath.stdout.trim()) return { ok: true, path: onPath.stdout.trim(), source: 'path' };

  const unpackedRoot = join(cacheDir, 'root');
  const cachedBinary = join(unpackedRoot, 'usr', 'bin', 'serf');
  if (existsSync(cachedBinary)) return { ok: true, path: cachedBinary, source: 'cache' };

  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch (err) {
    return { ok: false, reason: `cannot create ${cacheDir} (${(err as Error).message}); run as root or pass another cache dir` };
  }
  // apt-get download needs no root but does need the package lists (apt-get update) and a
  // reachable Debian mirror; its own message says which of the two is missing.
  const download = await runCommand('apt-get', ['download', 'serf'], { allowFailure: true, timeoutMs: 120_000, cwd: cacheDir }).catch(
    (err: Error) => ({ code: -1, stdout: '', stderr: err.message }),
  );
  const deb = findDeb(cacheDir);
  if (download.code !== 0 && !deb) {
    return { ok: false, reason: `"apt-get download serf" failed: ${download.stderr.trim() || `exit ${download.code}`}` };
  }
  if (!deb) return { ok: false, reason: `"apt-get download serf" produced no serf_*.deb in ${cacheDir}` };
  const unpack = await runCommand('dpkg-deb', ['-x', deb, unpackedRoot], { allowFailure: true, timeoutMs: 60_000 });
  if (unpack.code !== 0) return { ok: false, reason: `"dpkg-deb -x ${deb}" failed: ${unpack.stderr.trim()}` };
  if (!existsSync(cachedBinary)) return { ok: false, reason: `${deb} holds no usr/bin/serf` };
  return { ok: true, path: cachedBinary, source: 'unpacked' };
}

function findDeb(dir: string): string | undefined {
  const name = readdirSync(dir).find((f) => /^serf_.*\.deb$/.test(f));
  return name ? join(dir, name) : undefined;
}
