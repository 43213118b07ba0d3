// Gossip (UDP) packets: encoding one message and a full compound packet, decoding what arrives,
// and the piggyback queue that fills every packet with membership news.
import { BroadcastQueue, type Fact } from '../../../gossip/broadcast-queue.js';
import { profile } from '../../../gossip/config.js';
import { retransmitLimit } from '../../../gossip/math.js';
import { decodePacket, encodeCompound, encodeMessage, type GossipMessage } from '../../../gossip/messages.js';
import { compoundPartCost, packPacket } from '../../../gossip/packer.js';
import { gossipFacts, memberName, rngFor } from '../gen.js';
import { consume, cycling, type MicroSuite } from '../suite.js';

const LAN = profile('lan');
const MEMBERS = 1_000;

/** Parts for one packet: a ping, then encoded facts while they fit the LAN profile's packet size. */
function fullPacketParts(facts: Uint8Array[], ping: Uint8Array): Uint8Array[] {
  const parts = [ping];
  let used = 3 + compoundPartCost(ping);
  for (const f of facts) {
    if (used + compoundPartCost(f) > LAN.maxPacketBytes) break;
    parts.push(f);
    used += compoundPartCost(f);
  }
  return parts;
}

function factOf(m: GossipMessage, bytes: Uint8Array): Fact {
  if (m.type === 'alive') return { kind: 'alive', subject: m.name, bytes };
  if (m.type === 'suspect') return { kind: 'suspect', subject: m.name, from: m.from, bytes };
  if (m.type === 'dead') return { kind: 'dead', subject: m.name, from: m.from, bytes };
  throw new Error(`not a fact: ${m.type}`);
}

export const suite: MicroSuite = {
  name: 'gossip',
  title: 'gossip packets (LAN profile, 1,336-byte packets) and the piggyback queue',
  build() {
    const rng = rngFor('gossip');
    const target = memberName(rng);
    const facts = gossipFacts(rng, 4_096);
    const encodedFacts = facts.map(encodeMessage);
    const pings = Array.from({ length: 256 }, (_, i): GossipMessage => ({ type: 'ping', seq: 1_000 + i, target }));
    const encodedPing = encodeMessage(pings[0]!);
    // Packets as a node under churn sends them: a ping topped up with facts to the size limit.
    const packets = Array.from({ length: 64 }, (_, p) => encodeCompound(fullPacketParts(encodedFacts.slice(p * 11, p * 11 + 40), encodedPing)));
    const fullParts = fullPacketParts(encodedFacts, encodedPing);
    const factCount = fullParts.length - 1;
    const nextFact = cycling(facts);
    const nextPing = cycling(pings);
    const nextPacket = cycling(packets);
    const nextSmall = cycling(packets.map((_, i) => encodeCompound([encodedPing, encodedFacts[i]!, encodedFacts[i + 64]!])));

    // The queue of a node hearing about 1,000 members, each new fact superseding the member's last.
    const queue = new BroadcastQueue();
    const queueFacts = gossipFacts(rngFor('gossip-queue'), MEMBERS).map((m) => factOf(m, encodeMessage(m)));
    for (const f of queueFacts) queue.enqueue(f);
    const nextQueued = cycling(queueFacts);
    const limit = retransmitLimit(LAN.retransmitMult, MEMBERS);

    return {
      cases: [
        { name: 'encode one alive fact', fn: () => consume(encodeMessage(nextFact())) },
        { name: 'encode ping', fn: () => consume(encodeMessage(nextPing())) },
        { name: `encode full compound packet (ping + ${factCount} facts)`, fn: () => consume(encodeCompound(fullParts)) },
        { name: `decode full compound packet (ping + ${factCount} facts)`, fn: () => consume(decodePacket(nextPacket(), LAN.maxPacketBytes)) },
        { name: 'decode small packet (ping + 2 facts)', fn: () => consume(decodePacket(nextSmall(), LAN.maxPacketBytes)) },
        {
          name: `piggyback: enqueue 1 fact + pack 1 packet (${MEMBERS.toLocaleString('en')} members)`,
          fn: () => {
            queue.enqueue(nextQueued());
            consume(packPacket([encodedPing], queue, LAN.maxPacketBytes, limit));
          },
        },
      ],
    };
  },
};
