// The simulator's public surface, for the fuzz harness, benchmarks and tests: a virtual world,
// a seeded PRNG and a faulty in-process network that hands out the real transport interfaces.

export { SimWorld, drainMicrotasks, type SimWorldOptions } from './world.js';
export { createPrng, type Prng } from './prng.js';
export { SimNetwork, SIM_GOSSIP_PORT, SIM_STREAM_PORT, type SimNetworkOptions } from './network.js';
export { DEFAULT_LINK, type LinkConfig } from './link.js';
export type { HostStats } from './host.js';
