// A node on an older binary does not know the seed's name-clash refusal and retries its join for
// ever; the seed refuses every attempt (nothing merges) but logs it at error level at most once a
// minute per refused sender, so the retries cannot flood the operator's log.
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { encodePushPull } from '../../gossip/push-pull.js';
import { Swim } from '../../gossip/swim.js';
import { NameConflictError } from '../../src/errors.js';
import { SwimDriver } from '../../src/node/swim-driver.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { METHODS } from '../../src/rpc/methods.js';
import type { Logger } from '../../src/runtime/types.js';
import { SimNetwork, SIM_GOSSIP_PORT } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const identity = (meta: Uint8Array) => (meta.length ? new TextDecoder().decode(meta) : undefined);

function recordingLogger(errors: string[]): Logger {
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_obj, msg) => void errors.push(msg ?? ''),
    child: () => log,
  };
  return log;
}

describe('seed refusing a namesake on an older binary', () => {
  it('refuses every retry, merges nothing, and logs at most once a minute per sender', async () => {
    const world = new SimWorld();
    const prng = createPrng('name-clash-log');
    const net = new SimNetwork(world, prng, {});
    const seedIp = net.addHost();
    const impostorIp = net.addHost();
    const errors: string[] = [];
    const seedRuntime = { ...net.runtime(seedIp, recordingLogger(errors)), rng: prng.fork('seed') };
    const packets = net.packetTransport(seedIp, SIM_GOSSIP_PORT);
    const swim = new Swim({ name: 'seed', address: packets.address, meta: bytes('id-seed'), config: profile('lan'), random: () => seedRuntime.rng.next(), now: 0, identity });
    const seedRpc = new RpcEndpoint(net.streamTransport(seedIp, SIM_GOSSIP_PORT), seedRuntime, { secure: false });
    const driver = new SwimDriver(swim, packets, seedRpc, seedRuntime, () => undefined, 1_000);
    driver.start();

    // The real n1: a live member that answers probes for the whole run.
    const realIp = net.addHost();
    const realRuntime = { ...net.runtime(realIp, recordingLogger([])), rng: prng.fork('real') };
    const realPackets = net.packetTransport(realIp, SIM_GOSSIP_PORT);
    const realSwim = new Swim({ name: 'n1', address: realPackets.address, meta: bytes('id-real'), config: profile('lan'), random: () => realRuntime.rng.next(), now: 0, identity });
    const real = new SwimDriver(realSwim, realPackets, new RpcEndpoint(net.streamTransport(realIp, SIM_GOSSIP_PORT), realRuntime, { secure: false }), realRuntime, () => undefined, 1_000);
    real.start();
    const joined = real.pushPull(`${seedIp}:${SIM_GOSSIP_PORT}`, true);
    await world.runUntilSettled(joined, 5_000);
    expect(await joined).toBe(true);

    // The old binary: it only knows a push-pull failed, so it asks again every 5 s.
    const oldRuntime = { ...net.runtime(impostorIp, recordingLogger([])), rng: prng.fork('old') };
    const oldRpc = new RpcEndpoint(net.streamTransport(impostorIp, SIM_GOSSIP_PORT), oldRuntime, { secure: false });
    const ask = encodePushPull({ join: true, members: [{ name: 'n1', address: `${impostorIp}:${SIM_GOSSIP_PORT}`, meta: bytes('id-impostor'), incarnation: 1, state: 'alive' }] });
    const refusals: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const reply = oldRpc.call(`${seedIp}:${SIM_GOSSIP_PORT}`, METHODS.swimPushPull, ask, 1_000).then(
        () => 'merged',
        (err: unknown) => err,
      );
      await world.runUntilSettled(reply, 2_000);
      refusals.push(await reply);
      await world.runFor(5_000);
    }
    // 30 attempts over 150 virtual seconds: every one refused, three error lines (t = 0, 60 s, 120 s).
    expect(refusals.every((r) => r instanceof NameConflictError)).toBe(true);
    expect(errors.filter((m) => m.includes('refused the node at'))).toHaveLength(3);
    expect(swim.members().find((m) => m.name === 'n1')?.address).toBe(realPackets.address);
    expect(swim.members().some((m) => m.address === `${impostorIp}:${SIM_GOSSIP_PORT}`)).toBe(false);
    real.stop();
    driver.stop();
  });
});
