// Benchmark `crypto-cost`: what encryption costs (DESIGN.md "Security"; issue goal: under 15% of
// throughput), measured in one run against the plaintext (--insecure) path.
//
// 1. Gossip packets through the real UDP path: two real UDP sockets on loopback, plaintext
//    (createUdpTransport) against sealed (securePackets over it: AES-256-GCM seal, replay check,
//    open), in alternating rounds so both see the same machine load. Sending is flow-controlled
//    (a window of packets in flight) so nothing is lost in the kernel and the figure is the
//    pipeline's own rate. CPU per packet is process CPU time (user + system, so syscalls count)
//    over packets delivered; sender and receiver both run in this process, so it is the whole
//    cost of one packet: seal + send + receive + open.
// 2. Bytes added per packet: measured on the wire (sealed length minus plaintext length).
// 3. Bytes added per stream frame by TLS (TLS-PSK, TLS 1.3): a counting TCP relay between client
//    and server counts the bytes on the wire for frames of several sizes, against plain TCP;
//    the handshake's bytes are reported apart.
//
// Run after compiling: node dist/bench/crypto-cost.js --out DIR [--quick] [--bind 127.0.0.1]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createUdpTransport } from '../src/transport/udp.js';
import { createPlainSocketLayer } from '../src/transport/plain-socket-layer.js';
import { encodeFrame, FRAME_HEADER_BYTES } from '../src/transport/framing.js';
import type { PacketTransport, SocketLayer } from '../src/transport/types.js';
import { Keyring, generateKey } from '../src/security/keyring.js';
import { securePackets } from '../src/security/secure-packet-transport.js';
import { SEAL_OVERHEAD } from '../src/security/packet-crypto.js';
import { tlsPskLayer } from '../src/security/tls-psk.js';
import { metric, writeResult, type BenchResult, type Metrics } from './lib/result.js';
import { median } from './lib/stats.js';
import { printTable } from './lib/print-table.js';

export interface CryptoCostOptions {
  out: string;
  quick: boolean;
  /** Loopback address to bind (default 127.0.0.1). */
  bind?: string;
  log?: (msg: string) => void;
}

interface Round {
  pps: number;
  cpuUsPerPacket: number;
}

const WINDOW = 32;

/** One timed round: `ms` of flow-controlled ping-pong-free streaming from a to b. */
async function udpRound(a: PacketTransport, b: PacketTransport, size: number, ms: number): Promise<Round> {
  const payload = new Uint8Array(size).fill(0x5a);
  let received = 0;
  let inFlight = 0;
  let running = true;
  let stalls = 0;
  let lastReceive = Date.now();
  return new Promise<Round>((resolve) => {
    const pump = (): void => {
      while (running && inFlight < WINDOW) {
        a.send(b.address, payload);
        inFlight++;
      }
    };
    b.onPacket(() => {
      received++;
      inFlight--;
      lastReceive = Date.now();
      pump();
    });
    // A packet lost on loopback would stall the window; reopen it (rare, counted).
    const watchdog = setInterval(() => {
      if (running && Date.now() - lastReceive > 50) {
        stalls++;
        inFlight = 0;
        lastReceive = Date.now();
        pump();
      }
    }, 25);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    pump();
    setTimeout(() => {
      running = false;
      const ns = Number(process.hrtime.bigint() - t0);
      const cpu = process.cpuUsage(cpu0);
      const n = received;
      clearInterval(watchdog);
      b.onPacket(() => {});
      void stalls;
      // Let stragglers drain before the next round.
      setTimeout(() => resolve({ pps: (n * 1e9) / ns, cpuUsPerPacket: (cpu.user + cpu.system) / n }), 50);
    }, ms);
  });
}

/** Wraps a transport to record the size of what it puts on the wire. */
function counting(t: PacketTransport): PacketTransport & { lastSent: number } {
  const c = {
    lastSent: 0,
    get address() {
      return t.address;
    },
    send(to: string, data: Uint8Array) {
      c.lastSent = data.byteLength;
      t.send(to, data);
    },
    onPacket: (h: (from: string, d: Uint8Array) => void) => t.onPacket(h),
    close: () => t.close(),
  };
  return c;
}

async function measureUdp(bind: string, sizes: number[], rounds: number, roundMs: number, log: (m: string) => void): Promise<Metrics> {
  const metrics: Metrics = {};
  const rawA = counting(await createUdpTransport({ host: bind, port: 0 }));
  const rawB = await createUdpTransport({ host: bind, port: 0 });
  const keyring = new Keyring(generateKey());
  const clock = { now: () => Date.now() };
  const secA = securePackets(rawA, { keyring, label: 'bench', version: 1, clock });
  const secB = securePackets(rawB, { keyring, label: 'bench', version: 1, clock });
  try {
    for (const size of sizes) {
      const plain: Round[] = [];
      const sealed: Round[] = [];
      await udpRound(rawA, rawB, size, 200); // warm-up: JIT, OpenSSL, socket buffers
      await udpRound(secA, secB, size, 200);
      for (let r = 0; r < rounds; r++) {
        plain.push(await udpRound(rawA, rawB, size, roundMs));
        sealed.push(await udpRound(secA, secB, size, roundMs));
      }
      const p = median(plain.map((x) => x.pps));
      const s = median(sealed.map((x) => x.pps));
      const pc = median(plain.map((x) => x.cpuUsPerPacket));
      const sc = median(sealed.map((x) => x.cpuUsPerPacket));
      metrics[`udp_${size}b_insecure_pps`] = metric(Math.round(p), 'packets/s');
      metrics[`udp_${size}b_encrypted_pps`] = metric(Math.round(s), 'packets/s');
      metrics[`udp_${size}b_throughput_cost`] = metric(round2(((p - s) / p) * 100), '%');
      metrics[`udp_${size}b_insecure_cpu`] = metric(round2(pc), 'us/packet');
      metrics[`udp_${size}b_encrypted_cpu`] = metric(round2(sc), 'us/packet');
      metrics[`udp_${size}b_crypto_cpu`] = metric(round2(sc - pc), 'us/packet');
      log(`udp ${size} B: insecure ${Math.round(p)} pkt/s ${pc.toFixed(2)} us/pkt; encrypted ${Math.round(s)} pkt/s ${sc.toFixed(2)} us/pkt`);
    }
    // Bytes on the wire for one packet, sealed versus plaintext.
    secA.send(rawB.address, new Uint8Array(300));
    const sealedLen = rawA.lastSent;
    rawA.send(rawB.address, new Uint8Array(300));
    const plainLen = rawA.lastSent;
    metrics.udp_bytes_added_per_packet = metric(sealedLen - plainLen, 'bytes');
    if (sealedLen - plainLen !== SEAL_OVERHEAD) throw new Error(`sealed packets add ${sealedLen - plainLen} bytes, expected ${SEAL_OVERHEAD}`);
  } finally {
    await secA.close();
    await secB.close();
  }
  return metrics;
}

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
  const wire = { c2s: 0, s2c: 0 };
  const relays = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    const outbound = net.connect({ host: bind, port: serverPort });
    relays.add(inbound).add(outbound);
    inbound.on('data', (d: Buffer) => {
      wire.c2s += d.length;
      outbound.write(d);
    });
    outbound.on('data', (d: Buffer) => {
      wire.s2c += d.length;
      inbound.write(d);
    });
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, bind, () => r()));
  const relayPort = (relay.address() as net.AddressInfo).port;
  const client = await layer.connect(bind, relayPort, 5000);
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
  for (const s of relays) s.destroy();
  await new Promise<void>((r) => relay.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  return { handshake, perFrame };
}

async function measureTls(bind: string, quick: boolean, log: (m: string) => void): Promise<Metrics> {
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

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function runCryptoCost(opts: CryptoCostOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const bind = opts.bind ?? '127.0.0.1';
  const udp = await measureUdp(bind, [300, 1300], opts.quick ? 3 : 5, opts.quick ? 500 : 1500, log);
  const tls = await measureTls(bind, opts.quick, log);
  const { result, path } = writeResult(opts.out, 'crypto-cost', { ...udp, ...tls }, {});
  log(`wrote ${path}`);
  return result;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'bench/out' }, quick: { type: 'boolean', default: false }, bind: { type: 'string', default: '127.0.0.1' } },
  });
  const result = await runCryptoCost({ out: values.out!, quick: values.quick!, bind: values.bind!, log: (m) => console.error(m) });
  printTable([result]);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    },
  );
}
