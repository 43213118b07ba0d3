// A node with another cluster key never enters the membership: its TLS push-pull fails the PSK
// binder (counted as a handshake auth failure), gossip sealed with its key is dropped and counted
// (`security.packetDrops.auth` in /status), and a member restarted with another key stays out.
// Real `tri node start` processes on 127.0.2.11-19 (build first: npx tsc -p tsconfig.json).
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../gossip/messages.js';
import { PROTOCOL_VERSION } from '../../src/node/meta.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PacketCrypto } from '../../src/security/packet-crypto.js';
import { Harness, requireBuild, sleep, status, waitFor, waitForView, type NodeProc } from './security-harness.js';

const IP = { n1: '127.0.2.11', n2: '127.0.2.12', n3: '127.0.2.13', n4: '127.0.2.14', probe: '127.0.2.19' };

describe('wrong key', () => {
  const h = new Harness();
  const keyA = generateKey();
  const keyB = generateKey();
  let fileA: string;
  let fileB: string;
  const nodes: Record<string, NodeProc> = {};
  let udp: Socket | undefined;

  beforeAll(async () => {
    requireBuild();
    await h.explain((async () => {
      fileA = h.keyFile('a.key', keyA);
      fileB = h.keyFile('b.key', keyB);
      nodes.n1 = h.start('n1', IP.n1, { keyFile: fileA });
      await waitForView(IP.n1, ['n1']);
      nodes.n2 = h.start('n2', IP.n2, { keyFile: fileA, join: [`${IP.n1}:9999`] });
      nodes.n3 = h.start('n3', IP.n3, { keyFile: fileA, join: [`${IP.n1}:9999`] });
      await Promise.all([IP.n1, IP.n2, IP.n3].map((ip) => waitForView(ip, ['n1', 'n2', 'n3'], 45_000, false)));
    })());
  }, 60_000);

  afterAll(async () => {
    udp?.close();
    await h.killAll();
    h.cleanup();
  });

  it('a fresh node with another key never joins; members count its failed handshakes', async () => {
    const before = (await status(IP.n1))!.security!;
    nodes.n4 = h.start('n4', IP.n4, { keyFile: fileB, join: [`${IP.n1}:9999`] });
    // Let it retry its join for a while (backoff 250 ms, 500 ms, 1 s, 2 s ...), watching every view.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      for (const ip of [IP.n1, IP.n2, IP.n3]) {
        const s = await status(ip);
        expect(s?.members.map((m) => m.name)).not.toContain('n4');
      }
      const own = await status(IP.n4);
      if (own) {
        expect(own.state).not.toBe('ACTIVE'); // it never got in, so it never finished joining
        expect(own.members.map((m) => m.name)).toEqual(['n4']);
      }
      await sleep(300);
    }
    const after = (await status(IP.n1))!.security!;
    expect(after.tlsHandshakeFailures.auth).toBeGreaterThan(before.tlsHandshakeFailures.auth);
  });

  it('gossip sealed with another key is dropped and counted; the same packet with the cluster key is answered', async () => {
    udp = createSocket('udp4');
    await new Promise<void>((r) => udp!.bind(0, IP.probe, () => r()));
    const acks: Buffer[] = [];
    udp.on('message', (m) => acks.push(m));
    const from = `${IP.probe}:${udp.address().port}`;
    const seal = (key: string, seq: bigint, msg: Uint8Array): Buffer =>
      new PacketCrypto({ keyring: new Keyring(key), label: 'trinity', version: PROTOCOL_VERSION }).seal(msg, { senderId: 0x5eedn, seq });
    const send = (b: Buffer): Promise<void> => new Promise((r) => udp!.send(b, 9999, IP.n1, () => r()));

    const before = (await status(IP.n1))!.security!.packetDrops;
    const hostile = [
      encodeMessage({ type: 'alive', incarnation: 1, name: 'intruder', address: from, meta: new Uint8Array() }),
      encodeMessage({ type: 'dead', incarnation: 99, name: 'n2', from: 'intruder' }),
      encodeMessage({ type: 'suspect', incarnation: 99, name: 'n3', from: 'intruder' }),
      encodeMessage({ type: 'ping', seq: 1, target: 'n1' }),
    ];
    for (let i = 0; i < 200; i++) await send(seal(keyB, BigInt(i + 1), hostile[i % hostile.length]!));
    await sleep(1000);
    expect(acks).toHaveLength(0); // not even the ping got an answer
    const after = (await status(IP.n1))!;
    expect(after.security!.packetDrops.auth - before.auth).toBeGreaterThanOrEqual(200);
    expect(after.members.map((m) => m.name)).not.toContain('intruder');
    expect(after.members.filter((m) => m.swimState === 'alive').map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);

    // Control: the same ping sealed with the cluster key is answered, so the packets above were
    // well formed and were refused for their key alone.
    await send(seal(keyA, 1000n, encodeMessage({ type: 'ping', seq: 7, target: 'n1' })));
    await waitFor('an ack to the control ping', async () => acks.length > 0, 3000, 50);
  });

  it('a member restarted with another key stays out and drops the packets the cluster sends it', async () => {
    await h.stop(nodes.n3!);
    // Same name and address, another key and a fresh data directory (so no saved keyring).
    nodes.n3 = h.start('n3', IP.n3, { keyFile: fileB, data: `${h.dir}/data-n3-b`, join: [`${IP.n1}:9999`, `${IP.n2}:9999`] });
    await waitFor('n3 (key B) to serve /status', () => status(IP.n3), 15_000);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      for (const ip of [IP.n1, IP.n2]) {
        const s = await status(ip);
        expect(s?.members.find((m) => m.name === 'n3')?.swimState).not.toBe('alive');
      }
      const own = await status(IP.n3);
      expect(own?.members.map((m) => m.name)).toEqual(['n3']);
      await sleep(300);
    }
    // n1 and n2 still gossip to n3's address for a while after it left (gossip to the dead), and
    // n3 cannot open any of it.
    const own = (await status(IP.n3))!;
    expect(own.security!.packetDrops.total + own.security!.tlsHandshakeFailures.auth).toBeGreaterThan(0);
  });
});
