// crypto-cost part 4: bytes TLS-PSK (TLS 1.3) adds per stream frame against plain TCP, counted
// by a TCP relay between client and server; the handshake's bytes apart.
import net from 'node:net';
import { createPlainSocketLayer } from '../../src/transport/plain-socket-layer.js';
import { encodeFrame, FRAME_HEADER_BYTES } from '../../src/transport/framing.js';
import type { SocketLayer } from '../../src/transport/types.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { tlsPskLayer } from '../../src/security/tls-psk.js';
import { metric, type Metrics } from '../lib/result.js';
import { countingRelay } from '../lib/counting-relay.js';
import { round2 } from './packet-rounds.js';

interface StreamBytes {
  handshake: number;
  perFrame: number;
}

/** Bytes client->server for `count` frames of `size` through a counting relay, minus the framing itself. */
async function streamBytes(bind: string, layer: SocketLayer, size: number, count: number): Promise<StreamBytes> {
  let received = 0;
  let expected = 0;
  let done: () => void = () => {};
  const server = layer.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= expected) done();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, bind, () => r()));
  const serverPort = (server.address() as net.AddressInfo).port;
  const wire = await countingRelay(bind, { host: bind, port: serverPort });
  const client = await layer.connect(bind, wire.port, 5000);
  client.on('error', () => {});
  // Let the server's post-handshake messages (TLS 1.3 session tickets) pass before counting.
  await new Promise((r) => setTimeout(r, 100));
  const handshake = wire.c2s + wire.s2c;
  const c2s0 = wire.c2s;
  const frame = encodeFrame(new Uint8Array(size).fill(7));
  // One frame at a time (each waits for the previous to arrive), as RPC requests go: written back
  // to back, TLS would pack several small frames into one record and hide the per-frame cost.
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < count; i++) {
    expected += frame.length;
    const arrived = new Promise<void>((r) => (done = r));
    client.write(frame);
    if (received < expected) await arrived;
    if (Date.now() > deadline) throw new Error(`frames of ${size} bytes did not arrive in 20 s`);
  }
  await new Promise((r) => setTimeout(r, 50));
  const perFrame = (wire.c2s - c2s0) / count - (size + FRAME_HEADER_BYTES);
  client.destroy();
  await wire.close();
  await new Promise<void>((r) => server.close(() => r()));
  return { handshake, perFrame };
}

export async function measureTls(bind: string, quick: boolean, log: (m: string) => void): Promise<Metrics> {
  const metrics: Metrics = {};
  const keyring = new Keyring(generateKey());
  const tls = tlsPskLayer({ keyring, name: 'member:bench', label: 'bench' });
  const plain = createPlainSocketLayer();
  const sizes: Array<[number, number]> = [
    [100, quick ? 200 : 1000],
    [1024, quick ? 200 : 1000],
    [16 * 1024, quick ? 50 : 300],
    [1024 * 1024 - FRAME_HEADER_BYTES, quick ? 3 : 20],
  ];
  for (const [size, count] of sizes) {
    const t = await streamBytes(bind, tls, size, count);
    const p = await streamBytes(bind, plain, size, count);
    const label = size >= 1024 * 1024 - FRAME_HEADER_BYTES ? '1mib' : size >= 1024 ? `${size / 1024}kib` : `${size}b`;
    metrics[`tls_${label}_bytes_added_per_frame`] = metric(round2(t.perFrame - p.perFrame), 'bytes');
    metrics[`tls_${label}_overhead`] = metric(round2(((t.perFrame - p.perFrame) / (size + FRAME_HEADER_BYTES)) * 100), '%');
    if (size === 100) metrics.tls_handshake_bytes = metric(t.handshake, 'bytes');
    log(`tls frame ${size} B: +${(t.perFrame - p.perFrame).toFixed(1)} bytes/frame (handshake ${t.handshake} B)`);
  }
  return metrics;
}
