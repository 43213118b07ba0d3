// Gossip packet sealing with the cluster keyring (AES-256-GCM, replay window), and the same
// packet's path with --insecure beside it: what encryption adds per packet on the receive and
// send paths.
import { encodeCompound, encodeMessage, decodePacket, type GossipMessage } from '../../../gossip/messages.js';
import { profile } from '../../../gossip/config.js';
import { Keyring, PacketCrypto, securePackets } from '../../../src/security/index.js';
import type { Address, PacketTransport } from '../../../src/transport/types.js';
import { gossipFacts, memberName, rngFor } from '../gen.js';
import { consume, cycling, type MicroSuite } from '../suite.js';

const LAN = profile('lan');

/** An in-memory link: what one side sends, the other side's handler receives at once. */
function link(address: Address, peer: () => ((from: Address, data: Uint8Array) => void) | undefined): PacketTransport & { handler?: (from: Address, data: Uint8Array) => void } {
  const t: PacketTransport & { handler?: (from: Address, data: Uint8Array) => void } = {
    address,
    send: (_to, data) => peer()?.(address, data),
    onPacket: (h) => (t.handler = h),
    close: async () => undefined,
  };
  return t;
}

export const suite: MicroSuite = {
  name: 'security',
  title: 'gossip packet seal/open with the keyring (AES-256-GCM), beside --insecure',
  build() {
    const rng = rngFor('security');
    const target = memberName(rng);
    const facts = gossipFacts(rng, 256).map(encodeMessage);
    const ping = encodeMessage({ type: 'ping', seq: 7, target } satisfies GossipMessage);
    // Typical packets: a ping with two facts riding along (about 200-300 bytes).
    const packets = Array.from({ length: 64 }, (_, i) => encodeCompound([ping, facts[2 * i]!, facts[2 * i + 1]!]));
    const bytes = Math.round(packets.reduce((a, p) => a + p.length, 0) / packets.length);
    // An installed second key (mid-rotation), as a keyring often holds; seeded like every input.
    const key = (): Uint8Array => Uint8Array.from({ length: 32 }, () => rng.int(256));
    const keyring = new Keyring(key(), [key()]);
    const crypto = new PacketCrypto({ keyring, label: 'bench', version: 1 });
    const header = { senderId: 42n, seq: 1n };
    const sealed = packets.map((p) => crypto.seal(p, header));
    const nextPacket = cycling(packets);
    const nextSealed = cycling(sealed);

    // Two nodes' transports, sealed and plaintext: send on one, receive and decode on the other.
    const clock = { now: () => 1_700_000_000_000 };
    const secureB = link('10.213.0.2:9999', () => undefined);
    const innerA = link('10.213.0.1:9999', () => secureB.handler);
    const a = securePackets(innerA, { keyring, label: 'bench', version: 1, clock, senderId: 1n });
    const b = securePackets(secureB, { keyring, label: 'bench', version: 1, clock, senderId: 2n });
    b.onPacket((_from, data) => consume(decodePacket(data, LAN.maxPacketBytes)));
    const plainB = link('10.213.0.4:9999', () => undefined);
    const plainA = link('10.213.0.3:9999', () => plainB.handler);
    plainB.onPacket((_from, data) => consume(decodePacket(data, LAN.maxPacketBytes)));

    return {
      cases: [
        { name: `seal ${bytes} B packet`, fn: () => consume(crypto.seal(nextPacket(), header)) },
        { name: `open ${bytes} B packet`, fn: () => consume(crypto.open(nextSealed())) },
        { name: `send + receive + decode ${bytes} B, keyring (sealed, replay window)`, fn: () => a.send(secureB.address, nextPacket()) },
        { name: `send + receive + decode ${bytes} B, --insecure (plaintext)`, fn: () => plainA.send(plainB.address, nextPacket()) },
      ],
    };
  },
};
