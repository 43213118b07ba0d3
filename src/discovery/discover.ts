// The discovering side: broadcast a few sealed requests with growing gaps, collect the replies
// that DiscoverySession accepts until the time is up, and return the distinct gossip addresses.
// Bounded by construction: `attempts` sends to each broadcast address, one timer for the end.
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../errors.js';
import type { Cancel, Clock, Logger, Scheduler } from '../runtime/types.js';
import type { Address } from '../transport/types.js';
import { broadcastAddressesFor, isLoopback } from './broadcast-addresses.js';
import { DISCOVERY_PORT } from './constants.js';
import { openBroadcastSocket, type DiscoverySocket } from './discovery-socket.js';
import { createEnvelope, type DiscoverySecurity } from './envelope.js';
import { DiscoverySession, type DiscoveredPeer } from './session.js';

export type DiscoverOptions = DiscoverySecurity & {
  /** The IPv4 address this node binds; requests leave from it and replies come back to it. */
  bindHost: string;
  /** Port responders listen on (default 9999). */
  port?: number;
  /** Default: the directed broadcast of bindHost's interface, plus 255.255.255.255. */
  broadcastAddresses?: readonly string[];
  /** Total time to collect replies, ms (default 2,000; 1..60,000). */
  timeoutMs?: number;
  /** Requests sent to each broadcast address (default 3; 1..10): UDP loses packets. */
  attempts?: number;
  /** This node's own gossip address(es): its own responder answers too, and is left out. */
  self?: readonly Address[];
  /** Called once per newly found peer, as replies arrive. */
  onPeer?: (peer: DiscoveredPeer) => void;
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: Logger;
  /** Socket factory (tests); default a real UDP socket with SO_BROADCAST. */
  openSocket?: (bindHost: string) => Promise<DiscoverySocket>;
};

const realClock: Clock = { now: () => performance.now() };
const realScheduler: Scheduler = {
  schedule(delayMs, fn): Cancel {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(t);
  },
};

/** Broadcasts discovery requests and resolves with the distinct gossip addresses that answered. */
export async function discover(opts: DiscoverOptions): Promise<Address[]> {
  return (await discoverPeers(opts)).map((p) => p.address);
}

/** As `discover`, with each peer's name, RPC port and the address it answered from. */
export async function discoverPeers(opts: DiscoverOptions): Promise<DiscoveredPeer[]> {
  const timeoutMs = bounded(opts.timeoutMs ?? 2_000, 1, 60_000, 'timeoutMs');
  const attempts = bounded(opts.attempts ?? 3, 1, 10, 'attempts');
  const port = bounded(opts.port ?? DISCOVERY_PORT, 1, 65_535, 'port');
  const scheduler = opts.scheduler ?? realScheduler;
  const logger = opts.logger;
  // Validate the security choice even on the early-return paths, so a misconfiguration is found.
  const envelope = createEnvelope(opts, opts.clock ?? realClock);

  if (isLoopback(opts.bindHost)) {
    logger?.info({ bindHost: opts.bindHost }, 'discovery skipped: loopback cannot broadcast; use --join HOST:PORT');
    return [];
  }
  if (opts.bindHost.includes(':')) {
    logger?.warn({ bindHost: opts.bindHost }, 'discovery skipped: IPv6 has no broadcast; use --join HOST:PORT');
    return [];
  }
  const targets = opts.broadcastAddresses ?? broadcastAddressesFor(opts.bindHost);
  if (targets.length === 0) return [];

  const session = new DiscoverySession(envelope, opts.self ?? []);
  const open = opts.openSocket ?? ((host: string) => openBroadcastSocket(host, logger));
  const socket = await open(opts.bindHost);
  const dropped: Record<string, number> = {};
  socket.onMessage((data, sourceHost) => {
    const verdict = session.receive(sourceHost, data);
    if (!verdict.accepted) {
      dropped[verdict.reason] = (dropped[verdict.reason] ?? 0) + 1;
      return;
    }
    if (verdict.isNew) {
      logger?.info({ peer: verdict.peer }, 'discovered a peer');
      try {
        opts.onPeer?.(verdict.peer);
      } catch (err) {
        logger?.warn({ err }, 'discovery onPeer callback threw');
      }
    }
  });

  const sendAll = (): void => {
    // One sealed request per attempt, the same bytes to every target: a responder reached by both
    // the directed and the limited broadcast then answers once and drops the copy as a replay.
    const request = session.request();
    for (const target of targets) socket.send(request, port, target);
  };
  // Sends at 0, g, 3g, 7g, ... with g = timeoutMs / 2^attempts: backing off doubles each gap, and
  // the last send is before timeoutMs / 2, leaving at least half the time for its replies.
  const gap = timeoutMs / 2 ** attempts;
  const timers: Cancel[] = [];
  for (let i = 1; i < attempts; i++) timers.push(scheduler.schedule(gap * (2 ** i - 1), sendAll));
  sendAll();
  await new Promise<void>((resolve) => timers.push(scheduler.schedule(timeoutMs, resolve)));
  for (const cancel of timers) cancel();
  await socket.close();

  const peers = session.peers();
  logger?.debug({ found: peers.length, dropped, targets }, 'discovery finished');
  return peers;
}

function bounded(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`discovery ${what} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
