// Debian's redis-server for the BullMQ peer: one server on loopback (<peer /24>.41:6379) with
// Debian's shipped configuration (etc/redis/redis.conf from the package, when it was unpacked or
// is installed), overridden only where a foreground benchmark process must differ (address, data
// directory on the same disk as our nodes', no daemon, log to stdout; redisConfig), and in `fsync-always` mode
// with the append-only file on and fsynced after every write (appendonly yes, appendfsync always).
// As shipped, Debian's file has appendonly no: writes are only in RDB snapshots every few minutes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { peerAddress, PEER_HOSTS } from '../lib/bench-net.js';
import { PeerProcess, waitFor } from './peer-process.js';

export type RedisDurability = 'fsync-always' | 'as-shipped';

export const REDIS_PORT = 6379;

/** The settings a foreground benchmark server must change, and those `fsync-always` adds. */
export function redisOverrides(o: { address: string; dir: string; durability: RedisDurability }): Record<string, string> {
  const base: Record<string, string> = { bind: o.address, port: String(REDIS_PORT), dir: o.dir, daemonize: 'no', supervised: 'no', pidfile: '""', logfile: '""', 'protected-mode': 'no' };
  return o.durability === 'fsync-always' ? { ...base, appendonly: 'yes', appendfsync: 'always' } : base;
}

/**
 * Debian's configuration file with the overridden directives removed and the overrides appended.
 * (Passing them as arguments after the file does not do: redis applies the file's `dir
 * /var/lib/redis` while reading it and exits where that directory does not exist.)
 */
export function redisConfig(shipped: string, overrides: Record<string, string>): string {
  const keys = new Set(Object.keys(overrides).map((k) => k.toLowerCase()));
  const kept = shipped.split('\n').filter((line) => {
    const key = line.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    return !keys.has(key);
  });
  return [...kept, '# trinity-cluster bench overrides', ...Object.entries(overrides).map(([k, v]) => `${k} ${v}`), ''].join('\n');
}

export class RedisServer {
  readonly address = peerAddress(PEER_HOSTS.redis);
  private readonly dir = mkdtempSync(join(tmpdir(), 'tri-bench-redis-'));
  private proc: PeerProcess | undefined;
  /** The configuration file loaded (Debian's), or undefined when none was found. */
  conf: string | undefined;

  constructor(
    private readonly binary: string,
    private readonly env: Record<string, string> = {},
    private readonly root?: string,
  ) {}

  async start(durability: RedisDurability, timeoutMs = 30_000): Promise<void> {
    // Debian's file comes with the unpacked package (root/etc/redis) or with an installed one.
    this.conf = [this.root && join(this.root, 'etc/redis/redis.conf'), '/etc/redis/redis.conf'].find((p): p is string => !!p && existsSync(p));
    const file = join(this.dir, 'redis.conf');
    const data = join(this.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(file, redisConfig(this.conf ? readFileSync(this.conf, 'utf8') : '', redisOverrides({ address: this.address, dir: data, durability })));
    this.proc = new PeerProcess(`redis-server (${durability})`, this.binary, [file], this.env);
    await waitFor('redis-server', [this.proc], () => ping(this.address), timeoutMs, 100);
  }

  get process(): PeerProcess {
    if (!this.proc) throw new Error('redis-server not started');
    return this.proc;
  }

  cpuSeconds(): number {
    return this.proc?.cpuSeconds() ?? NaN;
  }

  async stop(): Promise<void> {
    await this.proc?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True once the server answers PING with +PONG. */
function ping(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port: REDIS_PORT });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}
