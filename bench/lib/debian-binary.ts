// Finds a peer's binary (serf, etcd, nats-server, redis-server) on PATH, or unpacks it from
// Debian's packages without installing them: an install would register and start a system
// service, and the benchmarks only need the binary. `apt-get download` needs no root but needs the
// package lists (`apt-get update`) and a reachable mirror; `dpkg-deb -x` unpacks into a cache dir.
// Packages that hold shared libraries the binary needs (redis: libjemalloc2, liblzf1) are
// unpacked beside it and reached through LD_LIBRARY_PATH.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './run-command.js';

/** Where unpacked packages are kept between runs (root can write it; others fall back to ~/.cache). */
export const BENCH_CACHE_DIR = process.env.TRI_BENCH_CACHE ?? '/var/cache/trinity-bench';

export interface DebianBinarySpec {
  /** Cache subdirectory and the name used in messages (e.g. "etcd"). */
  name: string;
  /** The command looked up on PATH first (e.g. "etcd"). */
  command: string;
  /** Debian packages to unpack, the one holding the binary first. */
  packages: readonly string[];
  /** The binary's path inside the unpacked packages, e.g. "usr/bin/etcd". */
  binary: string;
}

export type BinaryLookup =
  | { ok: true; path: string; source: 'path' | 'cache' | 'unpacked'; env: Record<string, string>; root?: string }
  | { ok: false; reason: string; hint: string };

export const ETCD: DebianBinarySpec = { name: 'etcd', command: 'etcd', packages: ['etcd-server'], binary: 'usr/bin/etcd' };
export const NATS: DebianBinarySpec = { name: 'nats-server', command: 'nats-server', packages: ['nats-server'], binary: 'usr/sbin/nats-server' };
// redis-server is a symlink to redis-check-rdb (redis-tools), which picks its mode from argv[0].
export const REDIS: DebianBinarySpec = { name: 'redis', command: 'redis-server', packages: ['redis-server', 'redis-tools', 'libjemalloc2', 'liblzf1'], binary: 'usr/bin/redis-server' };
export const SERF: DebianBinarySpec = { name: 'serf', command: 'serf', packages: ['serf'], binary: 'usr/bin/serf' };

/** What a user runs to get the binary by hand (the table prints it where a peer is missing). */
export function installHint(spec: DebianBinarySpec): string {
  return `apt-get update, then rerun (the bench unpacks ${spec.packages.join(' ')} with apt-get download + dpkg-deb -x), or put ${spec.command} on PATH`;
}

export async function ensureDebianBinary(spec: DebianBinarySpec, cacheRoot = BENCH_CACHE_DIR): Promise<BinaryLookup> {
  const onPath = await runCommand('sh', ['-c', `command -v ${spec.command}`], { allowFailure: true, timeoutMs: 5_000 }).catch(() => undefined);
  if (onPath?.code === 0 && onPath.stdout.trim()) return { ok: true, path: onPath.stdout.trim(), source: 'path', env: {} };

  const cacheDir = writableCacheDir(cacheRoot, spec.name);
  if (!cacheDir.ok) return { ok: false, reason: cacheDir.reason, hint: installHint(spec) };
  const root = join(cacheDir.dir, 'root');
  const cached = join(root, spec.binary);
  if (existsSync(cached)) return { ok: true, path: cached, source: 'cache', env: libraryEnv(root), root };

  // Download and unpack into a fresh directory, then move it into place in one rename, so a
  // run that dies half-way (or two runs at once) never leaves a torn tree that looks complete.
  const work = mkdtempSync(join(cacheDir.dir, 'tmp-'));
  try {
    const download = await runCommand('apt-get', ['download', ...spec.packages], { allowFailure: true, timeoutMs: 180_000, cwd: work }).catch(
      (err: Error) => ({ code: -1, stdout: '', stderr: err.message }),
    );
    const debs = readdirSync(work).filter((f) => f.endsWith('.deb'));
    if (download.code !== 0 || debs.length < spec.packages.length) {
      return { ok: false, reason: `"apt-get download ${spec.packages.join(' ')}" failed: ${lastLine(download.stderr) || `exit ${download.code}`}`, hint: installHint(spec) };
    }
    const staged = join(work, 'root');
    for (const deb of debs) {
      const unpack = await runCommand('dpkg-deb', ['-x', join(work, deb), staged], { allowFailure: true, timeoutMs: 60_000 }).catch(
        (err: Error) => ({ code: -1, stdout: '', stderr: err.message }),
      );
      if (unpack.code !== 0) return { ok: false, reason: `"dpkg-deb -x ${deb}" failed: ${lastLine(unpack.stderr)}`, hint: installHint(spec) };
    }
    if (!existsSync(join(staged, spec.binary))) return { ok: false, reason: `${spec.packages[0]} holds no ${spec.binary}`, hint: installHint(spec) };
    if (!existsSync(root)) {
      try {
        renameSync(staged, root);
      } catch {
        // another run put its copy in place first: use that one
      }
    }
    return { ok: true, path: cached, source: 'unpacked', env: libraryEnv(root), root };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function writableCacheDir(cacheRoot: string, name: string): { ok: true; dir: string } | { ok: false; reason: string } {
  const tried: string[] = [];
  for (const base of [cacheRoot, join(homedir(), '.cache', 'trinity-bench')]) {
    const dir = join(base, name);
    try {
      mkdirSync(dir, { recursive: true });
      return { ok: true, dir };
    } catch (err) {
      tried.push(`${dir}: ${(err as Error).message}`);
    }
  }
  return { ok: false, reason: `no writable cache dir (${tried.join('; ')}); set TRI_BENCH_CACHE` };
}

/** LD_LIBRARY_PATH for the unpacked tree's shared libraries (empty when it holds none). */
function libraryEnv(root: string): Record<string, string> {
  const dirs = ['usr/lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'usr/lib', 'lib/x86_64-linux-gnu'].map((d) => join(root, d)).filter((d) => existsSync(d) && readdirSync(d).some((f) => f.includes('.so')));
  if (!dirs.length) return {};
  return { LD_LIBRARY_PATH: [...dirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).pop() ?? '';
