// Scale check for DESIGN.md's "1,000 nodes must be practical": 1,000 simulated hosts run a
// SWIM-shaped load for 60 virtual seconds (a probe per node per second with an ack and a timeout
// timer, 5% loss, and a push-pull exchange over a stream every 10 s written with async/await).
// Wall time is printed; the only assertion is the design's bound of a minute.

import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';
import type { Logger } from '../../src/runtime/types.js';
import type { StreamConnection } from '../../src/transport/types.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function nextFrame(conn: StreamConnection): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    conn.onFrame(resolve);
    conn.onClose((err) => reject(err ?? new Error('closed')));
  });
}

/**
 * Runs the load on `nodes` hosts for `seconds` of virtual time. Returns counters, wall time and a
 * trace hash over every ack and push-pull completion (time, node), for replay checks.
 */
async function runLoad(nodes: number, seconds: number, seed: string) {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng(seed), { link: { latencyMs: 1, jitterMs: 4, loss: 0.05 } });
  const ips = Array.from({ length: nodes }, () => network.addHost());
  let acks = 0;
  let timeouts = 0;
  let pushPulls = 0;
  let trace = 0;
  const note = (what: number, node: number): void => {
    trace = (Math.imul(trace ^ what, 16777619) + Math.floor(world.now() * 1e6) + node) | 0;
  };
  ips.forEach((ip, index) => {
    const rt = network.runtime(ip, silent);
    const packets = network.packetTransport(ip);
    const streams = network.streamTransport(ip);
    const waiting = new Map<number, () => void>();
    let seq = 0;
    packets.onPacket((from, data) => {
      if (data[0] === 0) packets.send(from, Uint8Array.of(1, data[1]!, data[2]!));
      else waiting.get(data[1]! | (data[2]! << 8))?.();
    });
    streams.onConnection((conn) => {
      conn.onFrame((frame) => {
        conn.send(frame.subarray(0, 200));
        conn.close();
      });
    });
    const probe = (): void => {
      const target = ips[Math.floor(rt.rng.next() * nodes)]!;
      const id = seq++ & 0xffff;
      const cancel = rt.scheduler.schedule(500, () => {
        waiting.delete(id);
        timeouts++;
      });
      waiting.set(id, () => {
        cancel();
        waiting.delete(id);
        acks++;
        note(1, index);
      });
      packets.send(`${target}:9999`, Uint8Array.of(0, id & 255, id >> 8));
      rt.scheduler.schedule(1000, probe);
    };
    const pushPull = async (): Promise<void> => {
      rt.scheduler.schedule(10_000, () => void pushPull());
      const target = ips[Math.floor(rt.rng.next() * nodes)]!;
      try {
        const conn = await streams.connect(`${target}:10000`);
        const reply = nextFrame(conn);
        conn.send(new Uint8Array(1000));
        await reply;
        pushPulls++;
        note(2, index);
      } catch {
        /* a lost exchange is part of the load */
      }
    };
    rt.scheduler.schedule(rt.rng.next() * 1000, probe);
    rt.scheduler.schedule(rt.rng.next() * 10_000, () => void pushPull());
  });
  const start = performance.now();
  await world.runFor(seconds * 1000);
  const wallMs = performance.now() - start;
  return { acks, timeouts, pushPulls, trace, wallMs, events: world.eventsRun, packets: network.totals().packetsSent };
}

describe('sim scale', () => {
  it('replays the same async (await-based) run from the same seed', async () => {
    const first = await runLoad(50, 30, 'replay');
    const second = await runLoad(50, 30, 'replay');
    const other = await runLoad(50, 30, 'other');
    const { wallMs: _a, ...firstResult } = first;
    const { wallMs: _b, ...secondResult } = second;
    expect(secondResult).toEqual(firstResult);
    expect(other.trace).not.toBe(first.trace);
  });

  it('1,000 nodes for 60 virtual seconds (printed; must stay under a minute)', async () => {
    const nodes = 1000;
    const r = await runLoad(nodes, 60, 'scale');
    console.log(
      `sim scale: ${nodes} nodes x 60 virtual s in ${(r.wallMs / 1000).toFixed(2)} s wall, ${r.events} events ` +
        `(${((r.events / r.wallMs) * 1000 / 1e6).toFixed(2)} M/s); packets ${r.packets}, acks ${r.acks}, ` +
        `timeouts ${r.timeouts}, push-pulls ${r.pushPulls}`,
    );
    expect(r.acks).toBeGreaterThan(nodes * 50);
    expect(r.pushPulls).toBeGreaterThan(nodes * 4);
    expect(r.wallMs).toBeLessThan(60_000);
  });
});
