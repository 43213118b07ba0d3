// RpcEndpoint.reset: the node gives up its connection to a member it declared dead. A call
// waiting on that connection fails at once (not at its timeout), the next call dials afresh, and
// the old connection's late close does not break the new one.
import { expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { silentLogger } from '../../src/node/logger.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { SimNetwork } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';

it('fails calls on the given-up connection at once and dials a new one for the next call', async () => {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng('rpc-reset'));
  const endpoint = (ip: string): RpcEndpoint => new RpcEndpoint(network.streamTransport(ip, 10000), network.runtime(ip, silentLogger()), { secure: false });
  const [a, b] = [network.addHost(), network.addHost()];
  const ea = endpoint(a);
  const eb = endpoint(b);
  eb.handle('echo', 'member', (p) => p);
  const to = `${b}:10000`;
  await world.runUntilSettled(ea.call(to, 'echo', Uint8Array.of(1), 5000), 10_000);

  network.partition([[a], [b]]);
  const waiting = ea.call(to, 'echo', Uint8Array.of(2), 60_000).then(
    () => 'answered',
    (err: Error) => err,
  );
  await world.runFor(500);
  const t0 = world.now();
  ea.reset(to);
  const outcome = await world.runUntilSettled(waiting, 5_000);
  expect(outcome).toBeInstanceOf(TransportError);
  expect((outcome as Error).message).toMatch(/given up/);
  expect(world.now() - t0).toBeLessThan(1_000);

  network.heal();
  const reply = await world.runUntilSettled(ea.call(to, 'echo', Uint8Array.of(3), 5000), 10_000);
  expect([...reply]).toEqual([3]);
  // The old connection's close, past its grace period, does not break the new one.
  await world.runFor(5_000);
  const again = await world.runUntilSettled(ea.call(to, 'echo', Uint8Array.of(4), 5000), 10_000);
  expect([...again]).toEqual([4]);
  ea.reset('10.9.9.9:1'); // nothing to give up: no effect
  await ea.close();
  await eb.close();
});

/**
 * Two endpoints already cut apart, with a 20 s connect timeout. The simulated SYN sent into a
 * partition is lost and never retransmitted: only the timeout ends such a connect.
 */
function partitionedPair(seed: string): { world: SimWorld; network: SimNetwork; ea: RpcEndpoint; eb: RpcEndpoint; to: string } {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng(seed), { connectTimeoutMs: 20_000 });
  const endpoint = (ip: string): RpcEndpoint => new RpcEndpoint(network.streamTransport(ip, 10000), network.runtime(ip, silentLogger()), { secure: false, connectTimeoutMs: 20_000 });
  const [a, b] = [network.addHost(), network.addHost()];
  const ea = endpoint(a);
  const eb = endpoint(b);
  eb.handle('echo', 'member', (p) => p);
  network.partition([[a], [b]]);
  return { world, network, ea, eb, to: `${b}:10000` };
}

it('redial: a call waiting on a connect begun during a partition is carried by a new dial once the peer is back', async () => {
  const { world, network, ea, eb, to } = partitionedPair('rpc-redial');
  const waiting = ea.call(to, 'echo', Uint8Array.of(7), 60_000).then(
    (r) => [...r],
    (err: Error) => err,
  );
  const notified = ea.notify(to, 'nothing', Uint8Array.of(1)).then(() => 'sent');
  await world.runFor(1_000);
  network.heal();
  // Without a redial nothing happens until the first connect's timeout (20 s).
  await world.runFor(1_000);
  const t0 = world.now();
  ea.redial(to);
  expect(await world.runUntilSettled(waiting, 5_000)).toEqual([7]);
  expect(await world.runUntilSettled(notified, 5_000)).toBe('sent');
  expect(world.now() - t0).toBeLessThan(1_000);
  // The abandoned first attempt times out later without breaking the connection that won.
  await world.runFor(25_000);
  const again = await world.runUntilSettled(ea.call(to, 'echo', Uint8Array.of(8), 5000), 10_000);
  expect([...again]).toEqual([8]);
  ea.redial(to); // connected already: nothing to do
  await ea.close();
  await eb.close();
});

it('reset while still connecting fails what waits at once, and a connect that completes later is not used', async () => {
  const { world, network, ea, eb, to } = partitionedPair('rpc-reset-dialing');
  const waiting = ea.call(to, 'echo', Uint8Array.of(1), 60_000).then(
    () => 'answered',
    (err: Error) => err,
  );
  ea.redial(to); // a second attempt into the partition
  await world.runFor(500);
  const t0 = world.now();
  ea.reset(to);
  const outcome = await world.runUntilSettled(waiting, 5_000);
  expect(outcome).toBeInstanceOf(TransportError);
  expect(world.now() - t0).toBeLessThan(1_000);
  network.heal();
  const reply = await world.runUntilSettled(ea.call(to, 'echo', Uint8Array.of(2), 5000), 10_000);
  expect([...reply]).toEqual([2]);
  await ea.close();
  await eb.close();
});
