// The netns test harness: real network partitions between real processes (root, Linux only).
export { canUseNetns, type NetnsSupport } from './can-use-netns.js';
export { createLan, Lan, type PartitionMethod, type PartitionOptions } from './lan.js';
export { LAN_BROADCAST, hostAddress, type Host } from './host.js';
export type { LossDirection } from './firewall.js';
export type { CommandResult, RunOptions } from './run-command.js';
export { listNamespaces, sweepStale } from './sweep.js';
export { pollUntil, sendUdp, startUdpEcho, startUdpListener, udpPing, waitForLine, type UdpListener } from './udp-probes.js';
