// RpcEndpoint.onConnectionLost: the failure detector's probe hint. A peer whose process dies
// (the simulator resets its streams, as a kernel does for a killed process) is reported once per
// broken connection, by the address we dialled or, for an accepted connection, by its source;
// an endpoint that closes itself reports nothing.
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { SimNetwork } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';

it('reports connections broken by a crashed peer, in both directions, and none after its own close', async () => {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng('rpc-connection-lost'));
  const endpoint = (ip: string): RpcEndpoint => new RpcEndpoint(network.streamTransport(ip, 10000), network.runtime(ip, silentLogger()), { secure: false });
  const [a, b, c] = [network.addHost(), network.addHost(), network.addHost()];
  const ea = endpoint(a);
  const eb = endpoint(b);
  const ec = endpoint(c);
  for (const e of [ea, eb, ec]) e.handle('echo', 'member', (p) => p);
  const lost: string[] = [];
  ea.onConnectionLost((remote, outgoing) => lost.push(`${outgoing ? 'dialled' : 'accepted'} ${remote}`));
  // a dials b; b dials a (a accepts it); a dials c.
  await world.runUntilSettled(Promise.all([ea.call(`${b}:10000`, 'echo', Uint8Array.of(1), 5000), eb.call(`${a}:10000`, 'echo', Uint8Array.of(2), 5000), ea.call(`${c}:10000`, 'echo', Uint8Array.of(3), 5000)]), 10_000);
  expect(lost).toEqual([]);

  network.crash(b);
  await world.runFor(1000);
  expect(lost).toHaveLength(2);
  expect(lost).toContain(`dialled ${b}:10000`);
  expect(lost.filter((l) => l.startsWith(`accepted ${b}:`) && l !== `accepted ${b}:10000`)).toHaveLength(1); // its ephemeral port

  lost.length = 0;
  await ea.close(); // our own close: not evidence against c
  await world.runFor(1000);
  expect(lost).toEqual([]);
  await ec.close();
});
