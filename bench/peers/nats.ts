// NATS JetStream (Debian's nats-server) as the quorum-writes peer: n servers in one cluster on
// loopback (<peer /24>.31.., client port 4222, route port 6222), each with its own store
// directory on the same disk as our nodes', and a file-backed KV bucket replicated n times (R3 /
// R5). A KV put is acknowledged once a majority of the stream's replicas hold it. The official
// npm client (nats) connects to server 1 (the stream leader may be another server).
//
// Durability: asked to sync every write (`sync_interval: always`, nats-server 2.10+). A server
// that does not know the setting (Debian 12 ships 2.9.10: "unknown field") is restarted without
// it and `sync` says so: such a server writes each message to its block file (page cache) and
// fsyncs on its own timer, so it bounds our figures rather than compares with them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KV, NatsConnection } from 'nats';
import { peerAddress, PEER_HOSTS } from '../lib/bench-net.js';
import { runCommand } from '../lib/run-command.js';
import { PeerProcess, waitFor } from './peer-process.js';

export interface NatsSync {
  /** True when every server runs with sync_interval: always. */
  everyWrite: boolean;
  note: string;
}

/** One server's configuration file (nats-server's own format). */
export function natsConfig(o: { name: string; address: string; storeDir: string; routes: readonly string[]; syncAlways: boolean }): string {
  return [
    `server_name: ${o.name}`,
    `listen: ${o.address}:4222`,
    `jetstream {`,
    `  store_dir: "${o.storeDir}"`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    ...(o.syncAlways ? ['  sync_interval: always'] : []),
    `}`,
    `cluster {`,
    `  name: tri-bench`,
    `  listen: ${o.address}:6222`,
    `  routes: [${o.routes.map((r) => `nats-route://${r}:6222`).join(', ')}]`,
    `}`,
    '',
  ].join('\n');
}

export class NatsCluster {
  readonly servers: PeerProcess[] = [];
  sync: NatsSync = { everyWrite: false, note: 'not started' };
  private readonly dir = mkdtempSync(join(tmpdir(), 'tri-bench-nats-'));
  private conn: NatsConnection | undefined;

  constructor(
    private readonly binary: string,
    private readonly env: Record<string, string> = {},
  ) {}

  address(i: number): string {
    return peerAddress(PEER_HOSTS.nats + i);
  }

  /** Starts n servers, connects, and creates KV bucket `bench` with n replicas. */
  async start(n: number, timeoutMs = 60_000): Promise<KV> {
    // `nats-server -t` checks a configuration and exits: a server without sync_interval says "unknown field".
    const syncAlways = await this.acceptsSyncAlways();
    this.sync = syncAlways
      ? { everyWrite: true, note: 'sync_interval: always (fsync after every write)' }
      : { everyWrite: false, note: 'this nats-server does not know sync_interval (added in 2.10): each write reaches the page cache and is fsynced on its own 2-minute timer, so it bounds rather than compares' };
    this.spawnAll(n, syncAlways);
    const { connect } = await import('nats');
    const servers = Array.from({ length: n }, (_, i) => `${this.address(i)}:4222`);
    await waitFor(`nats server 1 of ${n}`, this.servers, async () => {
      this.conn = await connect({ servers: servers[0], timeout: 1_000, maxReconnectAttempts: -1 });
      return true;
    }, timeoutMs, 250);
    let kv: KV | undefined;
    // Creating a replicated stream waits for the JetStream meta leader, elected once the routes are up.
    await waitFor(`JetStream KV with ${n} replicas`, this.servers, async () => {
      kv = await this.conn!.jetstream({ timeout: 5_000 }).views.kv('bench', { replicas: n, history: 1 });
      await kv.put('ready', 'x');
      return true;
    }, timeoutMs, 500);
    return kv!;
  }

  cpuSeconds(): number {
    return this.servers.reduce((a, s) => a + s.cpuSeconds(), 0);
  }

  /** The servers' process ids (scheduler figures: quorum/load.ts schedMsOf). */
  pids(): (number | undefined)[] {
    return this.servers.map((s) => s.pid);
  }

  async stop(): Promise<void> {
    await this.conn?.close().catch(() => undefined);
    this.conn = undefined;
    await Promise.all(this.servers.map((s) => s.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async acceptsSyncAlways(): Promise<boolean> {
    const conf = join(this.dir, 'probe.conf');
    writeFileSync(conf, natsConfig({ name: 'probe', address: this.address(0), storeDir: join(this.dir, 'probe'), routes: [], syncAlways: true }));
    const r = await runCommand(this.binary, ['-t', '-c', conf], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
    return r?.code === 0;
  }

  private spawnAll(n: number, syncAlways: boolean): void {
    const run = this.dir;
    for (let i = 0; i < n; i++) {
      const storeDir = join(run, `s${i + 1}`);
      mkdirSync(storeDir, { recursive: true });
      const routes = Array.from({ length: n }, (_, j) => this.address(j)).filter((_, j) => j !== i);
      const conf = join(run, `s${i + 1}.conf`);
      writeFileSync(conf, natsConfig({ name: `s${i + 1}`, address: this.address(i), storeDir, routes, syncAlways }));
      this.servers.push(new PeerProcess(`nats s${i + 1}`, this.binary, ['-c', conf], this.env));
    }
  }
}
