// startNode(): a node on real sockets. Builds the world (runtime, UDP sealed with the keyring,
// TCP over TLS-PSK or mutual TLS, SQLite storage) and hands it to ClusterNode, which is the same
// class the simulator runs.
//
// Start-up time is join time: the others see a new member only once its process has loaded its
// modules and sent its join. So what only some nodes need (SQLite with --data, discovery with
// --discover) is imported only then, and what no node needs before it joins (prom-client for
// /metrics, the dashboard page) is imported while the join is in flight. The store still opens
// before the join: the node id, the persisted incarnation and the keyring come from it.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { ProfileName } from '../../gossip/config.js';
import { ConfigError, TimeoutError } from '../errors.js';
import { realRuntime } from '../runtime/real.js';
import type { Logger } from '../runtime/types.js';
import { createUdpTransport } from '../transport/udp.js';
import { createTcpTransport } from '../transport/tcp.js';
import { createPlainSocketLayer } from '../transport/plain-socket-layer.js';
import { formatAddress, parseAddress } from '../transport/address.js';
import { fanInStreams } from '../transport/fan-in.js';
import type { PacketTransport, SocketLayer } from '../transport/types.js';
import { Keyring, insecureWarning, mutualTlsLayer, securePackets, securityStatus, tlsPskLayer, type SecurePacketTransport, type TlsSocketLayer } from '../security/index.js';
import { registerKeyringMethods } from './keyring-rpc.js';
import { registerMcpNodeMethods } from '../mcp/node-methods.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { NodeStore } from '../storage/types.js';
import { ClusterNode } from './cluster-node.js';
import { createLogger } from './logger.js';
import { PROTOCOL_VERSION, type Role } from './meta.js';
import { NodeHttpServer } from './http-server.js';
import { healthRoute, statusRoute } from './status-route.js';
import { registerOpsMethods } from './ops-rpc.js';
import { checkNameFree, registerNameCheck } from './name-check.js';
import { registerSnapshotMethods } from './snapshot-rpc.js';
import { clusterViewRoute } from './cluster-view-route.js';
import { registerAgentTypeMethods } from './agent-types-rpc.js';
import { registerOperatorMethods } from './operator-rpc.js';
import { keepMemberSnapshot, loadMemberSnapshot } from './member-snapshot.js';
import { DropSummary } from './drop-summary.js';
import { logStartup, reportKeyringSource } from './startup-log.js';
import { attachYjs } from '../yjs/attach.js';
import { checkReplicationFactor } from '../placement/replication-factor.js';
import { applyReplicationFactorFlag, registerPlacementMethods } from './placement-rpc.js';
import { placementRoute } from './placement-route.js';
import type { RetentionOptions } from './retention-wiring.js';
import { HeapGuard } from './heap-guard.js';
import { guardAllowanceBytes, sqliteCacheBytes } from './heap-flags.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../storage/residency.js';
import { AgentDecoder } from '../recall/agent-decoder.js';

export interface StartNodeOptions {
  name: string;
  /** Address to bind gossip, RPC and HTTP on (default 127.0.0.1). */
  bind?: string;
  /** Gossip (UDP) and push-pull port (default 9999). */
  port?: number;
  /** RPC (TCP) port for streams and client tools (default 10000). */
  rpcPort?: number;
  /** HTTP port for /status, /metrics and the dashboard (default 10080; 0 turns it off). */
  httpPort?: number;
  /** Address of the HTTP face (default: `bind`; a warning when that is not loopback, as /status and the dashboard need no key). */
  httpBind?: string;
  /** Seeds, HOST:PORT of the gossip port of any member. */
  join?: string[];
  /**
   * With `join`: reject with TimeoutError (and stop the node) when no seed answered within this
   * long. Without it startNode waits for a seed as long as it takes (seeds may start later).
   */
  joinTimeoutMs?: number;
  role?: Role;
  slots?: number;
  /** Data directory; without it the node keeps its state in memory only. */
  dataDir?: string;
  /** Base64 32-byte cluster key (tri keys generate), or a keyring. */
  key?: string | Keyring;
  /** Operator certificates for mutual TLS on streams instead of TLS-PSK (PEM text). */
  tls?: { cert: string; key: string; ca: string };
  /** Plaintext, unauthenticated: for throwaway test clusters only. */
  insecure?: boolean;
  profile?: ProfileName;
  /** Cluster label bound into every packet and handshake (default "trinity"). */
  clusterLabel?: string;
  logger?: Logger;
  /** A JavaScript module exporting agent handlers (`--agents`), loaded before the node joins. */
  agents?: string;
  /** Find seeds by authenticated UDP broadcast on port 9999 when `join` is empty, and answer others' requests. */
  discover?: boolean;
  /** Size limit of one document Yjs clients may edit (bytes; default 32 MiB). */
  docSizeLimit?: number;
  /** Task trimming and memory policy sweeps (defaults: finished tasks kept 1 h, at most 10,000). */
  retention?: RetentionOptions;
  /** Memory the agent documents may take before idle ones are unloaded (default 256 MiB). */
  memoryBudgetBytes?: number;
  /**
   * Replication factor the node founds a cluster with (odd, 1-31; default 3). A node that joins,
   * or restarts into, a cluster keeps the cluster's factor (src/placement/replication-factor.ts).
   */
  replicationFactor?: number;
}

export async function startNode(opts: StartNodeOptions): Promise<ClusterNode> {
  if (!opts.name || !/^[A-Za-z0-9._-]{1,64}$/.test(opts.name)) {
    throw new ConfigError(`node name "${opts.name}" is not valid: use 1-64 letters, digits, ".", "_" or "-"`);
  }
  const badFactor = opts.replicationFactor === undefined ? undefined : checkReplicationFactor(opts.replicationFactor);
  if (badFactor) throw new ConfigError(badFactor);
  if (!opts.insecure && !opts.key) {
    throw new ConfigError('no cluster key: make one with `tri keys generate --out cluster.key` and pass --key-file cluster.key (or --insecure for a plaintext test cluster)');
  }
  const bind = opts.bind ?? '127.0.0.1';
  // Embedded, stdout belongs to the program: the default logger writes to stderr.
  const logger = opts.logger ?? createLogger({ name: opts.name, destination: 2 });
  const runtime = realRuntime(logger);
  const label = opts.clusterLabel ?? 'trinity';
  const packetDrops = new DropSummary(logger, runtime.scheduler, 'gossip packets that failed authentication or decoding');

  // A start that fails (a port in use, a refused directory) leaves no new directory behind.
  const createdDir = opts.dataDir !== undefined && !existsSync(opts.dataDir);
  let store: NodeStore;
  try {
    store = opts.dataDir
    ? (await import('../storage/sqlite-store.js')).SqliteStore.open({ dir: opts.dataDir, name: opts.name, cacheBytes: sqliteCacheBytes(opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES) })
      : new MemoryStore({ nodeId: randomBytes(8).toString('hex'), name: opts.name });
  } catch (err) {
    if (createdDir) rmSync(opts.dataDir!, { recursive: true, force: true });
    throw err;
  }
  const cleanup: Array<() => Promise<void> | void> = [() => store.close()];
  if (createdDir) cleanup.unshift(() => rmSync(opts.dataDir!, { recursive: true, force: true }));
  try {
    const keyring = opts.insecure ? undefined : loadKeyring(opts.key!, store, logger);
    const udp = await createUdpTransport({ host: bind, port: opts.port ?? 9999, logger, reuseAddr: opts.discover === true });
    cleanup.push(() => udp.close());
    const packets: PacketTransport | SecurePacketTransport = keyring
      ? securePackets(udp, {
          keyring,
          label,
          version: PROTOCOL_VERSION,
          clock: runtime.clock,
          onDrop: (d) => packetDrops.record(d.reason, d.from),
        })
      : udp;
    const layer: SocketLayer = opts.tls
      ? mutualTlsLayer({ ...opts.tls, limits: { localAddress: bind } })
      : keyring
        ? tlsPskLayer({ keyring, name: `member:${opts.name}`, label, limits: { localAddress: bind } })
        : createPlainSocketLayer({ localAddress: bind });
    const rpcStreams = await createTcpTransport({ host: bind, port: opts.rpcPort ?? 10000, layer, logger });
    cleanup.push(() => rpcStreams.close());
    const gossipStreams = await createTcpTransport({ host: bind, port: parseAddress(udp.address).port, layer, logger });
    cleanup.push(() => gossipStreams.close());
    const streams = fanInStreams(rpcStreams, gossipStreams);
    if (!keyring) {
      const w = insecureWarning(formatAddress(bind, opts.port ?? 9999));
      logger.warn(w.fields, w.msg);
    }

    const http = new NodeHttpServer(logger);
    const httpPort = opts.httpPort ?? 10080;
    const httpBind = opts.httpBind ?? bind;
    const boundHttp = httpPort === 0 ? 0 : await http.listen(httpBind, httpPort);
    if (httpPort !== 0 && opts.httpBind === undefined && !isLoopback(httpBind)) {
      logger.warn({ http: formatAddress(httpBind, boundHttp) }, `HTTP (/status, /metrics, the dashboard: no key needed) is served on ${httpBind}, reachable from the network: pass --http-bind 127.0.0.1 to keep it on this machine, or --http-port 0 to turn it off`);
    }
    if (httpPort !== 0) cleanup.push(() => http.close());

    let discover: (() => Promise<string[]>) | undefined;
    let closeResponder: (() => Promise<void>) | undefined;
    if (opts.discover) {
      const { DISCOVERY_PORT, DiscoveryResponder, createDiscoveryCrypto, discover: discoverSeeds } = await import('../discovery/index.js');
      const security = keyring ? { crypto: createDiscoveryCrypto({ keyring, label }) } : { insecure: true as const };
      const responder = await DiscoveryResponder.start({
        ...security,
        advertise: { name: opts.name, host: bind, port: parseAddress(udp.address).port, rpcPort: parseAddress(rpcStreams.address).port },
        port: DISCOVERY_PORT,
        logger,
      });
      closeResponder = () => responder.close();
      cleanup.push(closeResponder);
      discover = () => discoverSeeds({ ...security, bindHost: bind, port: DISCOVERY_PORT, self: [udp.address], logger });
    }

    const identity = store.identity();
    // Members known before a restart: extra seeds when --join is given (one seed down must not
    // strand a node that knows others), retried in the background either way.
    const known = opts.dataDir ? loadMemberSnapshot(store, opts.name) : new Map<string, string>();
    const join = opts.join?.length ? [...new Set([...opts.join, ...known.values()])] : opts.join;
    const node = new ClusterNode(
      { runtime, packets, streams, store, secure: keyring !== undefined || opts.tls !== undefined },
      {
        name: opts.name,
        role: opts.role,
        slots: opts.slots,
        profile: opts.profile,
        join,
        nodeId: identity.nodeId,
        incarnation: store.bumpIncarnation(),
        rpcPort: parseAddress(rpcStreams.address).port,
        httpPort: boundHttp,
        discover,
        recallIndex: opts.dataDir ? joinPath(opts.dataDir, 'recall.db') : undefined,
        retention: opts.retention,
        memoryBudgetBytes: opts.memoryBudgetBytes,
      },
    );
    // ClusterNode closes its transports and store itself; the extras of a real node close with it.
    if (closeResponder) node.onStopped(closeResponder);
    node.onStopped(() => packetDrops.stop());
    registerKeyringMethods(node, keyring);
    registerMcpNodeMethods(node);
    registerOpsMethods(node);
    registerNameCheck(node);
    registerAgentTypeMethods(node);
    registerOperatorMethods(node);
    registerPlacementMethods(node);
    if (opts.replicationFactor !== undefined) applyReplicationFactorFlag(node, opts.replicationFactor, logger);
    registerSnapshotMethods(node, store as Partial<{ backupTo(file: string): Promise<void> }>, opts.dataDir);
    if (join?.length) await checkNameFree(node, join, { name: opts.name, nodeId: identity.nodeId, address: udp.address }, logger);
    // Garbage of unloaded documents goes back promptly (heap-guard.ts); shown on /status as `heapGuard`.
    const heapGuard = new HeapGuard({ budgetBytes: opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES, allowanceBytes: guardAllowanceBytes(opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES) }).start();
    node.onStopped(() => heapGuard.stop());
    node.addStatus('heapGuard', () => heapGuard.stats);
    node.addStatus('security', securityStatus(keyring ? (packets as SecurePacketTransport) : undefined, 'stats' in layer ? (layer as TlsSocketLayer) : undefined, keyring));
    if (httpPort !== 0) {
      http.route('/status', statusRoute(node, keyring));
      http.route('/health', healthRoute(node));
      http.route('/cluster', clusterViewRoute(node));
      http.route('/placement', placementRoute(node, keyring));
      node.onStopped(() => http.close());
      attachYjs(node, http, keyring, opts.docSizeLimit);
    }
    if (opts.agents) await node.tasks.loadAgents(opts.agents);
    // Join first: start() sends the push-pull to the seeds at once and resolves when ACTIVE.
    // What only /metrics and the dashboard need loads while the join is in flight.
    const started = node.start();
    started.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
    if (httpPort !== 0) {
      const [{ NodeMetrics }, { dashboardRoute }] = await Promise.all([import('./metrics.js'), import('./dashboard-page.js')]);
      http.route('/metrics', new NodeMetrics(node).route());
      http.route('/', dashboardRoute());
    }
    await withJoinTimeout(started, opts.joinTimeoutMs, () => node.crash(), opts.join ?? []);
    // In step now rather than on the first recall, in slices between which the node serves
    // (a lost or bulk-fed index is rebuilt without holding the event loop, large agents decoded
    // in a worker thread); /status shows progress.
    node.recallIndex.openInBackground({ decoder: new AgentDecoder() });
    node.addStatus('recallIndex', () => node.recallIndex.progress());
    if (opts.dataDir) keepMemberSnapshot(node, store, logger, known);
    logStartup(logger, { name: opts.name, gossip: udp.address, rpc: rpcStreams.address, http: boundHttp === 0 ? undefined : formatAddress(httpBind, boundHttp), profile: opts.profile ?? 'lan', dataDir: opts.dataDir, keyring, tls: opts.tls !== undefined });
    return node;
  } catch (err) {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

/** `started`, or a TimeoutError after `ms` (the node is crashed first: it never joined, so there is no one to tell). */
async function withJoinTimeout(started: Promise<void>, ms: number | undefined, crash: () => Promise<void>, seeds: string[]): Promise<void> {
  if (ms === undefined) return started;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    if ((await Promise.race([started, timeout])) !== 'timeout') return;
  } finally {
    clearTimeout(timer);
  }
  await crash();
  throw new TimeoutError(`no seed answered within ${ms} ms (${seeds.join(', ') || 'no seeds'}): check that a member runs there and uses the same key, or start this node without join to found a new cluster`);
}

/** The keyring persisted in the data directory wins over the key given, so rotations survive restarts. */
function loadKeyring(key: string | Keyring, store: NodeStore, logger: Logger): Keyring {
  if (key instanceof Keyring) return key;
  const saved = store.kvGet('security/keyring');
  // A key removed by a rotation must stay removed even if an old --key-file is given again.
  const keyring = saved ? Keyring.fromJSON(JSON.parse(saved)) : new Keyring(key);
  if (saved) reportKeyringSource(logger, keyring, key);
  const persist = () => store.kvSet('security/keyring', JSON.stringify(keyring.toJSON()));
  persist();
  keyring.onChange(persist);
  return keyring;
}
