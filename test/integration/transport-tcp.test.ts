// The real TCP stream transport under abuse: malformed and oversized length prefixes, truncated
// streams, a connection flood beyond the cap, idle peers and throwing handlers. Each must close
// one connection with a typed error and leave the transport (and the process) serving.

import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DecodeError, OversizeError, TimeoutError, TransportError } from '../../src/errors.js';
import { parseAddress } from '../../src/transport/address.js';
import { createPlainSocketLayer } from '../../src/transport/plain-socket-layer.js';
import { createTcpTransport, type TcpTransport, type TcpTransportOptions } from '../../src/transport/tcp.js';
import type { StreamConnection } from '../../src/transport/types.js';

const HOST = '127.0.0.40';
const open: TcpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function server(options: Partial<TcpTransportOptions> = {}) {
  const transport = await createTcpTransport({ host: HOST, port: 0, layer: createPlainSocketLayer({ localAddress: HOST }), ...options });
  open.push(transport);
  const closes: Array<Error | undefined> = [];
  const frames: Uint8Array[] = [];
  transport.onConnection((conn) => {
    conn.onFrame((f) => frames.push(f));
    conn.onClose((err) => closes.push(err));
  });
  return { transport, closes, frames };
}

/** A raw socket to the transport, for writing bytes no well-behaved peer would. */
async function raw(address: string): Promise<net.Socket> {
  const { host, port } = parseAddress(address);
  const socket = net.connect({ host, port });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

const socketClosed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('tcp transport (real sockets)', () => {
  it('closes a connection that announces an oversize frame with OversizeError, and keeps serving', async () => {
    const s = await server();
    const bad = await raw(s.transport.address);
    bad.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
    await socketClosed(bad);
    await until(() => s.closes.length === 1);
    expect(s.closes[0]).toBeInstanceOf(OversizeError);
    const good = await raw(s.transport.address);
    good.write(Uint8Array.of(0, 0, 0, 2, 7, 8));
    await until(() => s.frames.length === 1);
    expect(Array.from(s.frames[0]!)).toEqual([7, 8]);
    good.destroy();
  });

  it('a stream that ends inside a frame closes with DecodeError', async () => {
    const s = await server();
    const sock = await raw(s.transport.address);
    sock.end(Uint8Array.of(0, 0, 0, 10, 1, 2));
    await until(() => s.closes.length === 1);
    expect(s.closes[0]).toBeInstanceOf(DecodeError);
  });

  it('closes inbound connections beyond the cap at once', async () => {
    const s = await server({ maxConnections: 2 });
    const first = await raw(s.transport.address);
    const second = await raw(s.transport.address);
    await until(() => s.transport.stats().connectionsAccepted === 2);
    const third = await raw(s.transport.address);
    await socketClosed(third);
    expect(s.transport.stats().connectionsRejected).toBe(1);
    expect(first.destroyed || second.destroyed).toBe(false);
    first.destroy();
    await until(() => s.transport.connectionCount === 1);
    const fourth = await raw(s.transport.address);
    await until(() => s.transport.stats().connectionsAccepted === 3);
    second.destroy();
    fourth.destroy();
  });

  it('closes an idle connection with TimeoutError', async () => {
    const s = await server({ idleTimeoutMs: 150 });
    const idle = await raw(s.transport.address);
    await socketClosed(idle);
    await until(() => s.closes.length === 1);
    expect(s.closes[0]).toBeInstanceOf(TimeoutError);
  });

  it('a throwing frame handler closes that connection with TransportError, not the process', async () => {
    const transport = await createTcpTransport({ host: HOST, port: 0, layer: createPlainSocketLayer({ localAddress: HOST }) });
    open.push(transport);
    const closes: Array<Error | undefined> = [];
    transport.onConnection((conn) => {
      conn.onFrame(() => {
        throw new Error('handler bug');
      });
      conn.onClose((err) => closes.push(err));
    });
    const client = await transport.connect(transport.address);
    let clientClosed = false;
    client.onClose(() => (clientClosed = true));
    client.send(Uint8Array.of(1));
    await until(() => closes.length === 1 && clientClosed);
    expect(closes[0]).toBeInstanceOf(TransportError);
  });

  it('listening on a taken port fails with TransportError', async () => {
    const s = await server();
    const { port } = parseAddress(s.transport.address);
    await expect(createTcpTransport({ host: HOST, port, layer: createPlainSocketLayer() })).rejects.toBeInstanceOf(TransportError);
  });

  it('delivers frames sent before the frame handler is set', async () => {
    const transport = await createTcpTransport({ host: HOST, port: 0, layer: createPlainSocketLayer({ localAddress: HOST }) });
    open.push(transport);
    let accepted: StreamConnection | undefined;
    transport.onConnection((conn) => (accepted = conn));
    const client = await transport.connect(transport.address);
    client.send(Uint8Array.of(5));
    client.send(Uint8Array.of(6));
    await until(() => accepted !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    const got: number[] = [];
    accepted!.onFrame((f) => got.push(f[0]!));
    await until(() => got.length === 2);
    expect(got).toEqual([5, 6]);
    client.close();
  });

  it('fails a connection whose peer stops reading instead of buffering without bound', async () => {
    const peers: net.Socket[] = [];
    const stalled = net.createServer((socket) => {
      socket.pause(); // accepts, never reads
      peers.push(socket);
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.44', resolve));
    try {
      const transport = await createTcpTransport({ host: HOST, port: 0, layer: createPlainSocketLayer({ localAddress: HOST }), maxBufferedBytes: 2 * 1024 * 1024 });
      open.push(transport);
      const { port } = stalled.address() as net.AddressInfo;
      const client = await transport.connect(`127.0.0.44:${port}`);
      let closeError: Error | undefined;
      client.onClose((err) => (closeError = err));
      const frame = new Uint8Array(1024 * 1024);
      let thrown: unknown;
      // Bounded: loopback kernel buffers hold a few MiB at most, far below 200 MiB.
      for (let i = 0; i < 200 && thrown === undefined; i++) {
        try {
          client.send(frame);
        } catch (err) {
          thrown = err;
        }
        await new Promise((r) => setImmediate(r));
      }
      expect(thrown).toBeInstanceOf(TransportError);
      await until(() => closeError !== undefined);
      expect(closeError).toBeInstanceOf(TransportError);
    } finally {
      for (const peer of peers) peer.destroy(); // a paused socket would never end on its own
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });
});
