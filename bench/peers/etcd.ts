// etcd (Debian's etcd-server 3.4, Raft) as the quorum-writes peer: n members on loopback
// (<peer /24>.21.., client port 2379, peer port 2380), each with its own data directory on the
// same disk as our nodes' (os.tmpdir()), fsync per commit (etcd's default; --unsafe-no-fsync is
// not set). Writes go through the official npm client (etcd3, gRPC) to the leader, the best case
// for etcd (a follower would forward each proposal to it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { peerAddress, PEER_HOSTS } from '../lib/bench-net.js';
import { PeerProcess, waitFor } from './peer-process.js';

export class EtcdCluster {
  readonly members: PeerProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'tri-bench-etcd-'));
  private readonly clients: Etcd3[] = [];

  constructor(
    private readonly binary: string,
    private readonly env: Record<string, string> = {},
  ) {}

  address(i: number): string {
    return peerAddress(PEER_HOSTS.etcd + i);
  }

  endpoint(i: number): string {
    return `http://${this.address(i)}:2379`;
  }

  /** Starts n members and resolves once one of them is the leader every member names. Returns the leader's index. */
  async start(n: number, timeoutMs = 60_000): Promise<number> {
    const initial = Array.from({ length: n }, (_, i) => `m${i + 1}=http://${this.address(i)}:2380`).join(',');
    for (let i = 0; i < n; i++) {
      const a = this.address(i);
      const args = [
        '--name', `m${i + 1}`, '--data-dir', join(this.dir, `m${i + 1}`),
        '--listen-client-urls', `http://${a}:2379`, '--advertise-client-urls', `http://${a}:2379`,
        '--listen-peer-urls', `http://${a}:2380`, '--initial-advertise-peer-urls', `http://${a}:2380`,
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `tri-bench-${process.pid}`,
        '--logger', 'zap', '--log-level', 'warn',
      ];
      this.members.push(new PeerProcess(`etcd m${i + 1}`, this.binary, args, { ...this.env, ...(process.arch === 'x64' ? {} : { ETCD_UNSUPPORTED_ARCH: process.arch }) }));
    }
    const { Etcd3: Client } = await import('etcd3');
    for (let i = 0; i < n; i++) this.clients.push(new Client({ hosts: this.endpoint(i), dialTimeout: 2_000 }));
    let leader = -1;
    await waitFor(`etcd cluster of ${n}`, this.members, async () => {
      const st = await Promise.all(this.clients.map((c) => c.maintenance.status({ deadline: Date.now() + 1_000 })));
      const leaders = new Set(st.map((s) => s.leader));
      if (leaders.size !== 1 || st[0]!.leader === '0') return false;
      leader = st.findIndex((s) => s.header.member_id === st[0]!.leader);
      return leader >= 0;
    }, timeoutMs, 250);
    return leader;
  }

  /** A client of member i (its own gRPC channel). */
  client(i: number): Etcd3 {
    return this.clients[i]!;
  }

  cpuSeconds(): number {
    return this.members.reduce((a, m) => a + m.cpuSeconds(), 0);
  }

  /** The members' process ids (scheduler figures: quorum/load.ts schedMsOf). */
  pids(): (number | undefined)[] {
    return this.members.map((m) => m.pid);
  }

  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    await Promise.all(this.members.map((m) => m.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
