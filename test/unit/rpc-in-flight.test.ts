// The in-flight request limit is per peer (its identity at its host), not per connection: a peer
// that opens another connection does not get another allowance (issue 3, "Limits").
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { SimNetwork } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';

it('a peer gets the same allowance however many connections it opens; other peers are not held back', async () => {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng('rpc-in-flight'));
  const endpoint = (ip: string, port: number, max?: number): RpcEndpoint =>
    new RpcEndpoint(network.streamTransport(ip, port), network.runtime(ip, silentLogger()), { secure: false, ...(max ? { maxInFlightPerPeer: max } : {}) });
  const serverIp = network.addHost();
  const server = endpoint(serverIp, 10000, 2);
  const releases: Array<() => void> = [];
  server.handle('slow', 'member', () => new Promise<Uint8Array>((resolve) => releases.push(() => resolve(new Uint8Array([1])))));
  const peerIp = network.addHost();
  const first = endpoint(peerIp, 20001);
  const second = endpoint(peerIp, 20002); // the same peer (host) on a second connection
  const other = endpoint(network.addHost(), 20001);
  const to = `${serverIp}:10000`;
  const held = [first.call(to, 'slow', new Uint8Array(0), 60_000), first.call(to, 'slow', new Uint8Array(0), 60_000)];
  await world.runUntilTrue(() => releases.length === 2, 10_000);
  const refused = await world.runUntilSettled(second.call(to, 'slow', new Uint8Array(0), 60_000).then(() => 'answered', (e: Error) => e.message), 10_000);
  expect(refused).toMatch(/too many requests in flight from this peer/);
  const fromOther = other.call(to, 'slow', new Uint8Array(0), 60_000);
  expect(await world.runUntilTrue(() => releases.length === 3, 10_000)).toBe(true);
  for (const r of releases) r();
  const answers = await world.runUntilSettled(Promise.all([...held, fromOther]), 10_000);
  expect(answers.map((a) => a[0])).toEqual([1, 1, 1]);
  // Once answered, the peer's allowance is back.
  const again = second.call(to, 'slow', new Uint8Array(0), 60_000);
  expect(await world.runUntilTrue(() => releases.length === 4, 10_000)).toBe(true);
  releases[3]!();
  expect((await world.runUntilSettled(again, 10_000))[0]).toBe(1);
  expect(server.stats.refused).toBe(1);
});
