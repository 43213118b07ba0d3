// Measures (does not assert) the cost of sealing and opening gossip packets against a plaintext
// copy, and the bytes added per packet. Numbers go to stdout for the report; the only assertions
// are sanity checks so the run means something.
import { describe, expect, it } from 'vitest';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PacketCrypto, SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';
import { securePackets } from '../../src/security/secure-packet-transport.js';
import type { Address, PacketTransport } from '../../src/transport/types.js';

const ITERATIONS = 20_000;

function time(fn: () => void, n: number): { pps: number; usPerPacket: number } {
  for (let i = 0; i < 500; i++) fn(); // warm up the JIT and OpenSSL
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return { pps: Math.round((n * 1e9) / ns), usPerPacket: Number((ns / n / 1000).toFixed(2)) };
}

describe('packet crypto cost', () => {
  it('seal+open vs plaintext copy, 300 and 1,300 bytes', () => {
    const crypto = new PacketCrypto({ keyring: new Keyring(generateKey()), label: 'bench', version: 1 });
    const rows: Record<string, unknown>[] = [];
    for (const size of [300, 1300]) {
      const payload = Buffer.alloc(size, 7);
      let seq = 1n;
      const plain = time(() => {
        Buffer.from(payload); // what a plaintext path costs at least: one copy
      }, ITERATIONS);
      const sealOpen = time(() => {
        const sealed = crypto.seal(payload, { senderId: 1n, seq: seq++ });
        if (!crypto.open(sealed).ok) throw new Error('open failed');
      }, ITERATIONS);

      // Through the transport decorator: seal, replay check, open.
      let deliver: ((from: Address, d: Uint8Array) => void) | undefined;
      const loop: PacketTransport = {
        address: '127.0.0.1:1',
        send: (_to, d) => deliver!('127.0.0.1:1', d),
        onPacket: (h) => (deliver = h),
        close: async () => {},
      };
      const t = securePackets(loop, { keyring: new Keyring(generateKey()), label: 'bench', version: 1, clock: { now: () => 0 } });
      let received = 0;
      t.onPacket(() => received++);
      const transport = time(() => t.send('127.0.0.1:1', payload), ITERATIONS);
      expect(received).toBe(ITERATIONS + 500);
      rows.push({ size, plainCopy: plain, sealOpen, transport, bytesAdded: SEAL_OVERHEAD });
    }
    console.log(JSON.stringify({ bench: 'security-packet-crypto', iterations: ITERATIONS, rows }, null, 1));
    expect(rows).toHaveLength(2);
  });
});
