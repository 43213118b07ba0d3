// crypto-cost part 1 and 3: raw UDP on loopback, plaintext against sealed (seal, replay check,
// open) in alternating rounds, and the bytes a seal adds to one packet.
import { createUdpTransport } from '../../src/transport/udp.js';
import type { PacketTransport } from '../../src/transport/types.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { securePackets } from '../../src/security/secure-packet-transport.js';
import { SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';
import { metric, type Metrics } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { logRounds, round2, windowedRound, type Round, type RoundLog } from './packet-rounds.js';

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

export async function measureUdp(bind: string, sizes: number[], rounds: number, roundMs: number, log: (m: string) => void, roundLog: RoundLog): Promise<Metrics> {
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
