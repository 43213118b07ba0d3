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
// The parts live in bench/crypto/ (udp-cost, gossip-cost, tls-frame-bytes); this file runs them
// and writes crypto-cost.json with its notes.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeResult, type BenchResult } from './lib/result.js';
import { printTable } from './lib/print-table.js';
import { round2, type RoundLog } from './crypto/packet-rounds.js';
import { measureUdp } from './crypto/udp-cost.js';
import { measureGossip } from './crypto/gossip-cost.js';
import { measureTls } from './crypto/tls-frame-bytes.js';

export { udpRound } from './crypto/udp-cost.js';
export { gossipEnd, gossipRound, introduce } from './crypto/gossip-cost.js';

export interface CryptoCostOptions {
  out: string;
  quick: boolean;
  /** Loopback address to bind (default 127.0.2.1). */
  bind?: string;
  /** Measure only these parts (default all). */
  only?: Array<'udp' | 'gossip' | 'tls'>;
  log?: (msg: string) => void;
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
