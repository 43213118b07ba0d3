// Two real nodes' memory stacks on loopback for the sync benchmarks: each node has a TLS-PSK TCP
// transport, an RpcEndpoint and a MemoryService (the production sync path: engine -> sync
// envelope -> RPC notify frame -> 4-byte length prefix -> TLS 1.3 record -> TCP). Nothing else
// (no gossip, no task table) shares the connections, so every byte counted is memory sync.
//
// Each node reaches the other through a counting TCP relay, so `wire` counts the TCP payload
// bytes really sent: TLS records included. Notifications travel on the sender's own outgoing
// connection, so relay `toB` carries A's messages (c2s) and relay `toA` carries B's.
// In-process counters at each layer (engine, RPC, TCP transport) give the cross-check.
import { MemoryService } from '../../src/memory/memory-service.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { createTcpTransport, type TcpTransport } from '../../src/transport/tcp.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { tlsPskLayer } from '../../src/security/tls-psk.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { realRuntime } from '../../src/runtime/real.js';
import { silentLogger } from '../../src/node/logger.js';
import type { QuorumGate } from '../../src/quorum/quorum-gate.js';
import { EMPTY_CONFIG, type VoterConfig } from '../../src/quorum/voter-config.js';
import type { SyncConfig, SyncEffect } from '../../src/sync/index.js';
import { countingRelay, type Relay } from '../lib/counting-relay.js';

export interface BenchNode {
  name: string;
  service: MemoryService;
  rpc: RpcEndpoint;
  streams: TcpTransport;
  /** Whether a write waits for the peer's ack (continuous mode with a quorum of two). */
  needAck: boolean;
  /** Yjs updates made locally (their own size), as the DocSet saw them. */
  localUpdateBytes: number[];
  /** Carries out engine effects (for modes MemoryService has no public call for: on_demand). */
  run(effects: SyncEffect[]): void;
}

export interface NodePair {
  a: BenchNode;
  b: BenchNode;
  toB: Relay;
  toA: Relay;
  /** All bytes on both relays, both directions. */
  wireTotal(): number;
  close(): Promise<void>;
}

/** A quorum gate for two voters: writable; a write needs the peer's ack when `needAck`. */
function twoVoterGate(self: string, peer: string, node: { needAck: boolean }): QuorumGate {
  // Two voters, the default replication factor: every voter holds everything (replica sets not
  // enforced), and the configuration never changes.
  const config: VoterConfig = { ...EMPTY_CONFIG, epoch: 1, voters: [self, peer].sort().map((name) => ({ name, role: 'hybrid' as const })) };
  return {
    voterConfig: () => config,
    pending: () => undefined,
    onConfigChange: () => {},
    reachableVoters: () => new Set([self, peer]),
    isVoter: (name: string) => name === self || name === peer,
    assertWritable: () => ({ writable: true }),
    ackPlan: () => ({ voters: new Set([peer]), needed: node.needAck ? 1 : 0, complete: (acks: ReadonlySet<string>) => !node.needAck || acks.has(peer) }),
    // One voter configuration (epoch 0) for both: every ack counts, and ours carry word 0.
    word: () => 0,
    countsAck: (word: number) => word === 0,
    ackRule: () => (word: number) => word === 0,
  } as unknown as QuorumGate;
}

/**
 * Starts nodes `names[0]` on `hosts[0]` and `names[1]` on `hosts[1]`, each reaching the other
 * through a counting relay on `hosts[2]`/`hosts[3]`. Anti-entropy timers are off (interval far
 * away) so only what a benchmark starts is on the wire.
 */
export async function startPair(hosts: [string, string, string, string], names: [string, string] = ['n1', 'n2'], sync: Partial<SyncConfig> = {}): Promise<NodePair> {
  const keyring = new Keyring(generateKey());
  const runtime = realRuntime(silentLogger());
  const label = 'bench-sync';
  const mk = async (i: 0 | 1) => {
    const layer = tlsPskLayer({ keyring, name: `member:${names[i]}`, label, limits: { localAddress: hosts[i] } });
    const streams = await createTcpTransport({ host: hosts[i], port: 0, layer, idleTimeoutMs: 0 });
    return { streams, rpc: new RpcEndpoint(streams, runtime, { secure: true }) };
  };
  const [sa, sb] = [await mk(0), await mk(1)];
  const parse = (addr: string) => {
    const i = addr.lastIndexOf(':');
    return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
  };
  const toB = await countingRelay(hosts[2], parse(sb.streams.address));
  const toA = await countingRelay(hosts[3], parse(sa.streams.address));
  const cfg: Partial<SyncConfig> = { antiEntropyIntervalMs: 1e12, ...sync };
  const mkNode = (i: 0 | 1, s: { streams: TcpTransport; rpc: RpcEndpoint }, peerAddr: string): BenchNode => {
    const self = names[i];
    const peer = names[1 - i]!;
    const node = { needAck: true } as BenchNode;
    const service = new MemoryService({
      self,
      runtime,
      store: new MemoryStore({ nodeId: `${self}-id`, name: self }),
      rpc: s.rpc,
      gate: twoVoterGate(self, peer, node),
      addressOf: (n) => (n === peer ? peerAddr : undefined),
      sync: cfg,
    });
    const localUpdateBytes: number[] = [];
    service.docs.onLocalUpdate((_id, update, origin) => {
      if (!(typeof origin === 'object' && origin !== null && 'remotePeer' in origin)) localUpdateBytes.push(update.byteLength);
    });
    // MemoryService keeps its effect runner private; the benchmark drives on_demand through it.
    const run = (effects: SyncEffect[]) => (service as unknown as { run(e: SyncEffect[]): void }).run(effects);
    Object.assign(node, { name: self, service, rpc: s.rpc, streams: s.streams, localUpdateBytes, run });
    service.addPeer(peer);
    return node;
  };
  const a = mkNode(0, sa, toB.address);
  const b = mkNode(1, sb, toA.address);
  // Both connections up (TLS handshakes done) and the engines' first anti-entropy rounds (each
  // starts one at its first tick) finished, so nothing of the start-up is counted later. The
  // warm-up notification is refused by the peer (no such method), harmlessly.
  await Promise.all([a.rpc.notify(toB.address, 'bench.warmup', new Uint8Array(0)), b.rpc.notify(toA.address, 'bench.warmup', new Uint8Array(0))]);
  await settle(() => toB.c2s + toB.s2c + toA.c2s + toA.s2c, 50);
  return {
    a,
    b,
    toB,
    toA,
    wireTotal: () => toB.c2s + toB.s2c + toA.c2s + toA.s2c,
    close: async () => {
      a.service.stop();
      b.service.stop();
      await a.rpc.close();
      await b.rpc.close();
      await a.streams.close();
      await b.streams.close();
      await toA.close();
      await toB.close();
    },
  };
}

/** Resolves once `read()` has not changed for `quietMs` (polling every 2 ms); times out loudly. */
export async function settle(read: () => number, quietMs = 25, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 2));
    const v = read();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`traffic did not settle in ${timeoutMs} ms`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
