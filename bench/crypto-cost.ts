// Benchmark `crypto-cost`: what encryption costs (DESIGN.md "Security"; issue goal: under 15% of
// throughput), measured in one run against the plaintext (--insecure) path.
//
// 1. Raw transport (udp_*): two real UDP sockets on loopback, plaintext (createUdpTransport)
//    against sealed (securePackets over it: AES-256-GCM seal, replay check, open), in alternating
//    rounds so both see the same machine load. Sending is flow-controlled (a window of packets in
//    flight) so nothing is lost in the kernel and the figure is the pipeline's own rate. CPU per
//    packet is process CPU time (user + system, so syscalls count) over packets delivered; sender
//    and receiver both run in this process, so it is the whole cost of one packet: seal + send +
//    receive + open. No protocol work at all: this is the floor, where encryption weighs most.
// 2. Gossip through the real node stack (gossip_*): two SWIM cores on real UDP sockets, plain or
//    sealed, exchanging probes and acks (bare, and with piggybacked membership news) through the
//    real receive path (decode, merge, pack the reply); alternating rounds as above. The issue's
//    goal is judged on the compound figure (GOAL_METRIC; the JSON's notes say why).
// 3. Bytes added per packet: measured on the wire (sealed length minus plaintext length).
// 4. Bytes added per stream frame by TLS (TLS-PSK, TLS 1.3): a counting TCP relay between client
//    and server counts the bytes on the wire for frames of several sizes, against plain TCP;
//    the handshake's bytes are reported apart.
//
// Run after compiling:
//   node dist/bench/crypto-cost.js --out DIR [--quick] [--bind 127.0.2.1] [--only udp|gossip|tls ...]
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
import { Swim } from '../gossip/swim.js';
import { profile } from '../gossip/config.js';
import { encodeCompound, encodeMessage } from '../gossip/messages.js';
import { encodeMeta, PROTOCOL_VERSION } from '../src/node/meta.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeResult, metric, type BenchResult, type Metrics } from './lib/result.js';
import { median } from './lib/stats.js';
import { printTable } from './lib/print-table.js';

export interface CryptoCostOptions {
  out: string;
  quick: boolean;
  /** Loopback address to bind (default 127.0.2.1). */
  bind?: string;
  /** Measure only these parts (default all). */
  only?: Array<'udp' | 'gossip' | 'tls'>;
  log?: (msg: string) => void;
}

interface Round {
  pps: number;
  cpuUsPerPacket: number;
}

const WINDOW = 32;

/**
 * Keeps WINDOW packets in flight for `ms`: `send` puts one on the wire; `attach(answered)` installs
 * the receive side, which calls answered() per packet that completes, and returns a detach. A
 * packet lost on loopback would stall the window; a watchdog reopens it. Returns the elapsed time
 * and the process CPU used (user + system, so syscalls count).
 */
function windowedRound(ms: number, send: () => void, attach: (answered: () => void) => () => void): Promise<{ ns: number; cpuUs: number }> {
  let inFlight = 0;
  let running = true;
  let lastReceive = Date.now();
  return new Promise((resolve) => {
    const pump = (): void => {
      while (running && inFlight < WINDOW) {
        send();
        inFlight++;
      }
    };
    const detach = attach(() => {
      inFlight--;
      lastReceive = Date.now();
      pump();
    });
    const watchdog = setInterval(() => {
      if (running && Date.now() - lastReceive > 50) {
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
      clearInterval(watchdog);
      detach();
      // Let stragglers drain before the next round.
      setTimeout(() => resolve({ ns, cpuUs: cpu.user + cpu.system }), 50);
    }, ms);
  });
}

/** One timed round: `ms` of flow-controlled streaming from a to b. */
export async function udpRound(a: PacketTransport, b: PacketTransport, size: number, ms: number): Promise<Round> {
  const payload = new Uint8Array(size).fill(0x5a);
  let received = 0;
  const r = await windowedRound(
    ms,
    () => a.send(b.address, payload),
    (answered) => {
      b.onPacket(() => {
        received++;
        answered();
      });
      return () => b.onPacket(() => {});
    },
  );
  return { pps: (received * 1e9) / r.ns, cpuUsPerPacket: r.cpuUs / received };
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

/** Per-round figures, so a reader of the JSON can see the spread behind each median. */
type RoundLog = Record<string, { insecure: Round[]; encrypted: Round[] }>;

function logRounds(into: RoundLog, id: string, plain: Round[], sealed: Round[]): void {
  const r = (xs: Round[]): Round[] => xs.map((x) => ({ pps: Math.round(x.pps), cpuUsPerPacket: round2(x.cpuUsPerPacket) }));
  into[id] = { insecure: r(plain), encrypted: r(sealed) };
}

async function measureUdp(bind: string, sizes: number[], rounds: number, roundMs: number, log: (m: string) => void, roundLog: RoundLog): Promise<Metrics> {
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
      logRounds(roundLog, `udp_${size}b`, plain, sealed);
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
      metrics[`udp_${size}b_cpu_cost`] = metric(round2(((sc - pc) / sc) * 100), '%');
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


// ---- gossip throughput of the real node stack ---------------------------------------------------

/** One end of the gossip benchmark: the real SWIM core on a real UDP socket (plain or sealed). */
interface GossipEnd {
  swim: Swim;
  transport: PacketTransport;
}

type GossipWorkload = 'ping-ack' | 'compound';

/** Fake members whose alive updates the compound workload spreads (never contacted: no ticks run). */
const GOSSIP_MEMBERS = 32;

function benchMeta(name: string): Uint8Array {
  return encodeMeta({ role: 'worker', slots: 4, freeSlots: 4, rpcPort: 10000, httpPort: 10080, protocol: PROTOCOL_VERSION, lifecycle: 'ACTIVE', nodeId: `${name}-0123456789abcdef` });
}

export function gossipEnd(name: string, transport: PacketTransport): GossipEnd {
  const swim = new Swim({ name, address: transport.address, meta: benchMeta(name), config: profile('lan'), random: Math.random, now: Date.now() });
  return { swim, transport };
}

/** Each learns the other as a member, as a join push-pull would. */
export function introduce(a: GossipEnd, b: GossipEnd): void {
  const now = Date.now();
  a.swim.mergeState(b.swim.encodeState(true), now);
  b.swim.mergeState(a.swim.encodeState(true), now);
}

/**
 * One timed round of gossip between two real SWIM cores. A sends probes to B (a bare ping, or for
 * `compound` a ping plus an alive update about one of GOSSIP_MEMBERS members, as a piggybacked
 * packet carries); B takes them through its real receive path (decode, merge into its member table,
 * queue the news) and answers with an ack that piggybacks its queued news; A takes the ack through
 * its real receive path (decode, merge). A window of probes is kept in flight. A packet counts
 * once a SWIM core has handled it; both directions count.
 */
export async function gossipRound(a: GossipEnd, b: GossipEnd, workload: GossipWorkload, incarnations: number[], ms: number): Promise<Round & { bytes: number }> {
  let handled = 0;
  let bytes = 0;
  let seq = 1;
  let k = 0;
  const deliver = (end: GossipEnd, from: string, data: Uint8Array): void => {
    handled++;
    bytes += data.length;
    for (const e of end.swim.receive(from, data, Date.now())) {
      if (e.type === 'send') end.transport.send(e.to, e.packet);
    }
  };
  const nextPacket = (): Uint8Array => {
    const ping = encodeMessage({ type: 'ping', seq: seq++, target: b.swim.name });
    if (workload === 'ping-ack') return ping;
    k = (k + 1) % GOSSIP_MEMBERS;
    const name = `bench-member-${k}`;
    const alive = encodeMessage({ type: 'alive', incarnation: ++incarnations[k]!, name, address: `127.0.2.200:${20000 + k}`, meta: benchMeta(name) });
    return encodeCompound([ping, alive]);
  };
  const r = await windowedRound(
    ms,
    () => a.transport.send(b.transport.address, nextPacket()),
    (answered) => {
      b.transport.onPacket((from, data) => deliver(b, from, data));
      a.transport.onPacket((from, data) => {
        deliver(a, from, data);
        answered();
      });
      return () => {
        a.transport.onPacket(() => {});
        b.transport.onPacket(() => {});
      };
    },
  );
  return { pps: (handled * 1e9) / r.ns, cpuUsPerPacket: r.cpuUs / handled, bytes: bytes / handled };
}

async function measureGossip(bind: string, rounds: number, roundMs: number, log: (m: string) => void, roundLog: RoundLog): Promise<Metrics> {
  const metrics: Metrics = {};
  const keyring = new Keyring(generateKey());
  const clock = { now: () => Date.now() };
  const rawA = await createUdpTransport({ host: bind, port: 0 });
  const rawB = await createUdpTransport({ host: bind, port: 0 });
  const rawC = await createUdpTransport({ host: bind, port: 0 });
  const rawD = await createUdpTransport({ host: bind, port: 0 });
  const secC = securePackets(rawC, { keyring, label: 'trinity', version: PROTOCOL_VERSION, clock });
  const secD = securePackets(rawD, { keyring, label: 'trinity', version: PROTOCOL_VERSION, clock });
  try {
    for (const workload of ['ping-ack', 'compound'] as const) {
      // Fresh cores per workload, one pair per mode, so neither mode inherits the other's state.
      const plainA = gossipEnd('bench-a', rawA);
      const plainB = gossipEnd('bench-b', rawB);
      const sealedA = gossipEnd('bench-a', secC);
      const sealedB = gossipEnd('bench-b', secD);
      introduce(plainA, plainB);
      introduce(sealedA, sealedB);
      const plainInc = new Array<number>(GOSSIP_MEMBERS).fill(0);
      const sealedInc = new Array<number>(GOSSIP_MEMBERS).fill(0);
      await gossipRound(plainA, plainB, workload, plainInc, 300); // warm-up
      await gossipRound(sealedA, sealedB, workload, sealedInc, 300);
      const plain: Array<Round & { bytes: number }> = [];
      const sealed: Array<Round & { bytes: number }> = [];
      for (let r = 0; r < rounds; r++) {
        plain.push(await gossipRound(plainA, plainB, workload, plainInc, roundMs));
        sealed.push(await gossipRound(sealedA, sealedB, workload, sealedInc, roundMs));
      }
      const p = median(plain.map((x) => x.pps));
      const s = median(sealed.map((x) => x.pps));
      const pc = median(plain.map((x) => x.cpuUsPerPacket));
      const sc = median(sealed.map((x) => x.cpuUsPerPacket));
      const size = median(plain.map((x) => x.bytes));
      const id = `gossip_${workload.replace('-', '_')}`;
      logRounds(roundLog, id, plain, sealed);
      metrics[`${id}_insecure_pps`] = metric(Math.round(p), 'packets/s');
      metrics[`${id}_encrypted_pps`] = metric(Math.round(s), 'packets/s');
      metrics[`${id}_throughput_cost`] = metric(round2(((p - s) / p) * 100), '%');
      metrics[`${id}_insecure_cpu`] = metric(round2(pc), 'us/packet');
      metrics[`${id}_encrypted_cpu`] = metric(round2(sc), 'us/packet');
      metrics[`${id}_crypto_cpu`] = metric(round2(sc - pc), 'us/packet');
      metrics[`${id}_cpu_cost`] = metric(round2(((sc - pc) / sc) * 100), '%');
      metrics[`${id}_mean_packet_bytes`] = metric(Math.round(size), 'bytes');
      log(`gossip ${workload} (~${Math.round(size)} B): insecure ${Math.round(p)} pkt/s ${pc.toFixed(2)} us/pkt; encrypted ${Math.round(s)} pkt/s ${sc.toFixed(2)} us/pkt; cost ${(((p - s) / p) * 100).toFixed(1)}%`);
    }
  } finally {
    await rawA.close();
    await rawB.close();
    await secC.close();
    await secD.close();
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

/** The figure the goal ("encryption costs under 15% of throughput") is judged on. */
export const GOAL_METRIC = 'gossip_compound_throughput_cost';
export const GOAL_PERCENT = 15;

/** crypto-cost.json: the usual result plus `notes` saying what each figure is and which one the goal uses. */
export interface CryptoCostResult extends BenchResult {
  notes: Record<string, unknown>;
}

export async function runCryptoCost(opts: CryptoCostOptions): Promise<CryptoCostResult> {
  const log = opts.log ?? (() => {});
  const bind = opts.bind ?? '127.0.2.1';
  const parts = new Set(opts.only ?? ['udp', 'gossip', 'tls']);
  const loadBefore = loadavg().map(round2);
  const rounds: RoundLog = {};
  const udp = parts.has('udp') ? await measureUdp(bind, [300, 1300], opts.quick ? 3 : 5, opts.quick ? 500 : 1500, log, rounds) : {};
  const gossip = parts.has('gossip') ? await measureGossip(bind, opts.quick ? 3 : 7, opts.quick ? 500 : 1500, log, rounds) : {};
  const tls = parts.has('tls') ? await measureTls(bind, opts.quick, log) : {};
  const loadAfter = loadavg().map(round2);
  const metrics = { ...udp, ...gossip, ...tls };
  const goal = metrics[GOAL_METRIC];
  const result: CryptoCostResult = {
    ...makeResult('crypto-cost', metrics, {}),
    notes: {
      goal: {
        text: `encryption costs under ${GOAL_PERCENT}% of throughput`,
        judgedOn: GOAL_METRIC,
        value: goal?.value ?? null,
        met: goal ? goal.value < GOAL_PERCENT : null,
        why:
          'Throughput matters when gossip carries news: probes and acks with piggybacked membership updates, taken through ' +
          "the real SWIM core's receive path (decode, merge into the member table, pack the reply) over real UDP. That is the " +
          'work a node does per packet, so it is the figure a user sees. gossip_ping_ack_* (bare probes, no news: the worst ' +
          'case for encryption, nearly no work besides it) and udp_* (sockets only, no protocol work: the floor) are reported beside it.',
      },
      floor:
        'What encryption costs here is almost all node:crypto per-call overhead, not AES (AES-256-GCM runs at ~1.4 GB/s on this ' +
        'machine: 0.2 us for 300 bytes). Each seal or open makes a cipher object and two or three result Buffers, ~2.7-3 us measured in a ' +
        'tight loop, more inside a busy event loop where their garbage collection adds up: 8-14 us per packet for both ends here. ' +
        'Plaintext UDP costs ~5-6 us per packet (send + receive) and the SWIM core ~10-15 us of work per gossip packet, so with Node 20 ' +
        'public crypto APIs the cost stays far above 15% on this one-process loopback benchmark; see src/security/packet-crypto.ts "Cost".',
      figures: {
        'udp_*': 'Raw transport: two UDP sockets in one process, a window of 32 packets in flight, plaintext against sealed (seal, replay check, open). Packets delivered per second; CPU = process user+system time per packet, so both ends and the syscalls count.',
        'gossip_*':
          'Real node stack: two SWIM cores (gossip/swim.ts), each on its own real UDP socket, plain or sealed with the cluster keyring; A sends probes (ping-ack: a bare ping; compound: a ping plus an alive update about one of 32 members), B handles each through Swim.receive and acks with its queued news piggybacked, A handles the ack through Swim.receive. Every packet a core handled counts, both directions. The ClusterNode layers above the core (member-event handlers, timers) are left out, which if anything overstates the share of encryption.',
        'tls_*': 'Bytes on the wire per stream frame, TLS-PSK (TLS 1.3) against plain TCP, through a counting relay.',
        method:
          'Plaintext and sealed rounds alternate so both see the same machine load; each figure is the median of the rounds. ' +
          '*_throughput_cost = (insecure_pps - encrypted_pps) / insecure_pps; *_cpu_cost = (encrypted_cpu - insecure_cpu) / encrypted_cpu. ' +
          'On a shared machine packets per second follow the share of CPU the process gets, so the CPU figures are the steadier ones; ' +
          'with the process CPU-bound the two costs agree. See loadAverage.',
        rawPlaintextCaveat:
          'The raw udp_* plaintext path resends one unchanged buffer, while the sealed path makes a fresh buffer per packet (as a real ' +
          'node does for every packet it encodes), which flatters plaintext there. The gossip_* figures encode a fresh packet in both modes.',
      },
      loadAverage: { before: loadBefore, after: loadAfter },
      rounds,
    },
  };
  mkdirSync(opts.out, { recursive: true });
  const path = join(opts.out, 'crypto-cost.json');
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path}`);
  if (goal) log(`goal (${GOAL_METRIC} < ${GOAL_PERCENT}%): ${goal.value}% ${goal.value < GOAL_PERCENT ? 'met' : 'NOT met'}`);
  return result;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'bench/out' },
      quick: { type: 'boolean', default: false },
      bind: { type: 'string', default: '127.0.2.1' },
      only: { type: 'string', multiple: true },
    },
  });
  const only = values.only as Array<'udp' | 'gossip' | 'tls'> | undefined;
  const result = await runCryptoCost({ out: values.out!, quick: values.quick!, bind: values.bind!, only, log: (m) => console.error(m) });
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
