import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { SimNetwork, type SimNetworkOptions } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';
import type { StreamConnection } from '../../src/transport/types.js';

function setup(seed: number | string = 1, options: SimNetworkOptions = {}) {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng(seed), options);
  return { world, network };
}

/** Two hosts with packet transports; b records what it receives. */
function twoHosts(seed: number | string = 1, options: SimNetworkOptions = {}) {
  const { world, network } = setup(seed, options);
  const a = network.addHost();
  const b = network.addHost();
  const pa = network.packetTransport(a);
  const pb = network.packetTransport(b);
  const got: number[] = [];
  pb.onPacket((_from, data) => got.push(data[0]! | (data[1]! << 8)));
  const send = (i: number) => pa.send(pb.address, Uint8Array.of(i & 255, i >> 8));
  return { world, network, a, b, pa, pb, got, send };
}

describe('sim network', () => {
  it('hands out 10.0.0.N addresses', () => {
    const { network } = setup();
    expect([network.addHost(), network.addHost()]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(network.packetTransport('10.0.0.1').address).toBe('10.0.0.1:9999');
  });

  it('replays the same trace from the same seed', async () => {
    const trace = async (seed: number) => {
      const { world, network } = setup(seed, { link: { latencyMs: 1, jitterMs: 20, loss: 0.2, duplicate: 0.1 } });
      const hosts = Array.from({ length: 5 }, () => network.addHost());
      const log: string[] = [];
      const transports = hosts.map((ip) => network.packetTransport(ip));
      const rng = createPrng(seed).fork('test');
      transports.forEach((t, i) =>
        t.onPacket((from, data) => {
          log.push(`${world.now().toFixed(6)} ${from}->${i} ${data[0]}`);
          if (data[0]! < 6) transports[i]!.send(transports[rng.int(5)]!.address, Uint8Array.of(data[0]! + 1));
        }),
      );
      for (let i = 0; i < 20; i++) transports[i % 5]!.send(transports[(i + 1) % 5]!.address, Uint8Array.of(0));
      await world.runFor(10_000);
      return log;
    };
    const first = await trace(99);
    expect(first.length).toBeGreaterThan(20);
    expect(await trace(99)).toEqual(first);
    expect(await trace(100)).not.toEqual(first);
  });

  it('loses packets at the configured rate', async () => {
    const { world, network, a, b, got, send } = twoHosts(3);
    network.setLink(a, b, { loss: 0.3 });
    const n = 20_000;
    for (let i = 0; i < n; i++) send(i);
    await world.runFor(100);
    // Binomial(20000, 0.7): sd ~ 65; allow 5 sd.
    expect(Math.abs(got.length - n * 0.7)).toBeLessThan(325);
    expect(network.stats(a).packetsDropped).toBe(n - got.length);
    expect(network.stats(b).packetsReceived).toBe(got.length);
  });

  it('duplicates packets at the configured rate', async () => {
    const { world, network, a, b, got, send } = twoHosts(4);
    network.setLink(a, b, { duplicate: 0.25 });
    const n = 10_000;
    for (let i = 0; i < n; i++) send(i);
    await world.runFor(100);
    expect(Math.abs(got.length - n * 1.25)).toBeLessThan(220); // sd ~ 43
    expect(new Set(got).size).toBe(n);
  });

  it('reorders packets through jitter', async () => {
    const { world, network, a, b, got, send } = twoHosts(5);
    network.setLink(a, b, { latencyMs: 5, jitterMs: 10 });
    for (let i = 0; i < 100; i++) send(i);
    await world.runFor(100);
    expect(got).toHaveLength(100);
    expect(got).not.toEqual([...got].sort((x, y) => x - y));
  });

  it('partition blocks packets across sides and heal restores them', async () => {
    const { world, network, a, b, got, send } = twoHosts();
    const c = network.addHost();
    network.partition([[a, c], [b]]);
    expect(network.reachable(a, b)).toBe(false);
    expect(network.reachable(a, c)).toBe(true);
    send(1);
    await world.runFor(50);
    expect(got).toEqual([]);
    network.heal();
    send(2);
    await world.runFor(50);
    expect(got).toEqual([2]);
    network.isolate(b);
    send(3);
    await world.runFor(50);
    expect(got).toEqual([2]);
  });

  it('crash drops everything, restart comes back with nothing bound', async () => {
    const { world, network, b, pa, pb, got, send } = twoHosts();
    network.crash(b);
    send(1);
    await world.runFor(50);
    expect(got).toEqual([]);
    expect(() => network.packetTransport(b)).toThrow(TransportError);
    network.restart(b);
    send(2);
    await world.runFor(50);
    expect(got).toEqual([]); // the old transport died with the crash
    const fresh = network.packetTransport(b);
    const again: number[] = [];
    fresh.onPacket((_f, d) => again.push(d[0]!));
    send(3);
    await world.runFor(50);
    expect(again).toEqual([3]);
    pb.send(pa.address, Uint8Array.of(9)); // a dead transport's send is a no-op, not a throw
  });

  it('pause holds traffic both ways and timers; resume releases them', async () => {
    const { world, network, a, b, pa, pb, got, send } = twoHosts();
    const backAtA: number[] = [];
    pa.onPacket((_f, d) => backAtA.push(d[0]!));
    const timers: number[] = [];
    network.runtime(b, silentLogger).scheduler.schedule(20, () => timers.push(world.now()));
    network.pause(b);
    for (let i = 0; i < 5; i++) send(i);
    pb.send(pa.address, Uint8Array.of(42));
    await world.runFor(100);
    expect(got).toEqual([]);
    expect(backAtA).toEqual([]);
    expect(timers).toEqual([]);
    network.resume(b);
    await world.runFor(100);
    expect([...got].sort()).toEqual([0, 1, 2, 3, 4]); // jitter may reorder datagrams
    expect(backAtA).toEqual([42]);
    expect(timers).toEqual([100]);
    expect(network.stats(a).packetsSent).toBe(5);
  });

  it('timers of a crashed host never fire', async () => {
    const { world, network, b } = twoHosts();
    let fired = false;
    network.runtime(b, silentLogger).scheduler.schedule(10, () => (fired = true));
    network.crash(b);
    network.restart(b);
    await world.runFor(50);
    expect(fired).toBe(false);
  });

  describe('streams', () => {
    async function connected(options: SimNetworkOptions = {}) {
      const { world, network } = setup(7, options);
      const a = network.addHost();
      const b = network.addHost();
      const sa = network.streamTransport(a);
      const sb = network.streamTransport(b);
      let server: StreamConnection | undefined;
      sb.onConnection((conn) => (server = conn));
      const client = await world.runUntilSettled(sa.connect(sb.address), 1000);
      const events: string[] = [];
      client.onClose((err) => events.push(`client closed ${err?.name ?? 'clean'}`));
      server!.onClose((err) => events.push(`server closed ${err?.name ?? 'clean'}`));
      const received: number[] = [];
      server!.onFrame((f) => received.push(f[0]!));
      return { world, network, a, b, client, server: server!, events, received };
    }

    it('connect to an unreachable host times out with TransportError after the timeout', async () => {
      const { world, network } = setup();
      const a = network.addHost();
      const b = network.addHost();
      network.streamTransport(b);
      network.partition([[a], [b]]);
      const start = world.now();
      await expect(world.runUntilSettled(network.streamTransport(a).connect(`${b}:10000`, 3000), 10_000)).rejects.toBeInstanceOf(TransportError);
      expect(world.now() - start).toBe(3000);
    });

    it('a short partition stalls frames, heal delivers them in order', async () => {
      const { world, network, a, b, client, events, received } = await connected();
      network.partition([[a], [b]]);
      for (let i = 0; i < 10; i++) client.send(Uint8Array.of(i));
      await world.runFor(5000);
      expect(received).toEqual([]);
      network.heal();
      await world.runFor(100);
      expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(events).toEqual([]);
    });

    it('a partition that lasts breaks the stream on both ends with TransportError', async () => {
      const { world, network, a, b, events } = await connected({ streamBreakTimeoutMs: 4000 });
      network.partition([[a], [b]]);
      await world.runFor(3900);
      expect(events).toEqual([]);
      await world.runFor(200);
      expect(events.sort()).toEqual(['client closed TransportError', 'server closed TransportError']);
      expect(network.openStreams).toBe(0);
    });

    it('a crashed peer resets the stream', async () => {
      const { world, network, b, events } = await connected();
      network.crash(b);
      await world.runFor(100);
      expect(events).toEqual(['client closed TransportError']);
    });

    it('a paused peer gets its frames after resume, and the stream survives', async () => {
      const { world, network, b, client, events, received } = await connected();
      network.pause(b);
      client.send(Uint8Array.of(1));
      await world.runFor(60_000);
      expect(received).toEqual([]);
      network.resume(b);
      await world.runFor(100);
      expect(received).toEqual([1]);
      expect(events).toEqual([]);
    });

    it('a bandwidth-limited link delays each frame by its size and queues frames behind each other', async () => {
      const { world, network, a, b, client, server } = await connected();
      // 1 MB/s = 1,000 bytes per ms; no jitter, so arrival times are exact.
      network.setLink(a, b, { latencyMs: 5, jitterMs: 0, bandwidthBytesPerSec: 1e6 });
      const arrivals: Array<[number, number]> = [];
      server.onFrame((f) => arrivals.push([f.byteLength, world.now()]));
      const t0 = world.now();
      client.send(new Uint8Array(9_996)); // 10,000 bytes with the length prefix: 10 ms to send
      client.send(new Uint8Array(4_996)); // queued behind it: leaves at 15 ms
      await world.runFor(100);
      expect(arrivals).toEqual([
        [9_996, t0 + 10 + 5],
        [4_996, t0 + 15 + 5],
      ]);
      // The other direction is a separate link (still the default: no limit, 1-2 ms).
      const back: number[] = [];
      client.onFrame(() => back.push(world.now()));
      const t1 = world.now();
      server.send(new Uint8Array(9_996));
      await world.runFor(100);
      expect(back).toHaveLength(1);
      expect(back[0]! - t1).toBeLessThan(2);
      // An idle link starts fresh: no backlog carried over from the earlier frames.
      const t2 = world.now();
      client.send(new Uint8Array(996));
      await world.runFor(100);
      expect(arrivals.at(-1)).toEqual([996, t2 + 1 + 5]);
    });

    it('packets and streams share a limited link; unlimited links time as before', async () => {
      const { world, network, a, b, client } = await connected();
      network.setLink(a, b, { latencyMs: 2, jitterMs: 0, bandwidthBytesPerSec: 1e5 }); // 100 bytes per ms
      const pa = network.packetTransport(a);
      const pb = network.packetTransport(b);
      const got: number[] = [];
      pb.onPacket(() => got.push(world.now()));
      const t0 = world.now();
      client.send(new Uint8Array(996)); // 1,000 bytes: the link is busy for 10 ms
      pa.send(pb.address, new Uint8Array(100)); // 1 ms more behind it
      await world.runFor(100);
      expect(got).toEqual([t0 + 11 + 2]);
      network.setLink(a, b, { bandwidthBytesPerSec: Infinity });
      const t1 = world.now();
      pa.send(pb.address, new Uint8Array(1_400));
      await world.runFor(100);
      expect(got.at(-1)).toBe(t1 + 2);
      expect(() => network.setLink(a, b, { bandwidthBytesPerSec: 0 })).toThrow(RangeError);
    });

    it('counts frames and bytes per host', async () => {
      const { world, network, a, b, client } = await connected();
      client.send(new Uint8Array(96));
      await world.runFor(100);
      expect(network.stats(a)).toMatchObject({ framesSent: 1, streamBytesSent: 100, connectionsOpened: 1 });
      expect(network.stats(b)).toMatchObject({ framesReceived: 1, streamBytesReceived: 100, connectionsAccepted: 1 });
    });
  });
});

const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
