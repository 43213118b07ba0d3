// One conformance suite for both transport implementations (DESIGN.md "One transport interface,
// two implementations"): whatever the real UDP/TCP transports guarantee, the simulated network
// must guarantee too, or simulated runs would prove things about a different system.
//
// A harness hides how time passes: real transports wait on real sockets, the simulator must be
// driven (its clock only moves when the world runs), so every wait goes through the harness.

import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { OversizeError, TransportError } from '../../src/errors.js';
import { parseAddress } from '../../src/transport/address.js';
import { MAX_FRAME_BYTES, MAX_PACKET_BYTES, type Address, type PacketTransport, type StreamConnection, type StreamTransport } from '../../src/transport/types.js';

export interface TransportEndpoint {
  packets: PacketTransport;
  streams: StreamTransport;
}

export interface TransportHarness {
  /** A new host with a bound packet transport and a listening stream transport. */
  endpoint(): Promise<TransportEndpoint>;
  /** A stream address on which nothing listens. */
  deadStreamAddress(): Promise<Address>;
  /** Waits for `promise`, letting this world's time run; fails after `maxMs` of its time. */
  settle<T>(promise: Promise<T>, maxMs?: number): Promise<T>;
  /** Lets time run until `predicate` holds or `maxMs` pass; returns whether it held. */
  until(predicate: () => boolean, maxMs?: number): Promise<boolean>;
  teardown(): Promise<void>;
}

/** Deterministic test bytes, so a failure shows the same data every run. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Collects frames and the close outcome of a connection. */
function record(conn: StreamConnection): { frames: Uint8Array[]; closed: boolean; closeError: Error | undefined } {
  const log = { frames: [] as Uint8Array[], closed: false, closeError: undefined as Error | undefined };
  conn.onFrame((f) => log.frames.push(f));
  conn.onClose((err) => {
    log.closed = true;
    log.closeError = err;
  });
  return log;
}

export function transportConformance(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`transport conformance: ${name}`, () => {
    let h: TransportHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.teardown();
    });

    /** Connects a to b and returns both ends, the accepted end recorded. */
    async function pair(a: TransportEndpoint, b: TransportEndpoint) {
      let accepted: StreamConnection | undefined;
      b.streams.onConnection((conn) => {
        accepted = conn;
      });
      const client = await h.settle(a.streams.connect(b.streams.address));
      expect(await h.until(() => accepted !== undefined)).toBe(true);
      return { client, server: accepted! };
    }

    it('delivers a packet with the real source address', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const got: Array<{ from: Address; data: Uint8Array }> = [];
      b.packets.onPacket((from, data) => got.push({ from, data: data.slice() }));
      const payload = bytes(300, 1);
      a.packets.send(b.packets.address, payload);
      expect(await h.until(() => got.length > 0)).toBe(true);
      expect(got[0]!.from).toBe(a.packets.address);
      expect(got[0]!.data).toEqual(payload);
    });

    it('accepts a packet of exactly the limit and refuses a larger one with OversizeError', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const got: Uint8Array[] = [];
      b.packets.onPacket((_from, data) => got.push(data.slice()));
      expect(() => a.packets.send(b.packets.address, new Uint8Array(MAX_PACKET_BYTES + 1))).toThrow(OversizeError);
      a.packets.send(b.packets.address, bytes(MAX_PACKET_BYTES, 2));
      expect(await h.until(() => got.length > 0)).toBe(true);
      expect(got[0]!.byteLength).toBe(MAX_PACKET_BYTES);
    });

    it('a packet to nobody is silently lost', async () => {
      const a = await h.endpoint();
      const dead = await h.deadStreamAddress();
      expect(() => a.packets.send(dead, bytes(10, 3))).not.toThrow();
    });

    it('connects, and delivers many frames in order in both directions', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const { client, server } = await pair(a, b);
      expect(parseAddress(server.remote).host).toBe(parseAddress(a.streams.address).host);
      expect(client.remote).toBe(b.streams.address);
      const atServer = record(server);
      const atClient = record(client);
      const count = 500;
      for (let i = 0; i < count; i++) client.send(bytes(1 + (i % 97) * 13, i));
      for (let i = 0; i < count; i++) server.send(bytes(1 + (i % 89) * 7, 10_000 + i));
      expect(await h.until(() => atServer.frames.length === count && atClient.frames.length === count)).toBe(true);
      // Compare as Buffers: deep-equality on 1,000 typed arrays is needlessly slow.
      const wrongAtServer = atServer.frames.findIndex((f, i) => !Buffer.from(f).equals(Buffer.from(bytes(1 + (i % 97) * 13, i))));
      const wrongAtClient = atClient.frames.findIndex((f, i) => !Buffer.from(f).equals(Buffer.from(bytes(1 + (i % 89) * 7, 10_000 + i))));
      expect({ wrongAtServer, wrongAtClient }).toEqual({ wrongAtServer: -1, wrongAtClient: -1 });
      client.close();
    });

    it('delivers an empty frame and a frame of exactly MAX_FRAME_BYTES intact', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const { client, server } = await pair(a, b);
      const atServer = record(server);
      const big = bytes(MAX_FRAME_BYTES, 7);
      client.send(new Uint8Array(0));
      client.send(big);
      client.send(bytes(5, 8));
      expect(await h.until(() => atServer.frames.length === 3, 20_000)).toBe(true);
      expect(atServer.frames[0]!.byteLength).toBe(0);
      expect(atServer.frames[1]!.byteLength).toBe(MAX_FRAME_BYTES);
      expect(Buffer.from(atServer.frames[1]!).equals(Buffer.from(big))).toBe(true);
      expect(atServer.frames[2]).toEqual(bytes(5, 8));
      client.close();
    });

    it('refuses a frame over the limit with OversizeError and stays usable', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const { client, server } = await pair(a, b);
      const atServer = record(server);
      expect(() => client.send(new Uint8Array(MAX_FRAME_BYTES + 1))).toThrow(OversizeError);
      client.send(bytes(10, 9));
      expect(await h.until(() => atServer.frames.length === 1)).toBe(true);
      expect(atServer.closed).toBe(false);
      client.close();
    });

    it('propagates close: frames sent first arrive, then both sides see a clean close', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const { client, server } = await pair(a, b);
      const atServer = record(server);
      const atClient = record(client);
      client.send(bytes(100, 11));
      client.close();
      expect(await h.until(() => atServer.closed && atClient.closed)).toBe(true);
      expect(atServer.frames).toHaveLength(1);
      expect(atServer.closeError).toBeUndefined();
      expect(atClient.closeError).toBeUndefined();
      expect(() => client.send(bytes(1, 1))).toThrow(TransportError);
    });

    it('closing a transport closes its connections at the peer', async () => {
      const a = await h.endpoint();
      const b = await h.endpoint();
      const { client } = await pair(a, b);
      const atClient = record(client);
      await h.settle(b.streams.close());
      expect(await h.until(() => atClient.closed)).toBe(true);
    });

    it('connect to a dead address rejects with TransportError', async () => {
      const a = await h.endpoint();
      const dead = await h.deadStreamAddress();
      await expect(h.settle(a.streams.connect(dead, 2000), 10_000)).rejects.toBeInstanceOf(TransportError);
    });
  });
}
