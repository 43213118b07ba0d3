// SWIM tuning profiles. The numbers are hashicorp/memberlist's DefaultLANConfig,
// DefaultLocalConfig and DefaultWANConfig, so a cluster behaves like serf out of the box and the
// maths table tests (memberlist's own vectors) describe what we actually run. Two additions are
// ours: the packet budget (encryption framing must still fit one Ethernet frame) and how long
// dead/left members stay visible before they are reaped (serf's 24 h).

import { ConfigError } from '../errors/index.js';

export type ProfileName = 'lan' | 'local' | 'wan';

export interface SwimConfig {
  /** Time between two failure-detection probes, before awareness stretches it. */
  probeIntervalMs: number;
  /** How long we wait for a direct ack before asking for indirect probes. */
  probeTimeoutMs: number;
  /** How many members we ask to probe on our behalf (ping-req) when the direct ping fails. */
  indirectChecks: number;
  /** Each broadcast is piggybacked about retransmitMult * ceil(log10(N+1)) times. */
  retransmitMult: number;
  /** Minimum suspicion timeout is suspicionMult * max(1, log10(N)) * probeInterval. */
  suspicionMult: number;
  /** Maximum suspicion timeout (no confirmations) is this multiple of the minimum. */
  suspicionMaxTimeoutMult: number;
  /**
   * Optional, ours: the multiplier for the *minimum* (fully confirmed) suspicion timeout only,
   * leaving the maximum at suspicionMaxTimeoutMult * suspicionMult * log(N) * interval. Unset
   * means suspicionMult, exactly memberlist. A lower value (2) speeds up detection once k members
   * independently confirmed the failure, at the price of less tolerance for a node that pauses
   * (GC, VM steal) longer than the shorter floor.
   */
  suspicionMinMult?: number;
  /** How often we piggyback pending broadcasts to random members outside of probes. */
  gossipIntervalMs: number;
  /** How many random members each gossip round goes to. */
  gossipNodes: number;
  /** Dead members keep receiving gossip this long, so a falsely-declared node learns it must refute. */
  gossipToTheDeadMs: number;
  /** Full-state TCP exchange with one random member, to heal whatever gossip missed. */
  pushPullIntervalMs: number;
  /** Upper bound of the local health multiplier (Lifeguard self-awareness). */
  awarenessMaxMultiplier: number;
  /** Time the driver allows a push-pull stream (connect + exchange). */
  tcpTimeoutMs: number;
  /** Largest UDP payload we hand to the transport; compound packets are packed to fit. */
  maxPacketBytes: number;
  /** Dead and left members stay listed (with their state) this long, then are removed. */
  reapAfterMs: number;
  /**
   * Optional, ours: probe a member at once when our stream connection to it breaks (the driver
   * calls Swim.hintUnreachable). Unset means true. A killed process's kernel closes its sockets
   * straight away, so its peers can start the probe that will suspect it without waiting for the
   * round-robin; a crashed host or a cut cable gives no such signal and takes the normal path.
   */
  probeOnConnectionLoss?: boolean;
}

const LAN: SwimConfig = {
  probeIntervalMs: 1000, // failure check every second
  probeTimeoutMs: 500, // a reasonable LAN round trip, with headroom for a busy peer
  indirectChecks: 3, // three relays: one lossy path rarely condemns a healthy node
  retransmitMult: 4, // 4 * log(N+1) transmits per broadcast
  suspicionMult: 4, // minimum suspicion 4 * log(N) * probe interval
  suspicionMaxTimeoutMult: 6, // unconfirmed suspicions last 6x the minimum
  // Ours, not memberlist's: once k members have independently confirmed a failure (each after its
  // own direct and indirect probes failed), the timer may fall to 2x instead of 4x. An unconfirmed
  // suspicion still waits memberlist's full maximum, so a single lossy path condemns no one; the
  // price is less tolerance for a node frozen over ~3 s (it refutes and rejoins). Detection is then
  // the first failed probe plus this floor (2 * log10 N s: 2 s at 5 nodes, 3 s at 32). The first
  // failed probe takes one period once the probe starts; it starts at once when the survivors'
  // TCP connections to a killed process break (probeOnConnectionLoss), else when the round-robin
  // reaches it (SWIM's e/(e-1) periods on average, ~2.4 s measured at 32 processes). Measured on
  // real processes with the hint: ~3.0 s at 5 and ~4.2 s at 32 (bench/membership); in the
  // simulator a 4 s pause at 32 nodes is still refuted in time and a 5 s one is not
  // (test/unit/sim-detection.test.ts). suspicionMinMult 1.5 would cut the floor to ~2.3 s at 32
  // with ~3 s of pause tolerance.
  suspicionMinMult: 2,
  gossipIntervalMs: 200, // gossip faster than we probe so news outruns detection
  gossipNodes: 3, // fan-out per gossip round
  gossipToTheDeadMs: 30_000, // same as the push-pull interval
  pushPullIntervalMs: 30_000, // full state sync is costly, so it is rare
  awarenessMaxMultiplier: 8, // a sick node backs its probe interval off to at most 8 s
  tcpTimeoutMs: 10_000, // memberlist's TCPTimeout
  maxPacketBytes: 1336, // leaves 64 bytes under 1,400 for nonce, tag, label and framing
  reapAfterMs: 24 * 60 * 60 * 1000, // serf keeps failed/left members for 24 h
};

/** Loopback: same shape as LAN but quicker to time out and less redundant. */
const LOCAL: SwimConfig = {
  ...LAN,
  tcpTimeoutMs: 1000,
  indirectChecks: 1, // loopback does not lose packets, one relay is enough
  retransmitMult: 2,
  suspicionMult: 3,
  pushPullIntervalMs: 15_000,
  probeTimeoutMs: 200,
  probeIntervalMs: 1000,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
};

/** WAN: long round trips and more loss, so everything is slower and more patient. */
const WAN: SwimConfig = {
  ...LAN,
  tcpTimeoutMs: 30_000,
  suspicionMult: 6,
  suspicionMinMult: undefined, // WAN keeps memberlist's floor: long pauses and lossy links are normal there
  pushPullIntervalMs: 60_000,
  probeTimeoutMs: 3000,
  probeIntervalMs: 5000,
  gossipNodes: 4, // gossip less often but to one more member
  gossipIntervalMs: 500,
  gossipToTheDeadMs: 60_000,
};

const PROFILES: Record<ProfileName, SwimConfig> = { lan: LAN, local: LOCAL, wan: WAN };

/** A fresh copy of a profile with optional overrides, validated. */
export function profile(name: ProfileName, overrides: Partial<SwimConfig> = {}): SwimConfig {
  const base = PROFILES[name];
  if (!base) throw new ConfigError(`unknown gossip profile "${String(name)}": use lan, local or wan`);
  const cfg = { ...base, ...overrides };
  validateConfig(cfg);
  return cfg;
}

/** Throws ConfigError naming the first field that cannot work. */
export function validateConfig(cfg: SwimConfig): void {
  type Required = Exclude<keyof SwimConfig, 'suspicionMinMult' | 'probeOnConnectionLoss'>;
  const positive: Required[] = [
    'probeIntervalMs', 'probeTimeoutMs', 'gossipIntervalMs', 'pushPullIntervalMs', 'tcpTimeoutMs', 'reapAfterMs',
  ];
  for (const key of positive) {
    if (!(cfg[key] > 0)) throw new ConfigError(`gossip config ${key} must be > 0, got ${cfg[key]}`);
  }
  const counts: Required[] = [
    'indirectChecks', 'retransmitMult', 'suspicionMult', 'suspicionMaxTimeoutMult', 'gossipNodes', 'awarenessMaxMultiplier',
  ];
  for (const key of counts) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new ConfigError(`gossip config ${key} must be an integer >= 1, got ${cfg[key]}`);
  }
  // A fraction is fine here (the timeout is rounded to whole ms): it only scales the floor.
  if (cfg.suspicionMinMult !== undefined && !(cfg.suspicionMinMult >= 1 && cfg.suspicionMinMult <= cfg.suspicionMult)) {
    throw new ConfigError(`gossip config suspicionMinMult must be a number from 1 to suspicionMult (${cfg.suspicionMult}), got ${cfg.suspicionMinMult}`);
  }
  if (cfg.probeTimeoutMs >= cfg.probeIntervalMs) {
    throw new ConfigError(`gossip config probeTimeoutMs (${cfg.probeTimeoutMs}) must be below probeIntervalMs (${cfg.probeIntervalMs}) to leave time for indirect probes`);
  }
  if (!Number.isInteger(cfg.maxPacketBytes) || cfg.maxPacketBytes < 1100 || cfg.maxPacketBytes > 65_000) {
    throw new ConfigError(`gossip config maxPacketBytes must be an integer from 1100 (an alive message with 512 bytes of meta must fit) to 65000, got ${cfg.maxPacketBytes}`);
  }
}
