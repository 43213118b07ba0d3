// The conformance suite on the simulated network, with default (lossless, jittery) links.

import { createPrng } from '../../src/sim/prng.js';
import { SimNetwork } from '../../src/sim/network.js';
import { SimWorld } from '../../src/sim/world.js';
import { transportConformance, type TransportHarness } from './transport-conformance.js';

async function simHarness(): Promise<TransportHarness> {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng('conformance'));
  return {
    async endpoint() {
      const ip = network.addHost();
      return { packets: network.packetTransport(ip), streams: network.streamTransport(ip) };
    },
    async deadStreamAddress() {
      return `${network.addHost()}:10000`;
    },
    settle: (promise, maxMs = 30_000) => world.runUntilSettled(promise, maxMs),
    until: (predicate, maxMs = 30_000) => world.runUntilTrue(predicate, maxMs),
    async teardown() {},
  };
}

transportConformance('simulated network', simHarness);
