// crypto-cost part 2: gossip through the real node stack, two SWIM cores on real UDP sockets,
// plain or sealed, exchanging probes and acks (bare, and with piggybacked news) in alternating rounds.
import { createUdpTransport } from '../../src/transport/udp.js';
import type { PacketTransport } from '../../src/transport/types.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { securePackets } from '../../src/security/secure-packet-transport.js';
import { Swim } from '../../gossip/swim.js';
import { profile } from '../../gossip/config.js';
import { encodeCompound, encodeMessage } from '../../gossip/messages.js';
import { encodeMeta, PROTOCOL_VERSION } from '../../src/node/meta.js';
import { metric, type Metrics } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { logRounds, round2, windowedRound, type Round, type RoundLog } from './packet-rounds.js';

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

export async function measureGossip(bind: string, rounds: number, roundMs: number, log: (m: string) => void, roundLog: RoundLog): Promise<Metrics> {
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
