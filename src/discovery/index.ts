// LAN discovery by UDP broadcast (DESIGN.md "Membership: Discovery"): what `tri node start
// --discover` and startNode use. A node runs a DiscoveryResponder for as long as it lives and
// calls discover() once at start-up (DISCOVERING) to find join seeds.
export { DISCOVERY_PORT } from './constants.js';
export { DiscoveryResponder, type DiscoveryResponderOptions, type DiscoveryResponderStats } from './responder.js';
export { discover, discoverPeers, type DiscoverOptions } from './discover.js';
export type { DiscoveredPeer } from './session.js';
export { createDiscoveryCrypto, type DiscoverySecurity } from './envelope.js';
export type { Advertisement, ResponderDropReason } from './request-handler.js';
export { DEFAULT_RATE_LIMIT, type RateLimitConfig, type BucketConfig } from './rate-limit.js';
export { broadcastAddressesFor, isLoopback, LIMITED_BROADCAST } from './broadcast-addresses.js';
export type { DiscoverySocket } from './discovery-socket.js';
