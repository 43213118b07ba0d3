// Seeded generators of realistic inputs for the micro-benchmarks: member names and addresses as
// a cluster has them, gossip facts with metadata, episodes shaped like the quorum-writes load
// (task, outcome, a note, tags), documents of many episodes written by a few nodes, routing
// candidates. Every stream comes from src/sim's sfc32 PRNG under a fixed label, so each run
// measures the same bytes.
import * as Y from 'yjs';
import { AgentMemoryDoc, type NewEpisode } from '../../crdt/index.js';
import type { Alive, GossipMessage, Suspect } from '../../gossip/messages.js';
import { createPrng, hexString, type Prng } from '../../src/sim/prng.js';
import type { Candidate } from '../../src/tasks/candidates.js';

export const SEED = 20;

/** The stream for one generator; the label keeps generators independent of each other. */
export function rngFor(label: string): Prng {
  return createPrng(`micro/${SEED}/${label}`);
}

export function memberName(rng: Prng): string {
  return `node-${hexString(rng, 8)}`;
}

/** An address in the project's test namespace range (10.213.0.0/16), as members advertise them. */
export function memberAddress(rng: Prng): string {
  return `10.213.${rng.int(256)}.${1 + rng.int(254)}:9999`;
}

/** Member metadata as nodes gossip it (role, lifecycle, slots, config word): about 40-70 bytes. */
export function memberMeta(rng: Prng): Uint8Array {
  const bytes = new Uint8Array(40 + rng.int(31));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes;
}

export function aliveFact(rng: Prng, name = memberName(rng)): Alive {
  return { type: 'alive', incarnation: 1 + rng.int(50), name, address: memberAddress(rng), meta: memberMeta(rng) };
}

export function suspectFact(rng: Prng, name: string, from: string): Suspect {
  return { type: 'suspect', incarnation: 1 + rng.int(50), name, from };
}

/** A mix of the facts a forming or churning cluster gossips: mostly alive, some suspect and dead. */
export function gossipFacts(rng: Prng, count: number): GossipMessage[] {
  const names = Array.from({ length: Math.max(2, count) }, () => memberName(rng));
  return Array.from({ length: count }, (_, i): GossipMessage => {
    const roll = rng.next();
    if (roll < 0.75) return aliveFact(rng, names[i]);
    if (roll < 0.9) return suspectFact(rng, names[i]!, names[(i + 1) % names.length]!);
    return { type: 'dead', incarnation: 1 + rng.int(50), name: names[i]!, from: names[(i + 2) % names.length]! };
  });
}

const TASKS = ['summarise', 'classify', 'translate', 'extract', 'plan', 'review', 'search', 'answer'];
const OUTCOMES = ['ok', 'ok', 'ok', 'partial', 'failed'];
const TAGS = ['bench', 'batch', 'user', 'retry', 'slow', 'cached', 'tool'];
const WORDS = ['the', 'agent', 'read', 'wrote', 'three', 'files', 'and', 'found', 'a', 'match', 'in', 'memory', 'after', 'retrying', 'once', 'with', 'more', 'context'];

/** One small episode as agents write them (as quorum-writes does): task, outcome, a short note, tags. */
export function episodeInput(rng: Prng, i: number): NewEpisode {
  const words = 6 + rng.int(14);
  let note = `episode ${i}:`;
  for (let w = 0; w < words; w++) note += ` ${WORDS[rng.int(WORDS.length)]}`;
  const tags = [TAGS[rng.int(TAGS.length)]!];
  if (rng.chance(0.5)) tags.push(TAGS[rng.int(TAGS.length)]!);
  return { task: `${TASKS[rng.int(TASKS.length)]} ${i}`, outcome: OUTCOMES[rng.int(OUTCOMES.length)]!, note, tags: [...new Set(tags)] };
}

export interface EpisodeUpdate {
  docId: string;
  update: Uint8Array;
}

/**
 * `count` episode writes spread over `agents` agents' memory documents, as one writing node
 * produces them: the Yjs v1 update of each, in order (so a replica applying them in turn never
 * waits for a missing one).
 */
export function episodeUpdates(count: number, agents = 64, label = 'episodes'): EpisodeUpdate[] {
  const rng = rngFor(label);
  const random = (): number => rng.next();
  const out: EpisodeUpdate[] = [];
  const mems: AgentMemoryDoc[] = [];
  for (let a = 0; a < agents; a++) {
    const docId = `agent/bench-${a}`;
    const mem = new AgentMemoryDoc({ node: 'w1', random, agentId: docId });
    mem.doc.on('update', (update: Uint8Array) => out.push({ docId, update }));
    mems.push(mem);
  }
  for (let i = 0; i < count; i++) mems[i % agents]!.addEpisode(episodeInput(rng, i), { now: 1_700_000_000_000 + i * 7 });
  return out;
}

/**
 * One agent's memory document holding `episodes` episodes written by `writers` nodes in turn
 * (each its own Yjs client, as when an agent's coordinator moved), plus the update of the last
 * episode alone, for a peer one write behind.
 */
export function memoryDoc(episodes: number, writers = 3, label = `doc-${episodes}`): { doc: Y.Doc; svBeforeLast: Uint8Array } {
  const rng = rngFor(label);
  const random = (): number => rng.next();
  const doc = new Y.Doc({ guid: `agent/${label}` });
  // Each writer has its own replica; every episode is a new key, so a writer's updates depend
  // only on its own earlier ones and merge into `doc` in any interleaving.
  const mems = Array.from({ length: writers }, (_, w) => new AgentMemoryDoc({ node: `n${w + 1}`, random, agentId: `agent/${label}` }));
  let last: Uint8Array | undefined;
  for (const m of mems) m.doc.on('update', (u: Uint8Array) => (last = u));
  let svBeforeLast = Y.encodeStateVector(doc);
  doc.transact(() => {
    for (let i = 0; i < episodes; i++) {
      mems[i % writers]!.addEpisode(episodeInput(rng, i), { now: 1_700_000_000_000 + i * 1_000 });
      if (i === episodes - 1) svBeforeLast = Y.encodeStateVector(doc);
      Y.applyUpdate(doc, last!);
    }
  });
  return { doc, svBeforeLast };
}

/** Routing candidates as a coordinator sees its members: slots, load, measured RTTs (some not yet). */
export function candidates(count: number, label = `candidates-${count}`): Candidate[] {
  const rng = rngFor(label);
  return Array.from({ length: count }, (_, i): Candidate => {
    const slots = 8 + rng.int(25);
    const inFlight = rng.int(slots);
    return {
      name: `node-${String(i).padStart(4, '0')}`,
      local: i === 0,
      slots,
      freeSlots: Math.max(0, slots - inFlight - rng.int(3)),
      inFlight,
      rttMs: i === 0 ? null : rng.chance(0.9) ? 0.2 + rng.next() * 4 : null,
      throughputBytesPerSec: rng.chance(0.6) ? 1e7 + rng.next() * 1e8 : null,
      state: rng.chance(0.95) ? 'ACTIVE' : 'SYNCING',
    };
  });
}
